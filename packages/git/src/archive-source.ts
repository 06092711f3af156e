/**
 * File contents for an unfiltered archive taken from `git archive` (one git process, the floor
 * itself), paired in tree order with a `git ls-tree -r` listing that supplies modes and ids.
 *
 * Only valid when no gitattributes can change what `git archive` emits (`export-ignore`,
 * `export-subst`); the caller checks that first. Any disagreement between the two streams fails
 * loudly rather than producing a different tar.
 */
import { spawn } from 'node:child_process';
import { abortReason } from '@strata/errors';
import { binaryMissing, gitEnv, runGit } from './proc.js';
import type { TreeEntry } from './repository.js';
import { GitError } from './repository.js';
import type { FileWithContent } from './stream.js';
import { normalizeMode, typeOfMode } from './walk.js';

/** Thrown before anything is yielded when the listing shows `git archive` cannot be used. */
export class ArchiveFallback extends Error {}

export interface ArchiveSourceOptions {
  cwd: string;
  gitBinary: string;
  commit: string;
  basePath: string;
  signal?: AbortSignal | undefined;
}

/** What the pairing needs from `ls-tree -r -z`: blob count, gitlinks, and whether any `.gitattributes`. */
interface ListingSummary {
  blobs: number;
  /** Gitlinks with the number of blobs listed before each. */
  gitlinks: { entry: TreeEntry; blobsBefore: number }[];
  hasAttributes: boolean;
}

const ATTRIBUTES = Buffer.from('.gitattributes');

function summarizeListing(stdout: Buffer): ListingSummary {
  const summary: ListingSummary = { blobs: 0, gitlinks: [], hasAttributes: false };
  let i = 0;
  while (i < stdout.length) {
    const tab = stdout.indexOf(9, i);
    const nul = stdout.indexOf(0, tab);
    const nameStart = nul - ATTRIBUTES.length;
    if (nameStart > tab && (nameStart === tab + 1 || stdout[nameStart - 1] === 47) && stdout.compare(ATTRIBUTES, 0, ATTRIBUTES.length, nameStart, nul) === 0) {
      summary.hasAttributes = true;
    }
    // Modes are `100644`, `100755`, `120000` (blobs), `160000` (gitlink); trees are not listed with -r.
    if (stdout[i] === 49 && stdout[i + 1] === 54) {
      const mode = normalizeMode(stdout.toString('latin1', i, i + 6));
      summary.gitlinks.push({
        entry: { path: stdout.toString('utf8', tab + 1, nul), mode, type: typeOfMode(mode), objectId: stdout.toString('latin1', tab - 40, tab) },
        blobsBefore: summary.blobs,
      });
    } else {
      summary.blobs += 1;
    }
    i = nul + 1;
  }
  return summary;
}

