/**
 * `@strata/core`: stages, digests, selection, planning and the build engine, over three ports
 * (StageStore, StageLock, Executor). In-memory adapters and contract suites live in `@strata/core/testing`.
 */
export { CoreError, type CoreErrorCode } from './errors.js';
export {
  DOCKERFILE_STAGE_NAMES,
  GIT_STAGE_NAMES,
  STAGE_NAMES,
  STAPEL_STAGE_NAMES,
  compareStageIds,
  formatStageId,
  isGitRelatedStage,
  isStageDigest,
  isStageName,
  parseStageDigest,
  parseStageId,
  parseStageName,
  sameStageId,
  stageId,
  tryParseStageId,
  type StageDigest,
  type StageId,
  type StageName,
} from './ids.js';
