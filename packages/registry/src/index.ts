export {
  RegistryClient,
  type BlobSource,
  type BlobStream,
  type CallOptions,
  type Descriptor,
  type ListTagsOptions,
  type Manifest,
  type MountBlobOptions,
  type MountBlobResult,
  type PingResult,
  type RegistryClientOptions,
  type RegistryLogger,
  type RegistryRequestStats,
  type RetryOptions,
  type UploadBlobOptions,
  type UploadBlobResult,
} from './client.js';
export {
  DockerConfigCredentialStore,
  MemoryCredentialStore,
  dockerConfigPath,
  type BasicCredentials,
  type CredentialStore,
  type Credentials,
  type DockerConfigCredentialStoreOptions,
  type IdentityTokenCredentials,
} from './credentials.js';
export { DigestHasher, digestOf, isDigest, parseDigest, type Digest } from './digest.js';
export { RegistryError, redactUrl, type RegistryErrorCode, type RegistryErrorData } from './errors.js';
export { parseAuthChallenges, parseNextLink, parseRetryAfter, type AuthChallenge } from './http.js';
export {
  fetchTransport,
  nodeHttpFetch,
  nodeHttpTransport,
  type RegistryTransport,
  type TransportBody,
  type TransportRequest,
  type TransportResponse,
} from './node-fetch.js';
export {
  copyImage,
  createImageManifest,
  findImageLabels,
  parseManifest,
  readImageConfigLabels,
  withImageConfigLabels,
  type ContentDescriptor,
  type CopyImageOptions,
  type ImageIndex,
  type ImageManifest,
  type ParsedManifest,
} from './image.js';
export { MANIFEST_MEDIA_TYPES, MediaType, isIndexMediaType } from './media-types.js';
export { DOCKER_HUB, ImageReference, Repository, isLoopbackHost, parseImageReference, parseRepository } from './reference.js';
export { TagListCache, TagListing, type TagListCacheStats, type TagListOptions } from './tag-cache.js';
export {
  FileStageRecordCache,
  MemoryStageRecordCache,
  RegistryStageStore,
  defaultStageRecordCacheDir,
  isRegistryImageReference,
  type LocalImageIngest,
  type RegistryStageStoreClient,
  type RegistryStageStoreOptions,
  type StageRecordCache,
} from './stage-store.js';
