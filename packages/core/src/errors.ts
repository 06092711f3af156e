import { StrataError, type StrataErrorOptions } from '@strata/errors';

/**
 * Failure codes of `@strata/core`. Match on these (or on `instanceof CoreError`), never on message text.
 *
 * - `INVALID_STAGE_DIGEST`, `INVALID_STAGE_ID`, `INVALID_STAGE_NAME`: a value failed to parse at a boundary.
 * - `INVALID_STAGE_LABELS`: stored image labels do not describe a Strata/werf stage.
 * - `DEPENDENCY_CYCLE`, `UNKNOWN_IMAGE`: the image graph handed to the planner is unusable.
 * - `STAGE_BUILD_FAILED`: the executor failed to build a stage (cause attached).
 * - `STAGE_PUBLISH_FAILED`: a stage could not be saved or copied into a store (cause attached).
 * - `LOCK_FAILED`: a lock could not be acquired or its lease was lost while work depended on it.
 * - `BUILD_FAILED`: an image could not be built; `data` names the image and stage.
 * - `BUILD_STOPPED`: work that never started because the build stopped after another failure (the
 *   cause); a build reports the failure itself, not this.
 */
export type CoreErrorCode =
  | 'INVALID_STAGE_DIGEST'
  | 'INVALID_STAGE_ID'
  | 'INVALID_STAGE_NAME'
  | 'INVALID_STAGE_LABELS'
  | 'DEPENDENCY_CYCLE'
  | 'UNKNOWN_IMAGE'
  | 'STAGE_BUILD_FAILED'
  | 'STAGE_PUBLISH_FAILED'
  | 'LOCK_FAILED'
  | 'BUILD_FAILED'
  | 'BUILD_STOPPED';

/** Every failure raised by `@strata/core` itself. */
export class CoreError<Data = unknown> extends StrataError<CoreErrorCode, Data> {
  constructor(code: CoreErrorCode, message: string, options: StrataErrorOptions<Data> = {}) {
    super(code, message, options);
  }
}
