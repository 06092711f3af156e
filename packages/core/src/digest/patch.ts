/**
 * werf hashes the `gitLatestPatch` patch as `git diff --full-index` prints it WITHOUT `--binary`
 * (`WithBinary: false` in `GetPatchContent`): a binary file shows as `Binary files A and B differ`. The
 * `GitRepository` port returns `--binary` patches, whose text sections are byte-identical to the
 * non-binary form (git decides "binary" the same way for both); only binary sections differ. This turns
 * the latter into the former.
 */

const DIFF_HEADER = 'diff --git ';
const BINARY_MARKER = 'GIT binary patch';

/** `a/P b/P` (or the quoted `"a/P" "b/P"`): both names have the same length without renames. */
function namesOf(header: string): [string, string] {
  const rest = header.slice(DIFF_HEADER.length);
  const half = (rest.length - 1) / 2;
  return [rest.slice(0, half), rest.slice(half + 1)];
}

function rewriteSection(lines: string[]): string[] {
  const marker = lines.indexOf(BINARY_MARKER);
  if (marker === -1) return lines;
  const header = lines[0] ?? '';
  let [oldName, newName] = namesOf(header);
  const meta = lines.slice(0, marker);
  if (meta.some((line) => line.startsWith('new file mode '))) oldName = '/dev/null';
  if (meta.some((line) => line.startsWith('deleted file mode '))) newName = '/dev/null';
  return [...meta, `Binary files ${oldName} and ${newName} differ`];
}

/**
 * The non-`--binary` form of a `git diff --binary` patch: every `GIT binary patch` section replaced by
 * git's `Binary files … differ` line; everything else byte for byte.
 */
export function withoutBinaryData(patch: Uint8Array): Uint8Array {
  // latin1 maps every byte to one code unit and back, so non-UTF-8 content survives untouched.
  const text = Buffer.from(patch).toString('latin1');
  if (!text.includes(BINARY_MARKER)) return patch;
  const lines = text.split('\n');
  const trailingNewline = lines.at(-1) === '';
  if (trailingNewline) lines.pop();
  const out: string[] = [];
  let section: string[] = [];
  const flush = (): void => {
    out.push(...rewriteSection(section));
    section = [];
  };
  for (const line of lines) {
    if (line.startsWith(DIFF_HEADER) && section.length > 0) flush();
    section.push(line);
  }
  flush();
  return Buffer.from(out.join('\n') + (trailingNewline ? '\n' : ''), 'latin1');
}
