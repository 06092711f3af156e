/**
 * Running the `git` binary: one-shot commands and a long-lived `git cat-file --batch` process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { abortReason } from '@strata/errors';
import { GitError } from './repository.js';

export interface RunOptions {
  cwd: string;
  gitBinary: string;
  signal?: AbortSignal | undefined;
  /** Exit codes that are answers, not failures (e.g. 1 for `merge-base --is-ancestor`). */
  okCodes?: readonly number[];
  /** Receives stdout chunks instead of buffering them. */
  onStdout?: (chunk: Buffer) => void;
}

export interface RunResult {
  code: number;
  stdout: Buffer;
  stderr: string;
}

/** Environment for every git process: no prompts, stable output, no pager. */
export function gitEnv(): NodeJS.ProcessEnv {
  return { ...process.env, GIT_TERMINAL_PROMPT: '0', LC_ALL: 'C', GIT_PAGER: 'cat', GIT_OPTIONAL_LOCKS: '0' };
}

export function binaryMissing(gitBinary: string, cause: unknown): GitError {
  return new GitError('GIT_BINARY_MISSING', `the git binary "${gitBinary}" was not found`, {
    hint: 'Install git (apt-get install git), pass its path as `gitBinary`, or use IsomorphicGitRepository where no git binary is available.',
    data: { command: [gitBinary] },
    cause,
  });
}

/** Runs `git args…`; rejects with `GIT_COMMAND_FAILED` on an exit code not in `okCodes` (default `[0]`). */
export function runGit(args: readonly string[], options: RunOptions): Promise<RunResult> {
  const { signal } = options;
  if (signal?.aborted) return Promise.reject(abortReason(signal));
  return new Promise<RunResult>((resolve, reject) => {
    const child = spawn(options.gitBinary, args, { cwd: options.cwd, env: gitEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let settled = false;
    const onAbort = (): void => {
      child.kill('SIGKILL');
      if (!settled) {
        settled = true;
        reject(abortReason(signal!));
      }
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (c: Buffer) => (options.onStdout ? options.onStdout(c) : out.push(c)));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', (e: NodeJS.ErrnoException) => {
      signal?.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      reject(e.code === 'ENOENT' ? binaryMissing(options.gitBinary, e) : e);
    });
    child.on('close', (code) => {
      signal?.removeEventListener('abort', onAbort);
      if (settled) return;
      settled = true;
      const stderr = Buffer.concat(err).toString('utf8');
      const exit = code ?? -1;
      if (!(options.okCodes ?? [0]).includes(exit)) {
        reject(
          new GitError('GIT_COMMAND_FAILED', `git ${args.join(' ')} failed with exit code ${exit}: ${stderr.trim()}`, {
            data: { command: ['git', ...args], stderr, repository: options.cwd },
          }),
        );
        return;
      }
      resolve({ code: exit, stdout: Buffer.concat(out), stderr });
    });
  });
}

/** One object read through `cat-file --batch`; `undefined` when missing or ambiguous. */
export interface BatchObject {
  oid: string;
  type: string;
  content: Buffer;
}

interface Pending {
  resolve: (value: BatchObject | undefined) => void;
  reject: (error: unknown) => void;
}

/**
 * A long-lived `git cat-file --batch`. Requests are pipelined: each `read` writes one line and the
 * answers come back in request order. Object content is whatever `cat-file` prints (raw trees,
 * commits, blobs). Restarted lazily after {@link close} or a crash.
 */
export class CatFileBatch {
  private child: ChildProcessWithoutNullStreams | undefined;
  private pending: Pending[] = [];
  private chunks: Buffer[] = [];
  private buffered = 0;
  private need: { header: string; size: number } | undefined;

  constructor(
    private readonly cwd: string,
    private readonly gitBinary: string,
  ) {}

  read(spec: string): Promise<BatchObject | undefined> {
    if (spec.includes('\n')) return Promise.resolve(undefined);
    this.start();
    return new Promise<BatchObject | undefined>((resolve, reject) => {
      if (this.pending.length === 0) this.setRef(true);
      this.pending.push({ resolve, reject });
      // Requests made in one turn of the event loop (many images looking up at once) go out in one
      // write: a pipe write is a system call each.
      this.outbox.push(spec);
      if (this.outbox.length === 1) queueMicrotask(() => this.flush());
    });
  }

