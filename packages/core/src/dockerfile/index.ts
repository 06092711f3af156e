/** The `dockerfile` stage: parsed, expanded Dockerfile instructions and context checksums. */
export { expandVariables, type ExpandOptions, type VariableLookup } from './expand.js';
export {
  analyzeDockerfile,
  contextSources,
  escapeCharacterOf,
  platformArgs,
  stagesNeededByTarget,
  type AnalyzeDockerfileOptions,
  type AnalyzedDockerfile,
  type AnalyzedInstruction,
  type AnalyzedStage,
} from './analyze.js';
export { dockerfileStageInputs, sourceKey, type DockerfileInputsOptions } from './inputs.js';
export {
  dependencyBuildArgs,
  gatherDockerfileFacts,
  normalizeCopySource,
  parseDockerignore,
  type DependencyImageRefs,
  type DockerfileFacts,
  type GatherDockerfileOptions,
} from './gather.js';
