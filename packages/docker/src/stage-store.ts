/**
 * `DockerStageStore`: stages in the local Docker engine's image store (SPEC §3.1, §3.2 "Local"), as
 * images tagged `PROJECT:DIGEST-TIMESTAMP_MILLISEC` and labelled with the stage labels.
 */
import { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import {
  STAGE_LABELS,
  SingleFlight,
  compareStageIds,
  formatStageId,
  labelsToRecord,
  recordToLabels,
  tryParseStageId,
  type CallOptions,
  type ListStagesOptions,
  type PublishResult,
  type StageDigest,
  type StageId,
  type StageRecord,
  type StageStore,
} from '@strata/core';
import { abortReason, InternalError } from '@strata/errors';
import tar from 'tar-stream';
import { DockerError, engineMessage, isNotFound } from './errors.js';
import { readProgress } from './output.js';

/** The slice of dockerode the store uses (STYLE rule 4). */
export type DockerStageStoreClient = Pick<Dockerode, 'listImages' | 'getImage' | 'buildImage' | 'pull'>;

export interface DockerStageStoreOptions {
  docker: DockerStageStoreClient;
  /** The werf project: the repository name of stage tags and the `werf` label listings filter on. */
  project: string;
  /** @default "local" */
  name?: string | undefined;
  /**
   * Pull a published record's `imageRef` that the engine does not have (a stage of a registry store
   * being copied into the local one).
   * @default true
   */
  pullMissingSource?: boolean | undefined;
}

/** A snapshot entry: a stage id and, when it came from a listing, the image facts its record needs. */
interface Listed {
  id: StageId;
  image?: { labels: Readonly<Record<string, string>>; imageId: string; size: number } | undefined;
}

/**
 * Serialises publishes of one tag within this process: the engine's tag endpoint overwrites silently,
 * so "tag unless it exists" is a check and a tag done under this lock. Across processes the engine
 * offers no atomic create-if-absent; there the optimistic-lock protocol (`publishStage` under a
 * `StageLock`) is what keeps two publishers of one digest apart (SPEC §4.2).
 */
const tagLocks = new Map<string, Promise<unknown>>();

async function withTagLock<T>(key: string, work: () => Promise<T>): Promise<T> {
  const previous = tagLocks.get(key) ?? Promise.resolve();
  const current = previous.then(work, work);
  const settled = current.catch(() => undefined);
  tagLocks.set(key, settled);
  try {
    return await current;
  } finally {
    if (tagLocks.get(key) === settled) tagLocks.delete(key);
  }
}

/**
 * A {@link StageStore} on the local Docker engine.
 *
 * - Listing asks the engine once (`GET /images/json?filters={"label":["werf=<project>"]}`) and answers
 *   later non-live listings from that snapshot plus this object's own publishes; `live` lists again.
 *   Concurrent first listings share one request (the engine answers a listing slowly when it holds
 *   many images, and a build looks up several images at once).
 * - Finding answers from the listing snapshot when it holds the id: the listing already carries each
 *   image's labels, id and size, which is all a record needs, so a build that listed pays no inspect per
 *   stage. A tag names one stage for ever (stage records are immutable per id), so a snapshot entry
 *   stays right for the build; the one thing it cannot see is a stage deleted after the listing (only
 *   cleanup deletes), which the executor then finds missing when it uses the image as a base. An id the
 *   snapshot lacks (no listing yet, another process's publish, this object's own publish) is inspected:
 *   `PROJECT:DIGEST-TS`, a missing tag is `undefined`.
 * - Publishing tags the record's image as `PROJECT:DIGEST-TS`. When the image's labels differ from the
 *   record's (a copy from another store, a test image), a relabelled image is made first with a
 *   `FROM <image>` build that only sets labels (no layer is added, the rest of the config is kept).
 */
export class DockerStageStore implements StageStore {
  readonly name: string;
  readonly project: string;
  readonly #docker: DockerStageStoreClient;
  readonly #pull: boolean;
  #snapshot: Map<string, Listed> | undefined;
  readonly #listing = new SingleFlight<'list', Map<string, Listed>>();

  /** No I/O. */
  constructor(options: DockerStageStoreOptions) {
    this.#docker = options.docker;
    this.project = options.project;
    this.name = options.name ?? 'local';
    this.#pull = options.pullMissingSource ?? true;
  }

  /** The reference a stage has in this store: `PROJECT:DIGEST-TS`. */
  imageRef(id: StageId): string {
    return `${this.project}:${formatStageId(id)}`;
  }

  /** Lists the engine's stages now unless a snapshot exists (see {@link StageStore.prefetch}). */
  async prefetch(options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await this.#loadSnapshot(options.signal);
  }

  async #loadSnapshot(signal: AbortSignal | undefined): Promise<Map<string, Listed>> {
    if (this.#snapshot) return this.#snapshot;
    const listed = await this.#listing.run('list', (shared) => this.#list(shared), { signal });
    this.#snapshot ??= listed;
    return this.#snapshot;
  }

  async listStageIds(digest: StageDigest | undefined, options: ListStagesOptions = {}): Promise<readonly StageId[]> {
    const { signal } = options;
    signal?.throwIfAborted();
    if (options.live) this.#snapshot = await this.#list(signal);
    const snapshot = this.#snapshot ?? (await this.#loadSnapshot(signal));
    return [...snapshot.values()]
      .map((entry) => entry.id)
      .filter((id) => digest === undefined || id.digest === digest)
      .sort(compareStageIds);
  }

  async #list(signal: AbortSignal | undefined): Promise<Map<string, Listed>> {
    let images: Dockerode.ImageInfo[];
    try {
      images = await this.#docker.listImages({ filters: { label: [`${STAGE_LABELS.project}=${this.project}`] }, abortSignal: signal });
    } catch (error) {
      throw this.#error(error, 'list images', this.project, signal);
    }
    signal?.throwIfAborted();
    const ids = new Map<string, Listed>();
    const prefix = `${this.project}:`;
    for (const image of images) {
      for (const tag of image.RepoTags ?? []) {
        if (!tag.startsWith(prefix)) continue;
        const id = tryParseStageId(tag.slice(prefix.length));
        if (id) ids.set(formatStageId(id), { id, image: { labels: image.Labels ?? {}, imageId: image.Id, size: image.Size } });
      }
    }
    return ids;
  }

  async findStage(id: StageId, options: CallOptions = {}): Promise<StageRecord | undefined> {
    const { signal } = options;
    signal?.throwIfAborted();
    const ref = this.imageRef(id);
    const listed = this.#snapshot?.get(formatStageId(id))?.image;
    if (listed) return labelsToRecord(listed.labels, { id, imageRef: ref, imageId: listed.imageId, size: listed.size });
    const image = await this.#inspect(ref, signal);
    signal?.throwIfAborted();
    if (!image) return undefined;
    return labelsToRecord(image.Config.Labels ?? {}, { id, imageRef: ref, imageId: image.Id, size: image.Size });
  }

  async publish(record: StageRecord, options: CallOptions = {}): Promise<PublishResult> {
    const { signal } = options;
    signal?.throwIfAborted();
    const ref = this.imageRef(record.id);
    return withTagLock(ref, async () => {
      signal?.throwIfAborted();
      const existing = await this.findStage(record.id, { signal });
      if (existing) return { status: 'conflict', existing };
      const source = await this.#source(record.imageRef, signal);
      const labels = recordToLabels(record);
      const current = source.Config.Labels ?? {};
      const imageId = Object.entries(labels).every(([key, value]) => current[key] === value)
        ? source.Id
        : await this.#relabel(source.Id, labels, signal);
      signal?.throwIfAborted();
      try {
        await this.#docker.getImage(imageId).tag({ repo: this.project, tag: formatStageId(record.id), abortSignal: signal } as Dockerode.ImageTagOptions);
      } catch (error) {
        throw this.#error(error, 'tag', ref, signal);
      }
      this.#snapshot?.set(formatStageId(record.id), { id: record.id });
      const stored = await this.findStage(record.id);
      if (!stored) throw new InternalError(`stage ${ref} was tagged but cannot be found`);
      return { status: 'stored', stage: stored };
    });
  }

  async #inspect(ref: string, signal: AbortSignal | undefined): Promise<Dockerode.ImageInspectInfo | undefined> {
    try {
      return await this.#docker.getImage(ref).inspect({ abortSignal: signal } as Dockerode.ImageInspectOptions);
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw this.#error(error, 'inspect', ref, signal);
    }
  }

  /** The image to publish, pulled when the engine does not have it and pulling is allowed. */
  async #source(ref: string, signal: AbortSignal | undefined): Promise<Dockerode.ImageInspectInfo> {
    const found = await this.#inspect(ref, signal);
    if (found) return found;
    let cause: unknown;
    if (this.#pull) {
      try {
        await readProgress(await this.#docker.pull(ref, { abortSignal: signal }), (message) => {
          if (message.error !== undefined) cause = new Error(message.error);
        });
      } catch (error) {
        if (signal?.aborted) throw abortReason(signal);
        cause = error;
      }
      const pulled = await this.#inspect(ref, signal);
      if (pulled) return pulled;
    }
    throw new DockerError('DOCKER_IMAGE_NOT_FOUND', `image ${ref} to publish is not in the local Docker engine${cause ? ` (${engineMessage(cause)})` : ''}`, {
      hint: 'Publish the image reference the executor returned, or a stage of a registry the engine can pull from.',
      data: { ref, operation: 'publish' },
      cause,
    });
  }

  /** A copy of `imageId` with `labels` set (`FROM <id>` + build labels: config-only, no new layer). */
  async #relabel(imageId: string, labels: Record<string, string>, signal: AbortSignal | undefined): Promise<string> {
    const pack = tar.pack();
    pack.entry({ name: 'Dockerfile', mode: 0o644, mtime: new Date(0) }, `FROM ${imageId}\n`);
    pack.finalize();
    let id: string | undefined;
    let failure: string | undefined;
    try {
      const stream = await this.#docker.buildImage(Readable.from(pack as AsyncIterable<Buffer>), {
        dockerfile: 'Dockerfile',
        labels,
        networkmode: 'none',
        rm: true,
        forcerm: true,
        version: '1',
        abortSignal: signal,
      });
      await readProgress(stream, (message) => {
        if (message.aux?.ID) id = message.aux.ID;
        if (message.error !== undefined) failure = message.error;
      });
    } catch (error) {
      throw this.#error(error, 'relabel', imageId, signal);
    }
    signal?.throwIfAborted();
    if (failure !== undefined || id === undefined) {
      throw new DockerError('DOCKER_ENGINE_FAILED', `could not relabel image ${imageId}: ${failure ?? 'no image id reported'}`, {
        hint: 'Check the engine (docker info) and retry.',
        data: { ref: imageId, operation: 'relabel' },
      });
    }
    return id;
  }

  #error(error: unknown, operation: string, ref: string, signal: AbortSignal | undefined): Error {
    if (signal?.aborted) return abortReason(signal);
    if (error instanceof DockerError) return error;
    return new DockerError('DOCKER_ENGINE_FAILED', `Docker engine failed to ${operation} ${ref}: ${engineMessage(error)}`, {
      hint: 'Check that the engine is running (docker info).',
      data: { ref, operation },
      cause: error,
    });
  }
}