  private outbox: string[] = [];

  /** Writes the queued requests to the current process (`fail` drops the queue with the requests it rejects). */
  private flush(): void {
    const lines = this.outbox;
    this.outbox = [];
    if (lines.length > 0 && this.child) this.child.stdin.write(`${lines.join('\n')}\n`);
  }

  close(): void {
    const child = this.child;
    this.child = undefined;
    if (child) {
      child.stdin.end();
      child.kill();
    }
    this.fail(new GitError('GIT_COMMAND_FAILED', 'git cat-file --batch was closed'));
  }

  private start(): ChildProcessWithoutNullStreams {
    if (this.child) return this.child;
    const child = spawn(this.gitBinary, ['cat-file', '--batch'], { cwd: this.cwd, env: gitEnv() });
    this.child = child;
    this.chunks = [];
    this.buffered = 0;
    this.need = undefined;
    // Output of a process replaced after `close` (still in the pipe) must never reach its successor's parser.
    child.stdout.on('data', (c: Buffer) => {
      if (this.child === child) this.onData(c);
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
    child.stdin.on('error', () => undefined);
    // Only the current process's end fails the pending reads: a process replaced after `close` had its
    // reads rejected then, and the reads now pending belong to its successor.
    child.on('error', (e: NodeJS.ErrnoException) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.fail(e.code === 'ENOENT' ? binaryMissing(this.gitBinary, e) : e);
    });
    child.on('close', (code) => {
      if (this.child !== child) return;
      this.child = undefined;
      this.fail(
        new GitError('GIT_COMMAND_FAILED', `git cat-file --batch exited with code ${code}: ${stderr.trim()}`, {
          data: { command: ['git', 'cat-file', '--batch'], stderr, repository: this.cwd },
        }),
      );
    });
    this.refd = true;
    this.setRef(false);
    return child;
  }

  private refd = false;
  /** An idle process must not keep the event loop alive; one with requests in flight must. */
  private setRef(on: boolean): void {
    const child = this.child;
    if (!child || this.refd === on) return;
    this.refd = on;
    type Refable = { ref?: () => void; unref?: () => void };
    for (const h of [child, child.stdout, child.stderr, child.stdin] as unknown as Refable[]) {
      if (on) h.ref?.();
      else h.unref?.();
    }
  }

  private fail(error: unknown): void {
    const pending = this.pending;
    this.pending = [];
    this.outbox = [];
    this.setRef(false);
    for (const p of pending) p.reject(error);
  }

  private take(n: number): Buffer {
    const all = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    this.chunks = rest.length > 0 ? [rest] : [];
    this.buffered = rest.length;
    return head;
  }

  private onData(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.need === undefined) {
        const nl = this.indexOfNewline();
        if (nl < 0) return;
        const line = this.take(nl + 1).toString('utf8', 0, nl);
        const parts = line.split(' ');
        if (parts.length === 3 && /^\d+$/.test(parts[2]!)) {
          this.need = { header: line, size: Number(parts[2]) };
        } else {
          // `<spec> missing`, `<spec> ambiguous`
          this.settle()?.resolve(undefined);
          continue;
        }
      }
      const need = this.need;
      if (this.buffered < need.size + 1) return;
      const content = Buffer.from(this.take(need.size + 1).subarray(0, need.size));
      this.need = undefined;
      const [oid, type] = need.header.split(' ');
      this.settle()?.resolve({ oid: oid!, type: type!, content });
    }
  }

  private settle(): Pending | undefined {
    const p = this.pending.shift();
    if (this.pending.length === 0) this.setRef(false);
    return p;
  }

  private indexOfNewline(): number {
    let offset = 0;
    for (const c of this.chunks) {
      const i = c.indexOf(10);
      if (i >= 0) return offset + i;
      offset += c.length;
    }
    return -1;
  }
}
