/**
 * `DockerExecutor`: the {@link Executor} port on a local Docker engine (SPEC §4.3).
 *
 * Every stapel stage is one *build container* created from the previous stage's image: service files
 * (git archives, git patches, imports) are put into the created container as tars through the
 * engine's archive endpoint, so no `git` (or any tool) is needed in the image; only when there is
 * something to run (user commands, deletions of a patch) is the container started, with
 * `/bin/sh -ec <script>`, user `0:0`, workdir `/` and network `none`. The container is then committed
 * with the stage's labels and a config that restores the base image's ENTRYPOINT/CMD/WORKDIR/USER, so
 * the service entrypoint never leaks into the stage. It is removed in every case (success, failure,
 * abort).
 *
 * Config-only stages (`from`, `dockerInstructions`, `imageSpec`) take the same path with nothing to
 * run: committing a created container writes the config exactly (JSON, no Dockerfile quoting of ENV
 * or LABEL values) and adds no layer, since the container's filesystem is unchanged. Only `from:
 * scratch`, which has no image to create a container from, is a tiny `docker build` (`FROM scratch`).
 */
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import type {
  BuiltStage,
  CallOptions,
  DependenciesStageRequest,
  DockerfileStageRequest,
  Executor,
  FromStageRequest,
  GitArchiveStep,
  GitPatchStep,
  ImportStep,
  ShellStageRequest,
  StageBuildCommon,
  StageBuildRequest,
  StageName,
} from '@strata/core';
import { abortReason, InternalError, StrataError } from '@strata/errors';
import type { GitRepository } from '@strata/git';
import { createBuildContext } from './context.js';
import { DockerBuildError, DockerError, engineMessage, isNotFound } from './errors.js';
import {
  dockerInstructionsConfig,
  imageSpecConfig,
  restoredConfig,
  type BaseImageConfig,
  type CommitConfig,
} from './image-config.js';
import { LineTail, readContainerLog, readProgress, streamLines } from './output.js';
import {
  ancestors,
  buildScript,
  deletionLines,
  joinTarPath,
  readFailureMarker,
  resolveId,
  tarPath,
} from './paths.js';
import { packEntries, readFirstFile, rerootImport, type Ownership, type PackedEntry } from './tar.js';

/** The slice of dockerode the executor uses (STYLE rule 4). */
export type DockerExecutorClient = Pick<Dockerode, 'createContainer' | 'getContainer' | 'getImage' | 'buildImage' | 'pull'>;

/** The slice of the git port the executor uses: archives, changed paths and file reads. */
export type ExecutorGit = Pick<GitRepository, 'archive' | 'changedPaths' | 'findFile' | 'findWorkingTreeFile' | 'commitInfo'>;

/** Where an output line came from. */
export interface OutputSource {
  image: string;
  stage: StageName;
}

export interface DockerExecutorOptions {
  /** The engine client, e.g. `new Dockerode()` (the local socket). */
  docker: DockerExecutorClient;
  /**
   * The project's repository. Needed by `gitArchive`, git patches and `dockerfile` stages; a request that
   * needs it without one fails with an `InternalError` (a wiring bug).
   * @default undefined
   */
  git?: ExecutorGit | undefined;
  /**
   * Pull an image the engine does not have: an external `from` base, or a base/import stage given as a
   * registry reference. The pull goes wherever the reference points, so turn it off where the network
   * must not be used.
   * @default true
   */
  pullMissingBase?: boolean | undefined;
  /** Output lines kept for a failure's message and data. @default 20 */
  outputTailLines?: number | undefined;
  /** Receives each output line of build containers and Dockerfile builds. @default output is only kept for errors */
  onOutput?: ((line: string, source: OutputSource) => void) | undefined;
  /** Prefix of build container names (`<prefix>-<digest12>-<random>`). @default "strata-build" */
  containerNamePrefix?: string | undefined;
}

/** A tar to put into the build container before it runs. */
type TarProducer = (ids: OwnerResolver) => Promise<Readable>;

/** Resolves `owner`/`group` values against the build container's `/etc/passwd` and `/etc/group`. */
type OwnerResolver = (owner: string | undefined, group: string | undefined) => Promise<Ownership>;

