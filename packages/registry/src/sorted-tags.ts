/**
 * Sorted tag arrays, the form every tag listing of this package takes: ascending by `<` (UTF-16 code
 * units, which is code-point and byte order for the ASCII tags the distribution spec allows), without
 * duplicates. Sorting is what lets lookups be binary searches instead of scans of tens of thousands of
 * tags.
 */

/** True when `tags` is strictly ascending (hence also free of duplicates). O(n), no allocation. */
export function isSortedUnique(tags: readonly string[]): boolean {
  for (let i = 1; i < tags.length; i++) if (!((tags[i - 1] as string) < (tags[i] as string))) return false;
  return true;
}

/**
 * `tags` sorted ascending with duplicates dropped, IN PLACE (the same array is returned). An array
 * that is already strictly ascending costs one comparison per tag. Registries may answer in any order
 * (Debian's `docker-registry` does) and pages may repeat a tag.
 */
export function sortUniqueInPlace(tags: string[]): string[] {
  if (isSortedUnique(tags)) return tags;
  // The default comparison of `Array.prototype.sort` orders strings by UTF-16 code units, exactly as
  // `<` does, and runs natively: a JavaScript comparator measured 10-40% slower at 50,000 tags.
  tags.sort();
  let kept = 0;
  for (let i = 0; i < tags.length; i++) {
    const tag = tags[i] as string;
    if (kept === 0 || tag !== tags[kept - 1]) tags[kept++] = tag;
  }
  tags.length = kept;
  return tags;
}

/** The first index of sorted `tags` whose tag is not below `key` (`tags.length` when none). */
export function lowerBound(tags: readonly string[], key: string): number {
  let lo = 0;
  let hi = tags.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((tags[mid] as string) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The end of the run of sorted `tags` starting at `from` whose tags start with `prefix`. */
export function prefixEnd(tags: readonly string[], prefix: string, from: number): number {
  let end = from;
  while (end < tags.length && (tags[end] as string).startsWith(prefix)) end++;
  return end;
}
