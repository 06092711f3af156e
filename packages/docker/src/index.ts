/**
 * `@strata/docker`: the Docker engine adapters — {@link DockerExecutor} (the `Executor` port) and
 * {@link DockerStageStore} (the local `StageStore`).
 */
export {
  DockerExecutor,
  mountsHostConfig,
  type DockerExecutorClient,
  type DockerExecutorOptions,
  type ExecutorGit,
  type OutputSource,
} from './executor.js';
export { DockerStageStore, type DockerStageStoreClient, type DockerStageStoreOptions } from './stage-store.js';
export {
  DockerBuildError,
  DockerError,
  type DockerBuildErrorCode,
  type DockerBuildErrorData,
  type DockerErrorCode,
  type DockerErrorData,
} from './errors.js';
export {
  dockerInstructionsConfig,
  imageSpecConfig,
  isUnsetCommand,
  parseHealthcheck,
  restoredConfig,
  type BaseImageConfig,
  type CommitConfig,
  type HealthConfig,
} from './image-config.js';