/** What one stapel stage does in its build container. */
interface StagePlan {
  tars: TarProducer[];
  /** Service shell lines run before the commands (deletions of git patches). */
  serviceLines: string[];
  commands: readonly string[];
  hostConfig: Dockerode.HostConfig;
  /** The committed config, from the base image's. */
  config(base: BaseImageConfig): CommitConfig;
  author?: string | undefined;
}

const SERVICE_ENTRYPOINT = ['/bin/sh', '-ec'];
/** Scripts longer than this are put into the container as a file. */
const INLINE_SCRIPT_LIMIT = 64 * 1024;

export class DockerExecutor implements Executor {
  readonly #docker: DockerExecutorClient;
  readonly #git: ExecutorGit | undefined;
  readonly #pull: boolean;
  readonly #tailLines: number;
  readonly #onOutput: ((line: string, source: OutputSource) => void) | undefined;
  readonly #namePrefix: string;

  /** No I/O. */
  constructor(options: DockerExecutorOptions) {
    this.#docker = options.docker;
    this.#git = options.git;
    this.#pull = options.pullMissingBase ?? true;
    this.#tailLines = options.outputTailLines ?? 20;
    this.#onOutput = options.onOutput;
    this.#namePrefix = options.containerNamePrefix ?? 'strata-build';
  }