/** Eagerly buffers a readable's chunks (pausing above 8 MiB) for a pull-style consumer. */
function chunkQueue(readable: NodeJS.ReadableStream & { isPaused(): boolean }): { next(): Promise<Buffer | undefined> } {
  const queue: Buffer[] = [];
  let bytes = 0;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  readable.on('data', (c: Buffer) => {
    queue.push(c);
    bytes += c.length;
    if (bytes > 8 << 20) readable.pause();
    notify();
  });
  const end = (): void => {
    ended = true;
    notify();
  };
  readable.on('end', end);
  readable.on('close', end);
  readable.on('error', end);
  return {
    async next(): Promise<Buffer | undefined> {
      for (;;) {
        const c = queue.shift();
        if (c !== undefined) {
          bytes -= c.length;
          if (readable.isPaused() && bytes < 2 << 20) readable.resume();
          return c;
        }
        if (ended) return undefined;
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
  };
}

function parsePax(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let i = 0;
  while (i < body.length) {
    const sp = body.indexOf(32, i);
    if (sp < 0) break;
    const len = Number(body.toString('latin1', i, sp));
    if (!(len > 0)) break;
    const rec = body.toString('utf8', sp + 1, i + len - 1);
    const eq = rec.indexOf('=');
    if (eq > 0) records.set(rec.slice(0, eq), rec.slice(eq + 1));
    i += len;
  }
  return records;
}

/** An octal number field (digits until NUL or space). */
function octalAt(buf: Buffer, from: number, length: number): number {
  let n = 0;
  for (let k = from; k < from + length; k++) {
    const c = buf[k]!;
    if (c < 48 || c > 55) {
      if (c === 0 || c === 32) {
        if (n > 0) break;
        continue;
      }
      break;
    }
    n = n * 8 + (c - 48);
  }
  return n;
}

function cString(buf: Buffer, from: number, length: number): string {
  const end = buf.indexOf(0, from);
  return buf.toString('utf8', from, end < 0 || end > from + length ? from + length : end);
}

export async function* streamFromGitArchive(options: ArchiveSourceOptions): AsyncGenerator<FileWithContent[]> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const pathspec = options.basePath === '' ? [] : ['--', `:(literal)${options.basePath}/`];
  const child = spawn(options.gitBinary, ['-c', 'tar.umask=0022', 'archive', '--format=tar', options.commit, ...pathspec], {
    cwd: options.cwd,
    env: gitEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Read from the start (while the listing is awaited), bounded by a high-water mark.
  const chunks = chunkQueue(child.stdout);
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  let spawnError: Error | undefined;
  child.on('error', (e: NodeJS.ErrnoException) => (spawnError = e.code === 'ENOENT' ? binaryMissing(options.gitBinary, e) : e));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  const onAbort = (): void => {
    child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const listingRun = runGit(['ls-tree', '-r', '-z', '--full-tree', options.commit, ...pathspec], {
      cwd: options.cwd,
      gitBinary: options.gitBinary,
      signal,
    });
    const listing = summarizeListing((await listingRun).stdout);
    // gitattributes inside the subtree may export-ignore or export-subst files: use raw blobs instead.
    if (listing.hasAttributes) throw new ArchiveFallback('git archive cannot be used here');
    const mismatch = (what: string): GitError =>
      new GitError('GIT_COMMAND_FAILED', `git archive and git ls-tree disagree at ${what} (${options.commit}:${options.basePath})`);
    let blobs = 0;
    let gitlink = 0;

    let left: Buffer | undefined;
    let need = 0;
    let size = 0;
    let parts: Buffer[] = [];
    let current: { kind: 'file' | 'pax' | 'skip'; path: string; mode: TreeEntry['mode'] } | undefined;
    let pax: Map<string, string> | undefined;
    const out: FileWithContent[] = [];
    const takeGitlinks = (): void => {
      while (gitlink < listing.gitlinks.length && listing.gitlinks[gitlink]!.blobsBefore === blobs) {
        out.push({ entry: listing.gitlinks[gitlink++]!.entry, content: undefined });
      }
    };
    /** The entry for the next file of the archive (its id is not needed for a tar, so it is not read). */
    const blobFor = (path: string, mode: TreeEntry['mode']): TreeEntry => {
      takeGitlinks();
      blobs += 1;
      if (blobs > listing.blobs) throw mismatch(path);
      return { path, mode, type: 'blob', objectId: '' };
    };

    /** Parses one buffer; returns the unparsed tail (a partial header) if any. */
    const consume = (buf: Buffer): Buffer | undefined => {
      let i = 0;
      while (i < buf.length) {
        if (current !== undefined) {
          const take = Math.min(need, buf.length - i);
          parts.push(buf.subarray(i, i + take));
          need -= take;
          i += take;
          if (need > 0) continue;
          const whole = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
          const content = whole.subarray(0, size);
          parts = [];
          if (current.kind === 'pax') pax = parsePax(content);
          else if (current.kind === 'file') out.push({ entry: blobFor(current.path, current.mode), content });
          current = undefined;
          continue;
        }
        if (buf.length - i < 512) {
          left = buf.subarray(i);
          break;
        }
        const type = buf[i + 156]!;
        if (type === 0 && buf[i] === 0) {
          i += 512;
          continue;
        }
        size = octalAt(buf, i + 124, 11);
        const prefix = buf[i + 345] === 0 ? '' : cString(buf, i + 345, 155);
        const name = cString(buf, i, 100);
        let path = pax?.get('path') ?? (prefix === '' ? name : `${prefix}/${name}`);
        const linkpath = type === 50 ? (pax?.get('linkpath') ?? cString(buf, i + 157, 100)) : '';
        if (type !== 120 && type !== 103) pax = undefined;
        i += 512;
        const padded = Math.ceil(size / 512) * 512;
        if (type === 120 /* x */ || type === 103 /* g */) {
          if (padded > 0) {
            // A global header (the commit id comment) is not about the next entry.
            current = { kind: type === 120 ? 'pax' : 'skip', path: '', mode: '100644' };
            need = padded;
          }
          continue;
        }
        if (type === 53 /* directory */) continue;
        if (path.endsWith('/')) path = path.slice(0, -1);
        if (type === 50 /* symlink */) {
          out.push({ entry: blobFor(path, '120000'), content: Buffer.from(linkpath, 'utf8') });
          continue;
        }
        if (type !== 48 && type !== 0) throw mismatch(`entry type ${type} for ${path}`);
        // Pinned umask 022 below: the owner execute bit is git's 100755.
        const mode = ((buf[i - 512 + 104]! - 48) & 1) === 1 ? '100755' : '100644';
        if (padded === 0) {
          out.push({ entry: blobFor(path, mode), content: Buffer.alloc(0) });
        } else {
          current = { kind: 'file', path, mode };
          need = padded;
        }
      }
      return undefined;
    };

    for (;;) {
      let value = await chunks.next();
      if (value === undefined) break;
      if (left !== undefined) {
        // Complete the split header block without copying the whole new chunk.
        const missing = 512 - left.length;
        if (value.length < missing) {
          left = Buffer.concat([left, value]);
          continue;
        }
        const block = Buffer.concat([left, value.subarray(0, missing)]);
        left = undefined;
        consume(block);
        value = value.subarray(missing);
      }
      left = consume(value);
      if (out.length > 0) yield out.splice(0, out.length);
    }
    takeGitlinks();
    if (out.length > 0) yield out.splice(0, out.length);
    const code = await exit;
    if (spawnError !== undefined) throw spawnError;
    if (signal?.aborted) throw abortReason(signal);
    if (code !== 0) throw new GitError('GIT_COMMAND_FAILED', `git archive failed with exit code ${code}: ${stderr.trim()}`, { data: { stderr } });
    if (blobs !== listing.blobs || gitlink !== listing.gitlinks.length) throw mismatch(`the end (${blobs} of ${listing.blobs} files)`);
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null) child.kill();
  }
}
