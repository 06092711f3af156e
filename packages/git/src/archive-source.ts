/**
 * Unfiltered tars made from `git archive`'s own output (one git process, the benchmark floor
 * itself): its header blocks are rewritten in place into Strata's deterministic format (owner,
 * group, mtime, modes, checksum) and file contents pass through without a copy. The bytes are
 * exactly what `TarWriter` makes from the listing and the blobs (the isomorphic adapter's route).
 *
 * Only valid when nothing can make `git archive` differ from the raw tree: no gitattributes
 * (`export-ignore`, `export-subst`) and no empty trees (which Strata does not archive, having no
 * file below them). Every tree below it is read (alongside the archive) to check that; global
 * and system attributes are switched off; the caller checks the repository's `info/attributes`.
 * Entries `git archive` encodes differently (long names, non-UTF-8 names or link targets) are
 * re-encoded with `TarWriter`.
 */
import { spawn } from 'node:child_process';
import { isUtf8 } from 'node:buffer';
import { abortReason } from '@strata/errors';
import { binaryMissing, gitEnv } from './proc.js';
import { GitError } from './repository.js';
import { ArchiveFallback, TarWriter, type TarCommon, type TarEntryType } from './tar.js';

export interface GitArchiveTarOptions {
  cwd: string;
  gitBinary: string;
  /** The tree to archive (the base directory's tree id). */
  treeId: string;
  /** Strata's entry name prefix, normalized (no leading or trailing `/`), `""` for none. */
  prefix: string;
  common: TarCommon;
  /** A raw tree object's content; throws when it is missing or not a tree. */
  readTree: (treeId: string) => Promise<Buffer>;
  signal?: AbortSignal | undefined;
}

const BLOCK = 512;
const ATTRIBUTES = Buffer.from('.gitattributes');
/** Yield output once this much is gathered (fewer, larger stream chunks). */
const YIELD_BYTES = 1 << 20;

const EMPTY_TREE_ID = Buffer.from('4b825dc642cb6eb9a060e54bf8d69288fbee4904', 'hex');

/**
 * Scans one raw tree object (`<mode> SP <name> NUL <20-byte id>`…): counts its entries, collects
 * its subtrees, and returns -1 when `git archive` cannot be used (an attributes file, an empty tree).
 */
function scanRawTree(content: Buffer, subtrees: string[]): number {
  let entries = 0;
  let i = 0;
  while (i < content.length) {
    const nul = content.indexOf(0, i);
    if (nul < 0 || nul + 21 > content.length) throw new GitError('GIT_COMMAND_FAILED', 'malformed tree object');
    entries += 1;
    // Modes: 40000 (tree), 100644, 100755, 120000, 160000.
    if (content[i] === 52) {
      if (content.compare(EMPTY_TREE_ID, 0, 20, nul + 1, nul + 21) === 0) return -1;
      subtrees.push(content.toString('hex', nul + 1, nul + 21));
    }
    const nameAt = nul - ATTRIBUTES.length;
    if (nameAt > i && content[nameAt - 1] === 32 && content.indexOf(32, i) === nameAt - 1 && content.compare(ATTRIBUTES, 0, ATTRIBUTES.length, nameAt, nul) === 0) {
      return -1;
    }
    i = nul + 21;
  }
  return entries;
}

/**
 * Whether `git archive` of a tree gives the raw tree, and if so how many entries it archives:
 * reads every tree below it, one level at a time (the reads of a level are concurrent).
 */