  async buildStage(request: StageBuildRequest, options: CallOptions = {}): Promise<BuiltStage> {
    const { signal } = options;
    signal?.throwIfAborted();
    try {
      switch (request.kind) {
        case 'from':
          return await this.#buildFrom(request, signal);
        case 'dockerfile':
          return await this.#buildDockerfile(request, signal);
        case 'shell':
          return await this.#buildOnBase(request, request.baseImageRef, await this.#shellPlan(request, signal), signal);
        case 'gitArchive':
          return await this.#buildOnBase(request, request.baseImageRef, this.#plan({ tars: request.mappings.map((m) => this.#archiveTar(m, signal)) }, request), signal);
        case 'gitPatch':
          return await this.#buildOnBase(request, request.baseImageRef, await this.#patchPlan(request, request.patches, [], {}, signal), signal);
        case 'dependencies':
          return await this.#buildOnBase(request, request.baseImageRef, this.#dependenciesPlan(request, signal), signal);
        case 'dockerInstructions':
          return await this.#buildOnBase(
            request,
            request.baseImageRef,
            this.#plan({ config: (base) => dockerInstructionsConfig(base, request.instructions, request.labels) }, request),
            signal,
          );
        case 'imageSpec':
          return await this.#buildOnBase(
            request,
            request.baseImageRef,
            this.#plan({ config: (base) => imageSpecConfig(base, request.spec, request.labels), author: request.spec.author }, request),
            signal,
          );
      }
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      throw error;
    }
  }

  #plan(partial: Partial<StagePlan>, request: StageBuildCommon): StagePlan {
    return {
      tars: [],
      serviceLines: [],
      commands: [],
      hostConfig: {},
      config: (base) => restoredConfig(base, request.labels),
      ...partial,
    };
  }

  #requireGit(request: StageBuildCommon): ExecutorGit {
    if (!this.#git) throw new InternalError(`DockerExecutor needs a git repository to build ${request.stage} of ${request.image}`);
    return this.#git;
  }

  // ---- from ----------------------------------------------------------------------------------------

  async #buildFrom(request: FromStageRequest, signal: AbortSignal | undefined): Promise<BuiltStage> {
    if (request.base.kind === 'scratch') return this.#buildScratch(request, signal);
    const ref = request.base.kind === 'external' ? request.base.ref : request.base.imageRef;
    return this.#buildOnBase(request, ref, this.#plan({}, request), signal);
  }

  async #buildScratch(request: FromStageRequest, signal: AbortSignal | undefined): Promise<BuiltStage> {
    const context = await packToBuffer([{ type: 'file', name: 'Dockerfile', mode: 0o644, content: Buffer.from('FROM scratch\n') }]);
    const id = await this.#runBuild(request, context, { dockerfile: 'Dockerfile', labels: { ...request.labels } }, signal);
    return this.#built(id, request, signal);
  }

  /**
   * Makes sure `ref` is in the engine, pulling it when allowed (a base image written in werf.yaml, or a
   * stage of a registry store the local engine has not seen), and returns its inspection.
   */
  async #ensureImage(ref: string, request: { image: string; stage: string }, pull: boolean, signal: AbortSignal | undefined): Promise<Dockerode.ImageInspectInfo> {
    const found = await this.#findImage(ref, signal);
    if (found) return found;
    let pullError: unknown;
    if (pull) {
      try {
        const stream = await this.#docker.pull(ref, { abortSignal: signal });
        await readProgress(stream, (message) => {
          if (message.error !== undefined) pullError = new Error(message.error);
        });
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        pullError = error;
      }
      const pulled = await this.#findImage(ref, signal);
      if (pulled) return pulled;
    }
    throw new DockerError(
      'DOCKER_IMAGE_NOT_FOUND',
      `image ${ref} needed by ${request.stage} of ${request.image} is not in the local Docker engine${pull ? ` and could not be pulled (${engineMessage(pullError)})` : ''}`,
      {
        hint: `Load it into the engine first (docker load -i image.tar, docker import, or docker pull ${ref} where the registry is reachable).`,
        data: { image: request.image, stage: request.stage, ref, operation: 'pull' },
        cause: pullError,
      },
    );
  }

  async #findImage(ref: string, signal: AbortSignal | undefined): Promise<Dockerode.ImageInspectInfo | undefined> {
    try {
      return await this.#docker.getImage(ref).inspect({ abortSignal: signal } as Dockerode.ImageInspectOptions);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#engineError(error, 'inspect image', ref, undefined, signal);
    }
  }

  // ---- stapel stages -----------------------------------------------------------------------------

  async #shellPlan(request: ShellStageRequest, signal: AbortSignal | undefined): Promise<StagePlan> {
    const hostConfig = mountsHostConfig(request.mounts, request.labels.werf ?? 'strata');
    return this.#patchPlan(request, request.gitPatches, request.commands, hostConfig, signal);
  }

  async #patchPlan(
    request: StageBuildCommon,
    patches: readonly GitPatchStep[],
    commands: readonly string[],
    hostConfig: Dockerode.HostConfig,
    signal: AbortSignal | undefined,
  ): Promise<StagePlan> {
    const tars: TarProducer[] = [];
    const serviceLines: string[] = [];
    for (const patch of patches) {
      const { tar, deletions } = await this.#patchStep(request, patch, signal);
      if (tar) tars.push(tar);
      serviceLines.push(...deletions);
    }
    return this.#plan({ tars, serviceLines, commands, hostConfig }, request);
  }

  /**
   * One mapping's changes between two commits: a tar of the added, modified and type-changed paths
   * (content and mode from `toCommit`, symlinks as symlinks, submodules as empty directories, parent
   * directories 0755 so a file replaced by a directory is replaced), and shell lines deleting removed
   * paths (minus those a new path replaces or sits under), then the directories they leave empty.
   */
  async #patchStep(
    request: StageBuildCommon,
    patch: GitPatchStep,
    signal: AbortSignal | undefined,
  ): Promise<{ tar?: TarProducer | undefined; deletions: string[] }> {
    const gitRepo = this.#requireGit(request);
    const changed = await gitRepo.changedPaths(
      { from: patch.fromCommit, to: patch.toCommit, basePath: patch.add, includePaths: patch.includePaths, excludePaths: patch.excludePaths },
      { signal },
    );
    const base = tarPath(patch.add);
    const to = tarPath(patch.to);
    const relative = (p: string): string => (base === '' ? p : p === base ? '' : p.slice(base.length + 1));
    const added = changed.filter((c) => c.status !== 'deleted');
    const addedPaths = new Set(added.map((c) => relative(c.path)));
    const addedAncestors = new Set([...addedPaths].flatMap((a) => ancestors(a)));
    // A deleted path that a new path sits under (file → directory) or replaces (directory → file) is
    // handled by the tar; deleting it afterwards would remove the new content.
    const deleted = changed
      .filter((c) => c.status === 'deleted')
      .map((c) => relative(c.path))
      .filter((d) => !addedAncestors.has(d) && !ancestors(d).some((a) => addedPaths.has(a)));
    const deletions = deletionLines(
      deleted.map((d) => joinTarPath(to, d)),
      to,
    );
    if (added.length === 0) return { deletions };
    const tar: TarProducer = async (ids) => {
      const ownership = await ids(patch.owner, patch.group);
      const mtime = new Date((await gitRepo.commitInfo(patch.toCommit, { signal })).timeMs);
      async function* entries(): AsyncGenerator<PackedEntry> {
        const dirs = new Set<string>();
        for (const change of added) {
          signal?.throwIfAborted();
          const rel = relative(change.path);
          for (const dir of ancestors(rel)) {
            if (dirs.has(dir)) continue;
            dirs.add(dir);
            yield { type: 'directory', name: joinTarPath(to, dir), mode: 0o755 };
          }
          const name = joinTarPath(to, rel);
          if (change.newMode === '160000') {
            yield { type: 'directory', name, mode: 0o755 };
            continue;
          }
          const content = await gitRepo.findFile(patch.toCommit, change.path, { signal });
          if (content === undefined) throw new InternalError(`${change.path} is reported changed in ${patch.toCommit} but cannot be read`);
          if (change.newMode === '120000') yield { type: 'symlink', name, target: Buffer.from(content).toString('utf8') };
          else yield { type: 'file', name, mode: change.newMode === '100755' ? 0o755 : 0o644, content };
        }
      }
      return packEntries(entries(), ownership, mtime);
    };
    return { tar, deletions };
  }

  #archiveTar(mapping: GitArchiveStep, signal: AbortSignal | undefined): TarProducer {
    return async (ids) => {
      const git = this.#git;
      if (!git) throw new InternalError('DockerExecutor needs a git repository to build gitArchive');
      const ownership = await ids(mapping.owner, mapping.group);
      return git.archive(
        {
          commit: mapping.commit,
          basePath: mapping.add,
          includePaths: mapping.includePaths,
          excludePaths: mapping.excludePaths,
          prefix: tarPath(mapping.to),
          owner: ownership.uid,
          group: ownership.gid,
        },
        { signal },
      );
    };
  }

  #dependenciesPlan(request: DependenciesStageRequest, signal: AbortSignal | undefined): StagePlan {
    const env = Object.entries(request.env).map(([key, value]) => `${key}=${value}`);
    return this.#plan(
      {
        tars: request.imports.map((step) => this.#importTar(request, step, signal)),
        config: (base) => ({ ...restoredConfig(base, request.labels), ...(env.length > 0 ? { Env: env } : {}) }),
      },
      request,
    );
  }

  /** Files of another image, re-rooted at `to` and owned as the import says. */
  #importTar(request: StageBuildCommon, step: ImportStep, signal: AbortSignal | undefined): TarProducer {
    return async (ids) => {
      const ownership = await ids(step.owner, step.group);
      // Buffered so the source container is removed before the put.
      return Readable.from([
        await this.#withSourceArchive(step.sourceImageRef, step.add, { image: request.image, stage: request.stage, label: request.digest }, signal, (archive) =>
          streamToBuffer(rerootImport(archive, { ...step, ...ownership, to: tarPath(step.to) })),
        ),
      ]);
    };
  }

  /**
   * The checksum of the files an import takes: the port hands over werf's checksum command, which is
   * run with `/bin/sh -c` in a container of the source image (network `none`, removed afterwards);
   * the result is the first field of its output. The source image must have a POSIX shell, `find`,
   * `sort`, `xargs`, `md5sum` and `cut`.
   */
  async importChecksum(request: ImportChecksumRequest, options: CallOptions = {}): Promise<string> {
    const { signal } = options;
    signal?.throwIfAborted();
    const context = { image: request.sourceImageRef, stage: 'import' };
    const fail = (why: string, lines: readonly string[], cause?: unknown): DockerError =>
      new DockerError('DOCKER_CHECKSUM_FAILED', `checksum of ${request.add} in image ${request.sourceImageRef} failed: ${why}${formatTail(lines)}`, {
        hint: 'The source image of an import needs /bin/sh, find, sort, xargs, md5sum and cut for the checksum werf computes.',
        data: { ref: request.sourceImageRef, value: request.add, operation: 'importChecksum' },
        cause,
      });
    await this.#ensureImage(request.sourceImageRef, context, this.#pull, signal);
    const container = await this.#createContainer(
      'checksum',
      { Image: request.sourceImageRef, Entrypoint: ['/bin/sh', '-c'], Cmd: [request.command], User: '0:0', WorkingDir: '/' },
      context,
      signal,
    );
    const kill = (): void => {
      container.kill().catch(() => undefined);
    };
    signal?.addEventListener('abort', kill, { once: true });
    try {
      let status: number;
      const stdout: string[] = [];
      const all: string[] = [];
      try {
        status = await runAttached(container, signal, (line, channel) => {
          all.push(line);
          if (channel === 'stdout') stdout.push(line);
        });
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        throw fail(engineMessage(error), [], error);
      }
      signal?.throwIfAborted();
      if (status !== 0) throw fail(`exit code ${status}`, all.slice(-this.#tailLines));
      const checksum = stdout.join('\n').trim().split(/\s+/)[0] ?? '';
      if (checksum === '') throw fail('no output', all.slice(-this.#tailLines));
      return checksum;
    } finally {
      signal?.removeEventListener('abort', kill);
      await container.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  /** Runs `use` on a `getArchive` of `add` from a created (never started) container of `imageRef`. */
  async #withSourceArchive<T>(
    imageRef: string,
    add: string,
    context: { image: string; stage: string; label: string },
    signal: AbortSignal | undefined,
    use: (archive: NodeJS.ReadableStream) => Promise<T>,
  ): Promise<T> {
    await this.#ensureImage(imageRef, context, this.#pull, signal);
    const source = await this.#createContainer(context.label, { Image: imageRef, Entrypoint: ['/strata-import'], Cmd: [] }, context, signal);
    try {
      let archive: NodeJS.ReadableStream;
      try {
        archive = await source.getArchive({ path: add, abortSignal: signal });
      } catch (error) {
        if (isNotFound(error)) {
          throw new DockerError('DOCKER_PATH_NOT_FOUND', `${add} does not exist in image ${imageRef} (import into ${context.image})`, {
            hint: `Check import.add: ${add} is not in the last stage of the source image.`,
            data: { image: context.image, stage: context.stage, ref: imageRef, value: add },
            cause: error,
          });
        }
        throw this.#engineError(error, 'getArchive', imageRef, undefined, signal);
      }
      return await use(archive);
    } finally {
      await source.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  // ---- the build container -----------------------------------------------------------------------

  async #createContainer(
    label: string,
    options: Dockerode.ContainerCreateOptions,
    request: { image: string; stage: string },
    signal: AbortSignal | undefined,
  ): Promise<Dockerode.Container> {
    const name = `${this.#namePrefix}-${label.slice(0, 12).replace(/[^a-zA-Z0-9_.-]/g, '-')}-${randomBytes(4).toString('hex')}`;
    try {
      return await this.#docker.createContainer({
        name,
        NetworkDisabled: true,
        AttachStdin: false,
        AttachStdout: false,
        AttachStderr: false,
        Tty: false,
        ...options,
        HostConfig: { ...options.HostConfig, NetworkMode: 'none' },
        abortSignal: signal,
      });
    } catch (error) {
      throw this.#engineError(error, 'create container', options.Image, request, signal);
    }
  }

  async #buildOnBase(request: StageBuildCommon, baseRef: string, plan: StagePlan, signal: AbortSignal | undefined): Promise<BuiltStage> {
    const image = await this.#ensureImage(baseRef, request, this.#pull, signal);
    const base = image.Config as BaseImageConfig;
    const script = buildScript(plan.serviceLines, plan.commands);
    const runs = plan.serviceLines.length > 0 || plan.commands.length > 0;
    // Linux caps one argument at 128 KiB: a longer script goes in as a file that deletes itself first
    // (the shell keeps it open), so it never reaches the committed layer.
    let command = script;
    let scriptFile: PackedEntry | undefined;
    if (Buffer.byteLength(script) > INLINE_SCRIPT_LIMIT) {
      const name = `.strata-build-${randomBytes(6).toString('hex')}.sh`;
      command = `. /${name}`;
      scriptFile = { type: 'file', name, mode: 0o600, content: Buffer.from(`rm -f -- /${name}\n${script}`) };
    }
    const container = await this.#createContainer(
      request.digest,
      {
        Image: baseRef,
        Entrypoint: SERVICE_ENTRYPOINT,
        Cmd: [command],
        // Set only when the base differs, so the commit does not record a value the base did not have.
        User: base.User ? '0:0' : undefined,
        WorkingDir: base.WorkingDir && base.WorkingDir !== '/' ? '/' : undefined,
        HostConfig: plan.hostConfig,
      },
      request,
      signal,
    );
    const kill = (): void => {
      container.kill().catch(() => undefined);
    };
    signal?.addEventListener('abort', kill, { once: true });
    try {
      const owners = this.#ownerResolver(container, request, signal);
      const tars = scriptFile && runs ? [...plan.tars, () => Promise.resolve(packEntries([scriptFile], {}, new Date(0)))] : plan.tars;
      for (const produce of tars) {
        signal?.throwIfAborted();
        const tar = await produce(owners);
        try {
          await container.putArchive(tar, { path: '/', abortSignal: signal });
        } catch (error) {
          throw this.#engineError(error, 'putArchive', baseRef, request, signal);
        }
      }
      if (runs) await this.#run(container, request, plan, signal);
      signal?.throwIfAborted();
      const config = plan.config(base);
      let committed: { Id?: string };
      try {
        committed = (await container.commit({
          _query: { container: container.id, pause: false, ...(plan.author ? { author: plan.author } : {}) },
          _body: config,
          abortSignal: signal,
        })) as { Id?: string };
      } catch (error) {
        throw this.#engineError(error, 'commit', baseRef, request, signal);
      }
      if (!committed.Id) throw new InternalError(`the engine committed ${request.stage} of ${request.image} without returning an image id`);
      return await this.#built(committed.Id, request, signal);
    } finally {
      signal?.removeEventListener('abort', kill);
      await container.remove({ force: true, v: true }).catch(() => undefined);
    }
  }

  #ownerResolver(container: Dockerode.Container, request: StageBuildCommon, signal: AbortSignal | undefined): OwnerResolver {
    const tables = new Map<string, Promise<string | undefined>>();
    const table = (file: string): Promise<string | undefined> => {
      let pending = tables.get(file);
      if (!pending) {
        pending = container.getArchive({ path: file, abortSignal: signal }).then(
          async (stream) => (await readFirstFile(stream))?.toString('utf8'),
          (error: unknown) => {
            if (isNotFound(error)) return undefined;
            throw this.#engineError(error, 'getArchive', file, request, signal);
          },
        );
        tables.set(file, pending);
      }
      return pending;
    };
    const where = `${request.image} (stage ${request.stage})`;
    return async (owner, group) => ({
      uid: owner === undefined || /^\d+$/.test(owner) ? resolveId(owner, undefined, 'owner', where) : resolveId(owner, await table('/etc/passwd'), 'owner', where),
      gid: group === undefined || /^\d+$/.test(group) ? resolveId(group, undefined, 'group', where) : resolveId(group, await table('/etc/group'), 'group', where),
    });
  }

  async #run(container: Dockerode.Container, request: StageBuildCommon, plan: StagePlan, signal: AbortSignal | undefined): Promise<void> {
    const tail = new LineTail(this.#tailLines);
    const source: OutputSource = { image: request.image, stage: request.stage };
    let status: number;
    let marker: { step?: number | undefined } = {};
    try {
      // stdout and stderr are separate pipes: the marker may arrive before earlier stdout lines.
      status = await runAttached(container, signal, (line) => {
        const found = readFailureMarker([line]);
        if (found.step !== undefined) {
          marker = found;
          return;
        }
        tail.push(line);
        this.#onOutput?.(line, source);
      });
    } catch (error) {
      throw this.#engineError(error, 'run build container', container.id, request, signal);
    }
    signal?.throwIfAborted();
    if (status === 0) return;
    const outputTail = tail.lines.slice(-this.#tailLines);
    const step = marker.step;
    const digestData = { image: request.image, stage: request.stage, digest: request.digest, exitCode: status, outputTail };
    if (step === 0 || (step === undefined && plan.commands.length === 0)) {
      throw new DockerBuildError(
        'DOCKER_SERVICE_STEP_FAILED',
        `applying git changes in stage ${request.stage} of image ${request.image} failed with exit code ${status}${formatTail(outputTail)}`,
        { hint: 'The image needs /bin/sh and rm to apply deletions of a git patch.', data: digestData },
      );
    }
    const command = step === undefined ? undefined : plan.commands[step - 1];
    throw new DockerBuildError(
      'DOCKER_COMMAND_FAILED',
      `stage ${request.stage} of image ${request.image} failed: ${command === undefined ? 'a command' : `command ${JSON.stringify(command)}`} exited with code ${status}${formatTail(outputTail)}`,
      { hint: 'Fix the command in werf.yaml; its output is above.', data: { ...digestData, command } },
    );
  }

  async #built(id: string, request: StageBuildCommon, signal: AbortSignal | undefined): Promise<BuiltStage> {
    const image = await this.#findImage(id, signal);
    if (!image) throw new InternalError(`image ${id} of ${request.stage} (${request.image}) vanished right after it was built`);
    return { imageRef: image.Id, imageId: image.Id, size: image.Size };
  }

  // ---- Dockerfile --------------------------------------------------------------------------------

  async #buildDockerfile(request: DockerfileStageRequest, signal: AbortSignal | undefined): Promise<BuiltStage> {
    const git = this.#requireGit(request);
    const context = await createBuildContext(git, request, signal);
    const options: Dockerode.ImageBuildOptions = {
      dockerfile: context.dockerfile,
      buildargs: { ...request.buildArgs },
      labels: { ...request.labels },
      ...(request.target ? { target: request.target } : {}),
      ...(request.addHost.length > 0 ? { extrahosts: request.addHost.join(',') } : {}),
    };
    const id = await this.#runBuild(request, context.stream, options, signal);
    return this.#built(id, request, signal);
  }

  /**
   * `docker build` with the classic builder, always on network `none`, removing intermediate containers
   * even on failure. Returns the image id.
   */
  async #runBuild(
    request: StageBuildCommon,
    context: NodeJS.ReadableStream | Buffer,
    options: Dockerode.ImageBuildOptions,
    signal: AbortSignal | undefined,
  ): Promise<string> {
    const tail = new LineTail(this.#tailLines);
    const source: OutputSource = { image: request.image, stage: request.stage };
    let id: string | undefined;
    let failure: { message: string; code?: number | undefined } | undefined;
    // A failure to produce the context (e.g. a git error) is the real cause of a failed upload.
    let contextError: unknown;
    if (!Buffer.isBuffer(context)) (context as Readable).on('error', (error) => (contextError = error));
    try {
      const stream = await this.#docker.buildImage(
        Buffer.isBuffer(context) ? Readable.from([context]) : context,
        { ...options, networkmode: 'none', rm: true, forcerm: true, version: '1', abortSignal: signal },
      );
      await readProgress(stream, (message) => {
        if (message.aux?.ID) id = message.aux.ID;
        if (message.stream !== undefined) {
          for (const line of streamLines(message.stream)) {
            tail.push(line);
            this.#onOutput?.(line, source);
          }
        }
        if (message.error !== undefined) failure = { message: message.error, code: message.errorDetail?.code };
      });
    } catch (error) {
      throw this.#engineError(contextError ?? error, 'build', request.image, request, signal);
    }
    signal?.throwIfAborted();
    if (contextError !== undefined) throw this.#engineError(contextError, 'build', request.image, request, signal);
    if (failure || !id) {
      const message = failure?.message ?? 'the engine reported no image id';
      throw new DockerBuildError(
        'DOCKERFILE_BUILD_FAILED',
        `docker build of ${request.stage} of image ${request.image} failed: ${message}${formatTail(tail.lines)}`,
        {
          hint: 'Fix the Dockerfile or its build context; the build output is above.',
          data: { image: request.image, stage: request.stage, digest: request.digest, exitCode: failure?.code, outputTail: [...tail.lines] },
        },
      );
    }
    return id;
  }

  #engineError(error: unknown, operation: string, ref: string | undefined, request: { image: string; stage: string } | undefined, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return abortReason(signal);
    // Typed errors (ours, the git port's) already say what failed.
    if (error instanceof StrataError) return error;
    return new DockerError(
      'DOCKER_ENGINE_FAILED',
      `Docker engine failed to ${operation}${ref ? ` (${ref})` : ''}${request ? ` for ${request.stage} of ${request.image}` : ''}: ${engineMessage(error)}`,
      {
        hint: 'Check that the engine is running and has disk space (docker info).',
        data: { image: request?.image, stage: request?.stage, ref, operation },
        cause: error,
      },
    );
  }
}

