/**
 * The composition root (STYLE rule 6): the one place that knows the adapters. It opens the project
 * (config + git), makes the Docker client, the stores of the storage organisation (SPEC §3.2), the
 * lock and the executor, and hands them to core's engine as ports.
 *
 * Local Docker as a cache when a primary repository is used (SPEC §3.2): stages live in the
 * registry; the daemon keeps what it built, pushed (the ingest tags `REPO:TAG` locally) or pulled,
 * and the executor uses a base image the daemon has before pulling it. Wiping the daemon costs only
 * pulls: every lookup goes to the registries, never to the daemon.
 */
import path from 'node:path';
import Dockerode from 'dockerode';
import { loadConfig, type ConfigProblem, type ResolvedConfig } from '@strata/config';
import { createEngine, MemoryStageLock, type BuildEventListener, type Engine, type EngineStores, type StageLock, type StageStore } from '@strata/core';
import { DockerExecutor, DockerStageStore, type OutputSource } from '@strata/docker';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import { createStageLock, type ClosableStageLock } from '@strata/locks';
import { DockerConfigCredentialStore, FileStageRecordCache, RegistryClient, RegistryStageStore, TagListCache, nodeHttpTransport } from '@strata/registry';
import type { Env, StorageOptions } from '../options.js';
import { openConfigSource } from './config-source.js';
import { DockerDaemonIngest } from './docker-daemon-ingest.js';
import { SettlingExecutor } from './settling-executor.js';

/** Longest wait for running executor calls (their container cleanup) when closing. */
export const SETTLE_TIMEOUT_MS = 30_000;

/** What `--dir`, `--config`, `--allow-env` and `--allow-context-add-files` select. */
export interface ProjectOptions {
  dir?: string | undefined;
  config?: string | undefined;
  allowContextAddFiles?: boolean | undefined;
  /** Variables templates may read with `env` (besides `werf-giterminism.yaml`'s list). */
  allowedEnv?: readonly string[] | undefined;
  /** The environment `env` reads from. @default {} */
  env?: Env | undefined;
}

export type LoadedProject =
  | { ok: true; dir: string; config: ResolvedConfig; warnings: readonly ConfigProblem[]; notice?: string | undefined }
  | { ok: false; problems: readonly ConfigProblem[]; notice?: string | undefined };

/**
 * Reads, renders and validates the project's config from the HEAD commit (giterminism: what is built is
 * what is committed), falling back to the working tree outside git with a `notice` to print.
 */
export async function loadProject(options: ProjectOptions, cwd: string, signal?: AbortSignal): Promise<LoadedProject> {
  const dir = path.resolve(cwd, options.dir ?? '.');
  const opened = await openConfigSource(dir, { signal });
  try {
    const result = await loadConfig(dir, {
      source: opened.source,
      env: options.env ?? {},
      allowedEnv: options.allowedEnv ?? [],
      configPath: options.config,
      allowContextAddFiles: options.allowContextAddFiles === true,
      signal,
    });
    return result.ok
      ? { ok: true, dir, config: result.config, warnings: result.warnings, notice: opened.notice }
      : { ok: false, problems: result.problems, notice: opened.notice };
  } finally {
    await opened.close();
  }
}

/** A Docker client for the engine `DOCKER_HOST` names in `env` (`unix://` or `tcp://`), else the default socket. */
export function dockerClient(env: Env): Dockerode {
  const host = env.DOCKER_HOST;
  if (host !== undefined && host.startsWith('unix://')) return new Dockerode({ socketPath: host.slice('unix://'.length) });
  if (host !== undefined && /^tcp:\/\//.test(host)) {
    const url = new URL(host.replace(/^tcp:/, 'http:'));
    return new Dockerode({ host: url.hostname, port: Number(url.port || 2375), protocol: 'http' });
  }
  return new Dockerode({ socketPath: '/var/run/docker.sock' });
}

export interface CompositionOptions {
  project: { dir: string; config: ResolvedConfig };
  storage: StorageOptions;
  env: Env;
  /** `:local` or `redis://…`; `undefined` for dry runs, which never publish (an in-process lock). */
  synchronization?: string | undefined;
  parallelTasksLimit?: number | undefined;
  allowContextAddFiles?: boolean | undefined;
  events?: BuildEventListener | undefined;
  onOutput?: ((line: string, source: OutputSource) => void) | undefined;
  signal?: AbortSignal | undefined;
}