async function checkTree(treeId: string, readTree: (id: string) => Promise<Buffer>): Promise<number | undefined> {
  let entries = 0;
  let level = [treeId];
  while (level.length > 0) {
    const next: string[] = [];
    for (const content of await Promise.all(level.map(readTree))) {
      const n = scanRawTree(content, next);
      if (n < 0) return undefined;
      entries += n;
    }
    level = next;
  }
  return entries;
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

function cString(buf: Buffer, from: number, length: number): string {
  const end = buf.indexOf(0, from);
  return buf.toString('utf8', from, end < 0 || end > from + length ? from + length : end);
}

/** The byte sum of a NUL-padded field, or -1 when its bytes are not valid UTF-8. */
function fieldSum(buf: Buffer, from: number, length: number): number {
  let sum = 0;
  let high = 0;
  let k = from;
  const end = from + length;
  for (; k < end; k++) {
    const c = buf[k]!;
    if (c === 0) break;
    sum += c;
    high |= c;
  }
  if (high >= 0x80 && !isUtf8(buf.subarray(from, k))) return -1;
  return sum;
}

/**
 * Rewrites `git archive` tar output into Strata's format, chunk by chunk. Header blocks are
 * patched in place inside git's own chunks, so the output is mostly those chunks themselves.
 */
class GitTarRewriter {
  private readonly writer: TarWriter;
  private readonly fileTemplates: [{ block: Buffer; sum: number }, { block: Buffer; sum: number }];
  private readonly dirTemplate: { block: Buffer; sum: number };
  private readonly linkTemplate: { block: Buffer; sum: number };
  /** Bytes to drop (PAX bodies, the prefix directory) and content bytes to pass through. */
  private skip = 0;
  private pass = 0;
  private paxParts: Buffer[] | undefined;
  private pax: Map<string, string> | undefined;
  /** A header block split across chunks. */
  private partial: Buffer | undefined;
  private dropPrefixDir: boolean;
  ended = false;
  entries = 0;
  out: Buffer[] = [];
  outBytes = 0;

  constructor(
    common: TarCommon,
    private readonly prefix: string,
  ) {
    this.writer = new TarWriter(common);
    this.fileTemplates = [this.writer.headerTemplate('file', 0o644), this.writer.headerTemplate('file', 0o755)];
    this.dirTemplate = this.writer.headerTemplate('directory', 0o755);
    this.linkTemplate = this.writer.headerTemplate('symlink', 0o777);
    this.dropPrefixDir = prefix !== '';
  }

  private emit(buf: Buffer, from: number, to: number): void {
    if (to > from) {
      this.out.push(from === 0 && to === buf.length ? buf : buf.subarray(from, to));
      this.outBytes += to - from;
    }
  }

  private emitWriter(): void {
    for (const b of this.writer.take(0)) {
      this.out.push(b);
      this.outBytes += b.length;
    }
  }

  /** Takes the output gathered so far. */
  take(): Buffer[] {
    const out = this.out;
    this.out = [];
    this.outBytes = 0;
    return out;
  }

  feed(chunk: Buffer): void {
    let buf = chunk;
    if (this.partial !== undefined) {
      const missing = BLOCK - this.partial.length;
      if (buf.length < missing) {
        this.partial = Buffer.concat([this.partial, buf]);
        return;
      }
      const block = Buffer.concat([this.partial, buf.subarray(0, missing)]);
      this.partial = undefined;
      this.consume(block);
      buf = buf.subarray(missing);
    }
    this.consume(buf);
  }

  /** Parses and rewrites one buffer, appending its output. */
  private consume(buf: Buffer): void {
    let i = 0;
    let seg = 0;
    const len = buf.length;
    while (i < len) {
      if (this.pass > 0) {
        const n = Math.min(this.pass, len - i);
        this.pass -= n;
        i += n;
        continue;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, len - i);
        this.emit(buf, seg, i);
        this.paxParts?.push(buf.subarray(i, i + n));
        this.skip -= n;
        i += n;
        seg = i;
        if (this.skip === 0 && this.paxParts !== undefined) {
          this.pax = parsePax(Buffer.concat(this.paxParts));
          this.paxParts = undefined;
        }
        continue;
      }
      if (this.ended) {
        // git pads its end-of-archive blocks to a 10 KiB record; Strata writes two blocks.
        this.emit(buf, seg, i);
        seg = i = len;
        break;
      }
      if (len - i < BLOCK) {
        this.emit(buf, seg, i);
        this.partial = Buffer.from(buf.subarray(i));
        seg = i = len;
        break;
      }
      const type = buf[i + 156]!;
      if (type === 0 && buf[i] === 0) {
        this.emit(buf, seg, i);
        this.ended = true;
        seg = i = len;
        break;
      }
      if (type === 120 /* x */ || type === 103 /* g: the commit id comment */) {
        this.emit(buf, seg, i);
        const padded = Math.ceil(octal(buf, i + 124) / BLOCK) * BLOCK;
        i += BLOCK;
        seg = i;
        this.skip = padded;
        if (type === 120) this.paxParts = [];
        continue;
      }
      if (this.dropPrefixDir) {
        // `--prefix` adds one directory entry for the prefix itself; Strata has none.
        this.dropPrefixDir = false;
        const path = this.pax?.get('path') ?? (buf[i + 345] === 0 ? cString(buf, i, 100) : `${cString(buf, i + 345, 155)}/${cString(buf, i, 100)}`);
        this.pax = undefined;
        if (type !== 53 || path !== `${this.prefix}/`) {
          throw new GitError('GIT_COMMAND_FAILED', `git archive --prefix did not start with the prefix directory "${this.prefix}/"`);
        }
        this.emit(buf, seg, i);
        i += BLOCK;
        seg = i;
        continue;
      }
      this.entries += 1;
      const size = this.pax?.has('size') === true ? Number(this.pax.get('size')) : octal(buf, i + 124);
      if (this.pax === undefined && buf[i + 345] === 0 && this.rewriteInPlace(buf, i, type, size)) {
        i += BLOCK;
      } else {
        this.emit(buf, seg, i);
        this.reencode(buf, i, type, size);
        i += BLOCK;
        seg = i;
      }
      this.pass = type === 48 || type === 0 ? Math.ceil(size / BLOCK) * BLOCK : 0;
    }
    this.emit(buf, seg, i);
  }

  /** Strata's header over git's for a short, UTF-8 name; false when it must be re-encoded. */
  private rewriteInPlace(buf: Buffer, at: number, type: number, size: number): boolean {
    let t: { block: Buffer; sum: number };
    let link: Buffer | undefined;
    if (type === 48 || type === 0) {
      // Pinned umask 022: git writes 0755 or 0644.
      t = this.fileTemplates[(buf[at + 104]! - 48) & 1]!;
    } else if (type === 53) {
      t = this.dirTemplate;
    } else if (type === 50) {
      t = this.linkTemplate;
      link = Buffer.from(buf.subarray(at + 157, at + 257));
    } else {
      return false;
    }
    const nameSum = fieldSum(buf, at, 100);
    if (nameSum < 0) return false;
    let sum = t.sum + nameSum;
    if (link !== undefined) {
      const linkSum = fieldSum(link, 0, 100);
      if (linkSum < 0) return false;
      sum += linkSum;
    }
    t.block.copy(buf, at + 100, 100, BLOCK);
    if (link !== undefined) link.copy(buf, at + 157);
    // 11 octal digits, written backwards; the template holds zeros ("0" = 48) there.
    let v = size;
    for (let k = at + 134; k >= at + 124 && v > 0; k--) {
      const d = v % 8;
      buf[k] = 48 + d;
      sum += d;
      v = Math.floor(v / 8);
    }
    // Six octal digits, NUL, space (the template has eight spaces there).
    buf[at + 154] = 0;
    for (let k = at + 153; k >= at + 148; k--) {
      buf[k] = 48 + (sum % 8);
      sum = Math.floor(sum / 8);
    }
    return true;
  }

  /** An entry git encoded with a PAX header or a ustar prefix: written anew by `TarWriter`. */
  private reencode(buf: Buffer, at: number, type: number, size: number): void {
    const pax = this.pax;
    this.pax = undefined;
    const prefix = buf[at + 345] === 0 ? '' : cString(buf, at + 345, 155);
    const name = cString(buf, at, 100);
    let path = pax?.get('path') ?? (prefix === '' ? name : `${prefix}/${name}`);
    if (path.endsWith('/')) path = path.slice(0, -1);
    let kind: TarEntryType;
    let mode: number;
    let linkname = '';
    if (type === 48 || type === 0) {
      kind = 'file';
      mode = (buf[at + 104]! - 48) & 1 ? 0o755 : 0o644;
    } else if (type === 53) {
      kind = 'directory';
      mode = 0o755;
      path += '/';
    } else if (type === 50) {
      kind = 'symlink';
      mode = 0o777;
      linkname = pax?.get('linkpath') ?? cString(buf, at + 157, 100);
    } else {
      throw new GitError('GIT_COMMAND_FAILED', `git archive wrote an entry of type ${type} for ${path}`);
    }
    this.writer.addHeader(kind, path, mode, kind === 'file' ? size : 0, linkname);
    this.emitWriter();
  }

  /** The end-of-archive blocks. */
  finish(): void {
    for (const b of this.writer.finish()) {
      this.out.push(b);
      this.outBytes += b.length;
    }
  }
}

