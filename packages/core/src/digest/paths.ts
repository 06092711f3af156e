/**
 * Go's `path.Clean` (lexical, `/`-separated), which werf applies to mount paths before hashing them.
 * Reimplemented from its documented rules: collapse repeated `/`, drop `.` elements, resolve `..`
 * against the preceding element, drop `..` at the root of an absolute path, `""` becomes `"."`.
 */
export function cleanPath(path: string): string {
  if (path === '') return '.';
  const rooted = path.startsWith('/');
  const out: string[] = [];
  for (const element of path.split('/')) {
    if (element === '' || element === '.') continue;
    if (element === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(element);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}