/**
 * Starts a created container and waits for it, passing each output line on; returns the exit code.
 * The output is attached before the start, so it comes straight from the container's stdio whatever the
 * engine's log driver (it may be `none`); stdout and stderr lines are interleaved as they arrive.
 */
async function runAttached(
  container: Dockerode.Container,
  signal: AbortSignal | undefined,
  onLine: (line: string, channel: 'stdout' | 'stderr') => void,
): Promise<number> {
  const attached = await container.attach({ stream: true, stdout: true, stderr: true, abortSignal: signal });
  const reading = readContainerLog(attached, onLine);
  await container.start({ abortSignal: signal } as Dockerode.ContainerStartOptions);
  const result = (await container.wait({ abortSignal: signal } as Dockerode.ContainerWaitOptions)) as { StatusCode?: number };
  await reading;
  return result.StatusCode ?? -1;
}

function formatTail(lines: readonly string[]): string {
  return lines.length === 0 ? '' : `\n${lines.map((line) => `  │ ${line}`).join('\n')}`;
}

/**
 * Mounts of a stapel image (werf's `mount`): `tmp_dir` is a tmpfs (never committed); `build_dir` is a
 * named volume kept between builds of the project (`strata-build-dir-<project>-<path>`); a
 * `fromPath` directory is bind-mounted (`~` is the home directory of the user running Strata).
 */
