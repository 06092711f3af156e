/** Digest primitives and per-stage dependency inputs (SPEC §2.2, Appendix A). */
export { ARG_SEPARATOR, EMPTY_SHA256, hashArgs, sha256Concat, sha3HashArgs, type HashArg } from './hash.js';
export { digestInput, hashInputs, nestedInput, optionalInput, type DigestInput } from './inputs.js';
export { cleanPath } from './paths.js';
export { withoutBinaryData } from './patch.js';
export {
  BUILD_CACHE_VERSION,
  DEFAULT_DIGEST_PLATFORM,
  contentDigestInputs,
  legacyStageName,
  nextStageDependencies,
  sha3Inputs,
  stageContentDigest,
  stageDigest,
  stageDigestInputs,
  type ContentDigestRequest,
  type PreviousStageDigestInput,
  type StageDigestRequest,
} from './stage-digest.js';
export {
  OWN_REPOSITORY_FULL_NAME,
  commitsFromLabels,
  gitCommitLabel,
  gitMappingParamsHash,
  gitMappingParamsInput,
  gitMappingParamsInputs,
  type GitMappingIdentity,
} from './git-mapping.js';
export {
  GIT_CACHE_STEP_BYTES,
  IMAGE_SPEC_STAGE_VERSION,
  beforeInstallStageInputs,
  compareBytes,
  dependenciesStageInputs,
  dockerCommandString,
  dockerInstructionsStageInputs,
  fromStageInputs,
  gitArchiveStageInputs,
  gitCacheStageInputs,
  gitLatestPatchStageInputs,
  imageSpecStageInputs,
  resolveFromBase,
  shellChecksum,
  shellChecksumInputs,
  shellChecksumOf,
  stageDependenciesOf,
  userStageInputs,
  type DependencyFacts,
  type FromBase,
  type FromStageParams,
  type ImportFacts,
  type MappingPatch,
  type MappingStageDependencies,
} from './stages.js';
export {
  IMPORT_CHECKSUM_LABEL_PREFIX,
  importChecksumLabel,
  importId,
  importSourceChecksumCommand,
  importSourceId,
} from './imports.js';
export { DigestError, type DigestErrorCode, type DigestErrorData } from './errors.js';
