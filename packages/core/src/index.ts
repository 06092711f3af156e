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
export { systemClock, type CallOptions, type Clock } from './clock.js';
export {
  STAGE_LABELS,
  labelsToRecord,
  readStageLabels,
  recordToLabels,
  stageLabels,
  type StageLabelData,
  type StoredImageFacts,
} from './labels.js';
export type { ListStagesOptions, PublishResult, StageRecord, StageStore } from './ports/stage-store.js';
export { withLock, type AcquireOptions, type LockHandle, type StageLock } from './ports/stage-lock.js';
export type {
  BuiltStage,
  DependenciesStageRequest,
  DockerInstructionsStageRequest,
  DockerfileStageRequest,
  Executor,
  FromStageRequest,
  GitArchiveStageRequest,
  GitArchiveStep,
  GitMappingStep,
  GitPatchStageRequest,
  GitPatchStep,
  ImageSpecStageRequest,
  ImportChecksumRequest,
  ImportStep,
  OnBaseImage,
  ShellStageRequest,
  StageBuildCommon,
  StageBuildRequest,
} from './ports/executor.js';
export {
  commitsToCheck,
  eligibleStageIds,
  findSuitableStage,
  findSuitableStageAmong,
  gitAncestryOracle,
  lookupStage,
  selectStage,
  type AncestryAnswers,
  type AncestryOracle,
  type LookupStores,
  type TransferGate,
  type StageLookup,
  type StageQuery,
} from './selection.js';
export { publishStage, stageLockKey, type PublishStageOptions, type SaveResult, type StageCandidate } from './publish.js';
export { SingleFlight } from './single-flight.js';
export { CachedStageStore, type CachedStageStoreOptions } from './stores/cached-stage-store.js';
// The in-memory adapters are a storage kind of their own (SPEC §3.2), exported here and from testing:
// embedding tools get them without `@strata/core/testing`, whose contract suites need vitest.
export { MemoryStageLock, type MemoryStageLockOptions } from './stores/memory-stage-lock.js';
export {
  MemoryStageBackend,
  MemoryStageStore,
  type MemoryStageStoreCalls,
  type MemoryStageStoreOptions,
} from './stores/memory-stage-store.js';
export {
  formatPlan,
  imageDependencies,
  imageGraph,
  planBuild,
  type BuildPlan,
  type ImageNode,
  type PlanOptions,
} from './planner.js';
export { DEFAULT_PARALLEL_TASKS_LIMIT, runSchedule, type BuildFailureData, type ScheduleOptions } from './scheduler.js';
export {
  buildReport,
  splitImageRef,
  type BuildReport,
  type ImageOutcome,
  type ImageReport,
  type StageOutcome,
  type StageReport,
  type StageStatus,
} from './report.js';
export type { BuildEvent, BuildEventListener } from './events.js';
export * from './digest/index.js';
export * from './conveyor/index.js';
export * from './explain/index.js';
export {
  createEngine,
  type BuildResult,
  type Engine,
  type EngineOptions,
  type EngineStores,
  type ImageExplanation,
  type PendingReason,
  type PlanResult,
  type RebuildReason,
  type StageDecision,
  type StageExplanation,
} from './engine.js';
