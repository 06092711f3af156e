/**
 * Streams every file below a directory at a commit together with its content, overlapping
 * `git ls-tree -r` (listing) with `git cat-file --batch --buffer` (contents): object ids go to
 * cat-file as soon as ls-tree prints them. Used by the native adapter for unfiltered archives.
 */
import { spawn } from 'node:child_process';
import { abortReason } from '@strata/errors';
import { binaryMissing, gitEnv } from './proc.js';
import type { TreeEntry } from './repository.js';
import { GitError } from './repository.js';
import { normalizeMode, typeOfMode } from './walk.js';

export interface FileWithContent {
  entry: TreeEntry;
  /** Blob content; `undefined` for gitlinks. */
  content: Buffer | undefined;
}

/** Incremental parser of `cat-file --batch` output: feed chunks, get whole object contents. */
export class BatchOutputParser {
  private leftover: Buffer | undefined;
  private need = -1;
  private size = 0;
  private parts: Buffer[] = [];

  /** Returns the objects completed by `raw`; throws on a `missing` answer. */
  feed(raw: Buffer): Buffer[] {
    const chunk: Buffer = this.leftover ? Buffer.concat([this.leftover, raw]) : raw;
    this.leftover = undefined;
    const ready: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.need < 0) {
        const nl = chunk.indexOf(10, i);
        if (nl < 0) {
          this.leftover = chunk.subarray(i);
          break;
        }
        const sp = chunk.lastIndexOf(32, nl);
        const last = chunk.toString('latin1', sp + 1, nl);
        if (!/^\d+$/.test(last)) throw new GitError('GIT_COMMAND_FAILED', `git cat-file: ${chunk.toString('latin1', i, nl)}`);
        this.size = Number(last);
        this.need = this.size + 1;
        this.parts = [];
        i = nl + 1;
      }
      const take = Math.min(this.need, chunk.length - i);
      this.parts.push(chunk.subarray(i, i + take));
      this.need -= take;
      i += take;
      if (this.need === 0) {
        const whole = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts);
        ready.push(whole.subarray(0, this.size));
        this.need = -1;
      }
    }
    return ready;
  }
}

export interface StreamOptions {
  cwd: string;
  gitBinary: string;
  commit: string;
  /** Directory below which to list (`""` for the root). */
  basePath: string;
  signal?: AbortSignal | undefined;
}

export async function* streamTreeFiles(options: StreamOptions): AsyncGenerator<FileWithContent[]> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const lsArgs = ['ls-tree', '-r', '-z', '--full-tree', options.commit];
  if (options.basePath !== '') lsArgs.push('--', `:(literal)${options.basePath}/`);
  const spawnOpts = { cwd: options.cwd, env: gitEnv(), stdio: ['pipe', 'pipe', 'pipe'] as ['pipe', 'pipe', 'pipe'] };
  const cat = spawn(options.gitBinary, ['cat-file', '--batch', '--buffer'], spawnOpts);
  const ls = spawn(options.gitBinary, lsArgs, { ...spawnOpts, stdio: ['ignore', 'pipe', 'pipe'] });

  const queue: FileWithContent[][] = [];
  let queuedBytes = 0;
  let failure: Error | undefined;
  let finished = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (e: Error): void => {
    failure ??= e;
    ls.kill();
    cat.kill();
    notify();
  };
  const onAbort = (): void => fail(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });

  let lsErr = '';
  let catErr = '';
  ls.stderr.on('data', (c: Buffer) => (lsErr += c.toString('utf8')));
  cat.stderr.on('data', (c: Buffer) => (catErr += c.toString('utf8')));
  for (const child of [ls, cat]) {
    child.on('error', (e: NodeJS.ErrnoException) => fail(e.code === 'ENOENT' ? binaryMissing(options.gitBinary, e) : e));
  }
  cat.stdin.on('error', () => undefined);

  // Entries listed but not yet paired with content, in tree order.
  const pending: TreeEntry[] = [];
  let head = 0;
  let blobsRequested = 0;
  let blobsReceived = 0;
  let lsLeft: Buffer | undefined;
  ls.stdout.on('data', (raw: Buffer) => {
    const buf: Buffer = lsLeft ? Buffer.concat([lsLeft, raw]) : raw;
    lsLeft = undefined;
    let i = 0;
    let lines = '';
    for (;;) {
      const nul = buf.indexOf(0, i);
      if (nul < 0) {
        if (i < buf.length) lsLeft = buf.subarray(i);
        break;
      }
      const tab = buf.indexOf(9, i);
      const sp = buf.indexOf(32, i);
      const mode = normalizeMode(buf.toString('latin1', i, sp));
      const objectId = buf.toString('latin1', tab - 40, tab);
      const entry: TreeEntry = { path: buf.toString('utf8', tab + 1, nul), mode, type: typeOfMode(mode), objectId };
      pending.push(entry);
      if (entry.type === 'blob') {
        lines += `${objectId}\n`;
        blobsRequested += 1;
      }
      i = nul + 1;
    }
    if (lines !== '') cat.stdin.write(lines);
  });
  ls.on('close', (code) => {
    if (code !== 0 && failure === undefined) {
      fail(new GitError('GIT_COMMAND_FAILED', `git ${lsArgs.join(' ')} failed with exit code ${code}: ${lsErr.trim()}`, { data: { stderr: lsErr } }));
      return;
    }
    cat.stdin.end();
  });

  const parser = new BatchOutputParser();
  const takeLeadingNonBlobs = (out: FileWithContent[]): void => {
    while (head < pending.length && pending[head]!.type !== 'blob') out.push({ entry: pending[head++]!, content: undefined });
  };
  cat.stdout.on('data', (raw: Buffer) => {
    if (failure !== undefined) return;
    let blobs: Buffer[];
    try {
      blobs = parser.feed(raw);
    } catch (e) {
      fail(e as Error);
      return;
    }
    if (blobs.length === 0) return;
    const out: FileWithContent[] = [];
    for (const content of blobs) {
      takeLeadingNonBlobs(out);
      out.push({ entry: pending[head++]!, content });
      blobsReceived += 1;
      queuedBytes += content.length;
    }
    if (head > 4096) {
      pending.splice(0, head);
      head = 0;
    }
    queue.push(out);
    if (queuedBytes > 8 << 20) cat.stdout.pause();
    notify();
  });
  cat.on('close', (code) => {
    if (failure === undefined && code !== 0 && code !== null) {
      fail(new GitError('GIT_COMMAND_FAILED', `git cat-file --batch failed with exit code ${code}: ${catErr.trim()}`, { data: { stderr: catErr } }));
      return;
    }
    const out: FileWithContent[] = [];
    takeLeadingNonBlobs(out);
    if (out.length > 0) queue.push(out);
    finished = true;
    notify();
  });

  try {
    for (;;) {
      if (failure !== undefined) throw failure;
      const batch = queue.shift();
      if (batch !== undefined) {
        for (const f of batch) queuedBytes -= f.content?.length ?? 0;
        if (cat.stdout.isPaused() && queuedBytes < 2 << 20) cat.stdout.resume();
        yield batch;
        continue;
      }
      if (finished) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    // Set by event handlers while this generator was suspended; TS cannot see that.
    const late = failure as Error | undefined;
    if (late !== undefined) throw late;
    if (blobsReceived !== blobsRequested || head < pending.length) {
      throw new GitError('GIT_COMMAND_FAILED', `git cat-file returned ${blobsReceived} of ${blobsRequested} blobs: ${catErr.trim()}`);
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (ls.exitCode === null) ls.kill();
    if (cat.exitCode === null) cat.kill();
  }
}
