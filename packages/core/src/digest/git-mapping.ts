/**
 * Git mapping identity (Appendix A; werf `GitMapping.GetParamshash`, `ImageGitCommitLabel`).
 *
 * werf writes the parts `fullName ":::" to ":::" add ":::" include… ":::" exclude… ":::" owner ":::"
 * group ":::" branch ":::" tag ":::" commit` into one SHA-256, include and exclude globs concatenated
 * with no separator. That is exactly `H(...)` with the globs pre-joined, which is how it is computed here.
 */
import type { GitMapping } from '@strata/config';
import { digestInput, nestedInput, type DigestInput } from './inputs.js';

/** werf's full name of the project's own repository (`<repo name>_<as>`, both `own`). */
export const OWN_REPOSITORY_FULL_NAME = 'own_own';

/** The mapping fields that identify it. Only the project's own repository is supported. */
export type GitMappingIdentity = Pick<GitMapping, 'add' | 'to' | 'includePaths' | 'excludePaths' | 'owner' | 'group'>;

/** The labelled parts of a mapping's parameters hash. */
export function gitMappingParamsInputs(mapping: GitMappingIdentity): DigestInput[] {
  return [
    digestInput('repository', OWN_REPOSITORY_FULL_NAME),
    digestInput('to', mapping.to),
    digestInput('add', mapping.add),
    digestInput('includePaths', mapping.includePaths.join('')),
    digestInput('excludePaths', mapping.excludePaths.join('')),
    digestInput('owner', mapping.owner ?? ''),
    digestInput('group', mapping.group ?? ''),
    // branch, tag and commit pin a remote repository; empty for the project's own repository.
    digestInput('branch', ''),
    digestInput('tag', ''),
    digestInput('commit', ''),
  ];
}

/** The mapping's parameters hash (64 hex), as an input labelled for `explain`. */
export function gitMappingParamsInput(mapping: GitMappingIdentity, label = `git mapping ${mapping.to}`): DigestInput {
  return nestedInput(label, gitMappingParamsInputs(mapping));
}

/** The mapping's parameters hash (64 hex). */
export function gitMappingParamsHash(mapping: GitMappingIdentity): string {
  return gitMappingParamsInput(mapping).value as string;
}

/** The label a git-related stage records the mapping's commit under: `werf-git-<paramsHash>-commit`. */
export function gitCommitLabel(paramsHash: string): string {
  return `werf-git-${paramsHash}-commit`;
}

/**
 * The commits recorded on a stage, per mapping parameters hash, read from its labels; `undefined` for a
 * mapping whose label is missing.
 */
export function commitsFromLabels(
  paramsHashes: readonly string[],
  labels: Readonly<Record<string, string>>,
): (string | undefined)[] {
  return paramsHashes.map((hash) => labels[gitCommitLabel(hash)]);
}
