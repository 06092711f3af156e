/**
 * werf's lazy tree walk and ls-tree checksum over any tree source (pure apart from the source).
 */
import { createHash } from 'node:crypto';
import { abortReason } from '@strata/errors';
import type { PathMatcher } from './paths.js';
import type { GitFileMode, TreeEntry, TreeEntryType } from './repository.js';

/** Reads trees of one commit. Both adapters implement it; the walk logic is shared. */
export interface TreeSource {
  /** The entry at `path` (`""` is the root tree, mode `040000`); `undefined` when absent. */
  entryAt(path: string): Promise<TreeEntry | undefined>;
  /** Children of a tree entry, with full paths, in git's tree order. */
  children(dir: TreeEntry): Promise<readonly TreeEntry[]>;
}

export function typeOfMode(mode: GitFileMode): TreeEntryType {
  return mode === '040000' ? 'tree' : mode === '160000' ? 'commit' : 'blob';
}

/** Normalises the mode spellings git and isomorphic-git use (`40000`, `040000`) to {@link GitFileMode}. */
export function normalizeMode(mode: string | number): GitFileMode {
  const text = typeof mode === 'number' ? mode.toString(8) : mode;
  switch (text) {
    case '40000':
    case '040000':
      return '040000';
    case '100644':
    case '100755':
    case '120000':
    case '160000':
      return text;
    case '100664':
      return '100644';
    default:
      return '100644';
  }
}

/**
 * The entries werf's lazy `ls-tree` yields for `scope` and `matcher`, in walk (tree) order.
 * With `allFiles`, matched directories are descended too, so only non-tree entries come out.
 */
export async function lazyWalk(
  source: TreeSource,
  scope: string,
  matcher: PathMatcher,
  allFiles: boolean,
  signal?: AbortSignal,
): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const start = await source.entryAt(scope);
  if (start === undefined) return out;

  const visit = async (entry: TreeEntry): Promise<void> => {
    if (entry.type === 'blob') {
      if (matcher.isPathMatched(entry.path)) out.push(entry);
      return;
    }
    if (matcher.shouldGoThrough(entry.path)) {
      if (entry.type === 'tree') await descend(entry);
      // A gitlink's content is another repository; submodules are not walked.
      return;
    }
    if (matcher.isPathMatched(entry.path)) {
      if (allFiles && entry.type === 'tree') await descend(entry);
      else out.push(entry);
    }
  };
  const descend = async (dir: TreeEntry): Promise<void> => {
    if (signal?.aborted) throw abortReason(signal);
    for (const child of await source.children(dir)) await visit(child);
  };

  await visit(start);
  return out;
}

/** Bytewise (UTF-8) order of paths, as Go's `sort.Slice` with `<` on strings gives. */
export function comparePaths(a: string, b: string): number {
  if (a === b) return 0;
  // JS compares UTF-16 code units; that equals UTF-8 byte order except for astral vs U+E000–U+FFFF.
  // eslint-disable-next-line no-control-regex
  if (/[^\u0000-\ud7ff]/.test(a) || /[^\u0000-\ud7ff]/.test(b)) return Buffer.compare(Buffer.from(a), Buffer.from(b));
  return a < b ? -1 : 1;
}

export function sortByPath(entries: TreeEntry[]): TreeEntry[] {
  return entries.sort((x, y) => comparePaths(x.path, y.path));
}

/** go-git's `FileMode.String()` (`%07o`), which werf writes into the checksum. */
export function goFileMode(mode: GitFileMode): string {
  return mode.padStart(7, '0');
}

/** werf's `ls_tree.Result.Checksum`: sorted entries, object id + mode each, SHA-256 hex; `""` when empty. */
export function lsTreeChecksumOf(entries: readonly TreeEntry[]): string {
  if (entries.length === 0) return '';
  const sorted = sortByPath([...entries]);
  const hash = createHash('sha256');
  for (const e of sorted) {
    hash.update(e.objectId);
    hash.update(goFileMode(e.mode));
  }
  return hash.digest('hex');
}