/** An engine and what must be closed after it. */
export interface Composition {
  engine: Engine;
  repository: GitRepository;
  /** Names of the stores, for messages: `local` or the repositories (credentials redacted). */
  primaryName: string;
  /**
   * Waits (at most {@link SETTLE_TIMEOUT_MS}) for executor calls still running to finish their
   * cleanup — an aborted build rejects before its build containers are removed — then closes the lock
   * and the repository. Idempotent.
   */
  close(): Promise<void>;
}

/** The stores of the storage organisation: local Docker storage, or the registries. */
export function createStores(storage: StorageOptions, options: { docker: Dockerode; project: string; env: Env }): EngineStores {
  const { docker, project, env } = options;
  if (storage.repo === undefined) return { primary: new DockerStageStore({ docker, project }) };
  const credentials = new DockerConfigCredentialStore({ env: { ...env } });
  // node:http rather than Node 20's global fetch: fetch costs each process ~100 ms of CPU compiling
  // undici's WebAssembly parser on first use, and a CLI process is short-lived.
  const client = new RegistryClient({ credentials, transport: nodeHttpTransport });
  const tagCache = new TagListCache(client);
  const ingest = new DockerDaemonIngest({ docker, credentials });
  // Stage records are immutable per (repository, stage id): one on-disk cache shared by every store
  // lets a no-op build make one tag listing per repository and no per-stage request.
  const recordCache = new FileStageRecordCache(env.STRATA_CACHE_DIR === undefined ? undefined : path.join(env.STRATA_CACHE_DIR, 'registry-records'));
  const store = (repo: string): StageStore => new RegistryStageStore(repo, { client, tagCache, project, ingest, recordCache });
  return {
    primary: store(storage.repo),
    secondaries: storage.secondaryRepos.map(store),
    caches: storage.cacheRepos.map(store),
    final: storage.finalRepo === undefined ? undefined : store(storage.finalRepo),
  };
}

/** Opens git, makes the lock and the adapters, and creates the engine. */
export async function compose(options: CompositionOptions): Promise<Composition> {
  const { project, env, signal } = options;
  const docker = dockerClient(env);
  const stores = createStores(options.storage, { docker, project: project.config.project, env });
  // The primary's listing (a Docker or registry round trip) runs while git opens; a failure is
  // reported by the first lookup that needs it (StageStore.prefetch). It is cancelled when composing
  // fails or the composition closes, so it never keeps the process alive (a registry retrying).
  const prefetching = new AbortController();
  stores.primary.prefetch?.({ signal: signal === undefined ? prefetching.signal : AbortSignal.any([signal, prefetching.signal]) }).catch(() => undefined);
  let repository: NativeGitRepository;
  try {
    repository = await NativeGitRepository.open(project.dir, { signal });
  } catch (error) {
    prefetching.abort(error);
    throw error;
  }
  let lock: ClosableStageLock | undefined;
  try {
    lock = options.synchronization === undefined ? undefined : await createStageLock(options.synchronization, { signal });
    const executor = new SettlingExecutor(new DockerExecutor({ docker, git: repository, onOutput: options.onOutput }));
    const engineLock: StageLock = lock ?? new MemoryStageLock();
    const engine = createEngine({
      config: project.config,
      repository,
      stores,
      lock: engineLock,
      executor,
      parallelTasksLimit: options.parallelTasksLimit,
      events: options.events,
      dockerfile: { allowContextAddFiles: options.allowContextAddFiles === true },
    });
    let closed = false;
    const held = lock;
    return {
      engine,
      repository,
      primaryName: stores.primary.name,
      async close() {
        if (closed) return;
        closed = true;
        prefetching.abort(new Error('composition closed'));
        await executor.settled(SETTLE_TIMEOUT_MS);
        try {
          await held?.close();
        } finally {
          await repository.close();
        }
      },
    };
  } catch (error) {
    prefetching.abort(error);
    await lock?.close().catch(() => undefined);
    await repository.close();
    throw error;
  }
}