export function mountsHostConfig(mounts: readonly ShellStageRequest['mounts'][number][], project: string): Dockerode.HostConfig {
  const tmpfs: Record<string, string> = {};
  const binds: string[] = [];
  const volumes: Dockerode.MountSettings[] = [];
  for (const mount of mounts) {
    if (mount.type === 'tmp_dir') {
      tmpfs[mount.to] = '';
    } else if (mount.type === 'build_dir') {
      const slug = tarPath(mount.to).replace(/[^a-zA-Z0-9_.-]+/g, '-') || 'root';
      volumes.push({ Type: 'volume', Source: `strata-build-dir-${project}-${slug}`, Target: mount.to });
    } else if (mount.type === 'custom_dir') {
      const from = mount.fromPath.startsWith('~') ? path.join(homedir(), mount.fromPath.slice(1)) : path.resolve(mount.fromPath);
      binds.push(`${from}:${mount.to}`);
    }
  }
  return {
    ...(Object.keys(tmpfs).length > 0 ? { Tmpfs: tmpfs } : {}),
    ...(binds.length > 0 ? { Binds: binds } : {}),
    ...(volumes.length > 0 ? { Mounts: volumes } : {}),
  };
}

/** An import checksum's input. */
export type ImportChecksumRequest = Parameters<Executor['importChecksum']>[0];

async function streamToBuffer(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of Readable.from(stream as AsyncIterable<Buffer>)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function packToBuffer(entries: readonly PackedEntry[]): Promise<Buffer> {
  return streamToBuffer(packEntries(entries, {}, new Date(0)));
}
