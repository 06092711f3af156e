import { StrataError, type StrataErrorOptions } from '@strata/errors';

/**
 * Failure codes of digest calculation. Match on these, never on message text.
 *
 * - `DOCKERFILE_NOT_FOUND`: the Dockerfile is not in the commit being built.
 * - `DOCKERFILE_TARGET_NOT_FOUND`: `target` names no stage of the Dockerfile.
 * - `DOCKERFILE_INVALID`: the Dockerfile cannot be turned into stages (no `FROM`, empty base image).
 * - `CONTEXT_ADD_FILE_NOT_FOUND`: a `contextAddFiles` entry is missing from the working tree.
 * - `CONTEXT_ADD_FILES_FORBIDDEN`: `contextAddFiles` is used but the caller did not allow it.
 * - `GIT_COMMIT_MISSING`: a commit recorded on a stored stage is not in the repository, so the patch
 *   that the next stage depends on cannot be computed.
 * - `MISSING_STAGE_FACTS`: a stage's digest was requested without the facts it depends on (a bug in
 *   the caller: gather them with `gatherStageFacts` first).
 */
export type DigestErrorCode =
  | 'DOCKERFILE_NOT_FOUND'
  | 'DOCKERFILE_TARGET_NOT_FOUND'
  | 'DOCKERFILE_INVALID'
  | 'CONTEXT_ADD_FILE_NOT_FOUND'
  | 'CONTEXT_ADD_FILES_FORBIDDEN'
  | 'GIT_COMMIT_MISSING'
  | 'MISSING_STAGE_FACTS';

/** What a digest failure was about. */
export interface DigestErrorData {
  image?: string;
  stage?: string;
  dockerfile?: string;
  target?: string;
  path?: string;
  commit?: string;
  missing?: string;
}

/** Every failure raised while computing stage digests. */
export class DigestError extends StrataError<DigestErrorCode, DigestErrorData> {
  constructor(code: DigestErrorCode, message: string, options: StrataErrorOptions<DigestErrorData> = {}) {
    super(code, message, options);
  }
}
