export { main, commands } from './main.js';
export { ExitCode, type CliIo } from './io.js';
export {
  CliAdapterError,
  DockerDaemonIngest,
  type CliAdapterErrorCode,
  type DockerDaemonIngestOptions,
  type DockerIngestClient,
} from './wiring/docker-daemon-ingest.js';
