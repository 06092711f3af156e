export type {
  AncestryQuery,
  ArchiveRequest,
  ChangedPath,
  ChangeStatus,
  CommitInfo,
  DiffRequest,
  GitCallOptions,
  GitCapabilities,
  GitErrorCode,
  GitErrorData,
  GitFileMode,
  GitPatch,
  GitRepository,
  ListTreeRequest,
  LsTreeChecksumRequest,
  ObjectId,
  PatchRequest,
  PathFilter,
  StageDependenciesChecksum,
  StageDependenciesRequest,
  TreeEntry,
  TreeEntryType,
} from './repository.js';
export { GitError } from './repository.js';
export { NativeGitRepository, type NativeGitRepositoryOptions } from './native.js';
export { IsomorphicGitRepository } from './isomorphic.js';
