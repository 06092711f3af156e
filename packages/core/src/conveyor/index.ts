/** Stage conveyors (SPEC §2.1) and stage-by-stage digest calculation. */
export {
  dependenciesOfStage,
  findStagePlan,
  gitCommitLabels,
  importsOfStage,
  isDependencyStage,
  planConveyor,
  recordedCommits,
  type ConveyorGitMapping,
  type ImageConveyor,
  type PlanConveyorOptions,
  type StagePlan,
} from './plan.js';
export {
  computeContentDigest,
  computeStageDigest,
  currentCommits,
  stageDependencyInputs,
  type ComputeStageDigestOptions,
  type PreviousStage,
  type StageDigestResult,
  type StageFacts,
} from './compute.js';
export { GitFactsCache, gatherStageFacts, type GatherStageFactsOptions } from './gather.js';