/** An octal number field of 12 bytes (digits until NUL or space). */
function octal(buf: Buffer, from: number): number {
  let n = 0;
  for (let k = from; k < from + 12; k++) {
    const c = buf[k]!;
    if (c < 48 || c > 55) {
      if ((c === 32 || c === 0) && n === 0) continue;
      break;
    }
    n = n * 8 + (c - 48);
  }
  return n;
}

/**
 * The tar of a tree, in output chunks. Throws `ArchiveFallback` before yielding anything when
 * `git archive` cannot be used for it.
 */
export async function* tarFromGitArchive(options: GitArchiveTarOptions): AsyncGenerator<Buffer[]> {
  const { signal } = options;
  if (signal?.aborted) throw abortReason(signal);
  const prefixArgs = options.prefix === '' ? [] : [`--prefix=${options.prefix}/`];
  // A tree (not a commit) has no attributes from above it and no commit id header. Global and
  // system attributes are switched off, and so is end-of-line conversion (which applies
  // without attributes under core.autocrlf).
  const config = ['-c', 'tar.umask=0022', '-c', 'core.attributesFile=/dev/null', '-c', 'core.autocrlf=false'];
  const child = spawn(options.gitBinary, [...config, 'archive', '--format=tar', ...prefixArgs, options.treeId], {
    cwd: options.cwd,
    env: { ...gitEnv(), GIT_ATTR_NOSYSTEM: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rewriter = new GitTarRewriter(options.common, options.prefix);
  // git's output is read eagerly and rewritten as it arrives (until the listing is checked it
  // is only queued); rewritten output waits for the consumer, git pausing above 8 MiB of it.
  let raw: Buffer[] | undefined = [];
  let failure: Error | undefined;
  let ended = false;
  let wake: (() => void) | undefined;
  const notify = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const fail = (e: Error): void => {
    failure ??= e;
    child.kill('SIGKILL');
    notify();
  };
  const feed = (chunk: Buffer): void => {
    try {
      rewriter.feed(chunk);
    } catch (e) {
      fail(e as Error);
    }
  };
  child.stdout.on('data', (chunk: Buffer) => {
    if (raw !== undefined) {
      raw.push(chunk);
      if (raw.length === 512) child.stdout.pause();
      return;
    }
    feed(chunk);
    if (rewriter.outBytes > 8 << 20) child.stdout.pause();
    if (rewriter.outBytes >= YIELD_BYTES) notify();
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString('utf8')));
  child.on('error', (e: NodeJS.ErrnoException) => fail(e.code === 'ENOENT' ? binaryMissing(options.gitBinary, e) : e));
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  child.stdout.on('end', () => {
    ended = true;
    notify();
  });
  const onAbort = (): void => fail(abortReason(signal!));
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const entries = await checkTree(options.treeId, options.readTree);
    if (entries === undefined) throw new ArchiveFallback('git archive cannot be used here');
    for (const chunk of raw) feed(chunk);
    raw = undefined;
    child.stdout.resume();
    for (;;) {
      if (failure !== undefined) throw failure;
      if (rewriter.outBytes >= YIELD_BYTES || (ended && rewriter.outBytes > 0)) {
        yield rewriter.take();
        if (child.stdout.isPaused()) child.stdout.resume();
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => (wake = resolve));
    }
    const code = await exit;
    // Set by event handlers while this generator was suspended; TS cannot see that.
    const late = failure as Error | undefined;
    if (late !== undefined) throw late;
    if (code !== 0) throw new GitError('GIT_COMMAND_FAILED', `git archive failed with exit code ${code}: ${stderr.trim()}`, { data: { stderr } });
    if (!rewriter.ended || rewriter.entries !== entries) {
      throw new GitError('GIT_COMMAND_FAILED', `git archive of ${options.treeId} has ${rewriter.entries} entries, its trees list ${entries}`);
    }
    rewriter.finish();
    yield rewriter.take();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (child.exitCode === null) child.kill();
  }
}
