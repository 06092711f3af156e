import { StrataError, type StrataErrorOptions } from '@strata/errors';

/** Codes of {@link DockerError}: the engine or its input, not the user's build commands. */
export type DockerErrorCode =
  /** A base or source image is not in the local engine and could not be pulled. */
  | 'DOCKER_IMAGE_NOT_FOUND'
  /** A path an import reads does not exist in the source image. */
  | 'DOCKER_PATH_NOT_FOUND'
  /** The engine refused or failed a request (create, commit, archive, tag, …). */
  | 'DOCKER_ENGINE_FAILED'
  /** The request asks for something this executor cannot do with the Docker engine API. */
  | 'DOCKER_UNSUPPORTED'
  /** An owner or group name does not exist in the image's `/etc/passwd` / `/etc/group`. */
  | 'DOCKER_UNKNOWN_OWNER'
  /** The import checksum command failed in the source image (no shell or tools, or an error). */
  | 'DOCKER_CHECKSUM_FAILED'
  /** A `docker` directive or mount cannot be turned into image config (e.g. a malformed HEALTHCHECK). */
  | 'DOCKER_INVALID_INSTRUCTION';

/** Offending input of a {@link DockerError}. */
export interface DockerErrorData {
  image?: string | undefined;
  stage?: string | undefined;
  /** The Docker image or container reference involved. */
  ref?: string | undefined;
  /** The engine operation (`create`, `commit`, `putArchive`, `tag`, `pull`, …). */
  operation?: string | undefined;
  value?: string | undefined;
}

/** Every failure of the Docker adapters that is not a failing build step. Match on `code`. */
export class DockerError extends StrataError<DockerErrorCode, DockerErrorData> {
  constructor(code: DockerErrorCode, message: string, options: StrataErrorOptions<DockerErrorData> = {}) {
    super(code, message, options);
  }
}

/** Codes of {@link DockerBuildError}. */
export type DockerBuildErrorCode =
  /** A user command of a stapel stage exited with a non-zero code. */
  | 'DOCKER_COMMAND_FAILED'
  /** A service step run in the build container (deleting files of a git patch) failed. */
  | 'DOCKER_SERVICE_STEP_FAILED'
  /** `docker build` of a Dockerfile stage failed. */
  | 'DOCKERFILE_BUILD_FAILED';

/** Offending input of a {@link DockerBuildError}. */
export interface DockerBuildErrorData {
  /** The config image (`~` for the nameless one). */
  image: string;
  stage: string;
  digest: string;
  /** The failing command as written in werf.yaml (absent when it cannot be told). */
  command?: string | undefined;
  exitCode?: number | undefined;
  /** The last lines of the step's output (stdout and stderr interleaved), oldest first. */
  outputTail: readonly string[];
}

/** A stage's build step failed: the user's commands or Dockerfile, not the engine. */
export class DockerBuildError extends StrataError<DockerBuildErrorCode, DockerBuildErrorData> {
  constructor(code: DockerBuildErrorCode, message: string, options: StrataErrorOptions<DockerBuildErrorData> = {}) {
    super(code, message, options);
  }
}

/** True for the engine's "no such image/container" answers (HTTP 404). */
export function isNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === 404;
}

/** True for the engine's "conflict" answers (HTTP 409). */
export function isConflict(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { statusCode?: unknown }).statusCode === 409;
}

/** The engine's own message of a dockerode error, without dockerode's "(HTTP code 404) …" prefix noise. */
export function engineMessage(error: unknown): string {
  if (typeof error !== 'object' || error === null) return String(error);
  const json = (error as { json?: unknown }).json;
  if (typeof json === 'object' && json !== null && typeof (json as { message?: unknown }).message === 'string') {
    return (json as { message: string }).message;
  }
  return error instanceof Error ? error.message : JSON.stringify(error);
}
