/**
 * Import identities and the source checksum command (werf `pkg/build/stage/dependencies.go`).
 *
 * An import's digest input is a checksum of the imported files' CONTENT in the source image, computed by
 * running {@link importSourceChecksumCommand} in a container of that image, so an upstream rebuild with
 * identical output does not cascade. werf caches it per {@link importSourceId} and records it on the
 * stage as label `werf-import-checksum-<importId>`.
 */
import type { Import } from '@strata/config';
import { hashArgs } from './hash.js';
import { cleanPath } from './paths.js';

/** Prefix of the label recording an import's source checksum on a stage. */
export const IMPORT_CHECKSUM_LABEL_PREFIX = 'werf-import-checksum-';

function anchor(entry: Import): { before: string; after: string } {
  return 'before' in entry.stage ? { before: entry.stage.before, after: '' } : { before: '', after: entry.stage.after };
}

/** werf's `getImportID`: identifies an import of an image (used in its checksum label). */
export function importId(entry: Import): string {
  const { before, after } = anchor(entry);
  return hashArgs(
    'ImageName', entry.via === 'image' ? entry.image : '',
    'ArtifactName', entry.via === 'artifact' ? entry.image : '',
    'Stage', '',
    'After', after,
    'Before', before,
    'Add', entry.add,
    'To', entry.to,
    'Group', entry.group ?? '',
    'Owner', entry.owner ?? '',
    'IncludePaths', entry.includePaths.join('///'),
    'ExcludePaths', entry.excludePaths.join('///'),
  );
}

/** The label an import's source checksum is recorded under. */
export function importChecksumLabel(entry: Import): string {
  return `${IMPORT_CHECKSUM_LABEL_PREFIX}${importId(entry)}`;
}

/**
 * werf's `getImportSourceID`: identifies the imported content (source image content digest and the
 * path filter), the key under which a computed source checksum can be reused.
 */
export function importSourceId(entry: Import, sourceContentDigest: string): string {
  return hashArgs(
    'SourceImageContentDigest', sourceContentDigest,
    'Add', entry.add,
    'IncludePaths', entry.includePaths.join('///'),
    'ExcludePaths', entry.excludePaths.join('///'),
  );
}

function trimGlob(path: string): string {
  return path.replace(/[*/]+$/, '');
}

/**
 * The shell command (for a POSIX shell in the SOURCE image) that prints an import's source checksum:
 * werf's `generateChecksumCommand` — regular files under `add` filtered by include/exclude globs,
 * `sort -n`, `md5sum` of each, `md5sum` of that list, first field.
 */
export function importSourceChecksumCommand(entry: Import): string {
  const from = entry.add;
  const parts = ['find', from, '-type', 'f'];
  const includes = entry.includePaths.flatMap((glob) => {
    const base = cleanPath(`${from}/${trimGlob(glob)}`);
    return [`-wholename "${base}"`, `-wholename "${cleanPath(`${base}/**`)}"`];
  });
  if (includes.length > 0) parts.push(`\\( ${includes.join(' -or ')} \\)`);
  const excludes = entry.excludePaths.flatMap((glob) => {
    const base = cleanPath(`${from}/${trimGlob(glob)}`);
    return [`! -wholename "${base}"`, `! -wholename "${cleanPath(`${base}/**`)}"`];
  });
  if (excludes.length > 0) {
    if (includes.length > 0) parts.push('-and');
    parts.push(`\\( ${excludes.join(' -and ')} \\)`);
  }
  return [parts.join(' '), 'sort -n', 'xargs md5sum', 'md5sum', "cut -d ' ' -f 1"].join(' | ');
}
