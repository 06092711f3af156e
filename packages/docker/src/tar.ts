/**
 * Tar streams for the engine's archive endpoints: reading one file out of `getArchive`, re-rooting an
 * import, and packing the files of a git patch.
 */
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { ancestors, createPathSelection, joinTarPath } from './paths.js';

/** A tar header as written: everything but the name optional. */
type TarHeader = Partial<tar.Header> & { name: string };

/** Reads the first regular file of a tar stream; `undefined` when there is none. */
export async function readFirstFile(stream: NodeJS.ReadableStream): Promise<Buffer | undefined> {
  const extract = tar.extract();
  Readable.from(stream as AsyncIterable<Buffer>).pipe(extract);
  let found: Buffer | undefined;
  for await (const entry of extract) {
    const chunks: Buffer[] = [];
    for await (const chunk of entry) chunks.push(chunk as Buffer);
    if (found === undefined && entry.header.type === 'file') found = Buffer.concat(chunks);
  }
  return found;
}

/** Owner ids written on every entry; `undefined` keeps the source's. */
export interface Ownership {
  uid?: number | undefined;
  gid?: number | undefined;
}

export interface RerootOptions extends Ownership {
  /** The source path the engine archived (`/app`); its tar names start with its base name. */
  add: string;
  /** Destination, container-root relative (`srv/app`; `` for the root). */
  to: string;
  includePaths: readonly string[];
  excludePaths: readonly string[];
}

function strip(name: string): string {
  return name.replace(/^\.?\/+/, '').replace(/\/+$/, '');
}

/**
 * Re-roots a `getArchive` tar of `add` at `to`, keeping only the paths the include/exclude globs
 * select (relative to `add`), and sets the owner. Directories are written only when selected or when
 * they lead to a selected path, so an include glob does not drag in empty directory skeletons. Hard
 * link targets are re-rooted too; symlink targets are left as they are.
 */
export function rerootImport(source: NodeJS.ReadableStream, options: RerootOptions): Readable {
  const extract = tar.extract();
  const pack = tar.pack();
  const selection = createPathSelection(options.includePaths, options.excludePaths);
  const addIsRoot = strip(options.add) === '';
  const relativeName = (name: string): string | undefined => {
    const stripped = strip(name);
    if (addIsRoot) return stripped;
    const slash = stripped.indexOf('/');
    return slash === -1 ? '' : stripped.slice(slash + 1);
  };
  const destination = (relative: string): string => joinTarPath(options.to, relative);
  const owner = (header: TarHeader): TarHeader => ({
    ...header,
    uid: options.uid ?? header.uid,
    gid: options.gid ?? header.gid,
    uname: options.uid === undefined ? header.uname : '',
    gname: options.gid === undefined ? header.gname : '',
  });

  const run = async (): Promise<void> => {
    Readable.from(source as AsyncIterable<Buffer>).pipe(extract);
    /** Directory headers seen but not yet written, by relative path. */
    const pending = new Map<string, TarHeader>();
    const written = new Set<string>();
    const write = (header: TarHeader, body?: Buffer): Promise<void> =>
      new Promise((resolve, reject) => {
        pack.entry(header, body ?? Buffer.alloc(0), (error) => (error ? reject(error) : resolve()));
      });
    const flushAncestors = async (relative: string): Promise<void> => {
      for (const dir of ancestors(relative)) {
        const header = pending.get(dir);
        if (header && !written.has(dir)) {
          written.add(dir);
          await write(header);
        }
      }
    };
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const relative = relativeName(entry.header.name);
      if (relative === undefined) continue;
      const header = owner({ ...entry.header, name: destination(relative) });
      if (header.type === 'directory') {
        header.name = `${header.name}/`;
        pending.set(relative, header);
        if (relative === '' || selection.keeps(relative)) {
          await flushAncestors(relative);
          written.add(relative);
          await write(header);
        }
        continue;
      }
      if (!selection.keeps(relative)) continue;
      await flushAncestors(relative);
      if (header.type === 'link' && header.linkname) {
        const target = relativeName(header.linkname);
        if (target === undefined || !selection.keeps(target)) continue;
        header.linkname = destination(target);
      }
      await write(header, Buffer.concat(chunks));
    }
  };
  run().then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}

/** One entry of a tar built in memory. */
export type PackedEntry =
  | { type: 'directory'; name: string; mode: number }
  | { type: 'file'; name: string; mode: number; content: Uint8Array }
  | { type: 'symlink'; name: string; target: string };

/**
 * Packs `entries` (container-root relative names, parents listed before children). Entries are pulled
 * as the consumer reads, so a lazy source keeps only one file in memory at a time.
 */
export function packEntries(entries: Iterable<PackedEntry> | AsyncIterable<PackedEntry>, ownership: Ownership, mtime: Date): Readable {
  const pack = tar.pack();
  const common = { uid: ownership.uid ?? 0, gid: ownership.gid ?? 0, mtime };
  const write = (header: TarHeader, body?: Uint8Array): Promise<void> =>
    new Promise((resolve, reject) => {
      pack.entry(header, Buffer.from(body ?? new Uint8Array(0)), (error) => (error ? reject(error) : resolve()));
    });
  const run = async (): Promise<void> => {
    for await (const entry of entries) {
      if (entry.type === 'directory') await write({ ...common, name: `${entry.name}/`, type: 'directory', mode: entry.mode });
      else if (entry.type === 'file') await write({ ...common, name: entry.name, type: 'file', mode: entry.mode }, entry.content);
      else await write({ ...common, name: entry.name, type: 'symlink', linkname: entry.target, mode: 0o777 });
    }
  };
  run().then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error as Error),
  );
  return Readable.from(pack as AsyncIterable<Buffer>);
}
