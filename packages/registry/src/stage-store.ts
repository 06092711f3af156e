/**
 * The `StageStore` port over a registry repository (SPEC §3): one image per stage, tagged
 * `REPO:DIGEST-TIMESTAMP_MILLISEC`, the stage labels in the image config.
 */
import {
  formatStageId,
  labelsToRecord,
  recordToLabels,
  type CallOptions,
  type ListStagesOptions,
  type PublishResult,
  type StageDigest,
  type StageId,
  type StageRecord,
  type StageStore,
} from '@strata/core';
import { abortReason } from '@strata/errors';
import type { RegistryClient } from './client.js';
import type { Digest } from './digest.js';
import { RegistryError } from './errors.js';
import { createImageManifest, parseManifest, readImageConfigLabels, withImageConfigLabels, type ImageManifest } from './image.js';
import { MediaType } from './media-types.js';
import { parseImageReference, parseRepository, type ImageReference, type Repository } from './reference.js';
import { MemoryStageRecordCache, type StageRecordCache } from './stage-store-record-cache.js';
import { TagListCache } from './tag-cache.js';

export { FileStageRecordCache, MemoryStageRecordCache, defaultStageRecordCacheDir, type StageRecordCache } from './stage-store-record-cache.js';

/**
 * Pushes an image that lives outside any registry (typically in the local Docker engine, as the Docker
 * executor returns it) to a registry reference. The CLI wires a Docker implementation (`docker tag` +
 * `docker push`); the registry package itself never talks to Docker.
 *
 * Contract: after the promise resolves, `target` (a `repo:tag` reference) names the pushed image and
 * `digest` is its manifest digest in that repository. Idempotent for equal content. Rejects with the
 * signal's reason once `signal` is aborted.
 */
export interface LocalImageIngest {
  pushLocalImage(localRef: string, target: ImageReference, options?: CallOptions): Promise<{ digest: Digest }>;
}

/** The registry client operations the store uses (a {@link RegistryClient} in production). */
export type RegistryStageStoreClient = Pick<
  RegistryClient,
  'findManifest' | 'getManifest' | 'getBlob' | 'uploadBlob' | 'copyBlob' | 'putManifest' | 'listTags'
>;

export interface RegistryStageStoreOptions {
  client: RegistryStageStoreClient;
  /** The project whose stages the repository holds (label `werf`): other projects' images are not stages here. */
  project: string;
  /**
   * Where tag listings come from. Share one per build between every store of that build: each
   * repository is then listed once per build (and again, live, only under the publish lock).
   * @default a cache of this store's own
   */
  tagCache?: TagListCache | undefined;
  /**
   * Records of stages already read (or published), answered again without a request while the tag
   * listing shows their tag. Give a {@link FileStageRecordCache} to keep them between builds (a no-op
   * build then makes no per-stage request at all).
   * @default a {@link MemoryStageRecordCache} of this store's own
   */
  recordCache?: StageRecordCache | undefined;
  /**
   * How `publish` gets a local image (one whose `imageRef` is not a registry reference) into the
   * repository.
   * @default none: publishing a local image throws `REGISTRY_INGEST_UNAVAILABLE`
   */
  ingest?: LocalImageIngest | undefined;
  /**
   * Whether a record's `imageRef` is a registry reference (copied registry to registry) rather than a
   * local image (handed to `ingest`).
   * @default {@link isRegistryImageReference}
   */
  isRegistryReference?: ((imageRef: string) => boolean) | undefined;
  /**
   * Blobs copied at once when publishing.
   * @default 3
   */
  concurrency?: number | undefined;
}

/**
 * True when `imageRef` names its registry explicitly (`host.tld/…`, `host:port/…`, `localhost/…`):
 * stage references of registry stores always do. Everything else — `sha256:…` image ids, `name:tag`,
 * `user/name:tag` — is treated as a local image, because Docker would resolve those names locally
 * first.
 */
export function isRegistryImageReference(imageRef: string): boolean {
  const slash = imageRef.indexOf('/');
  if (slash <= 0) return false;
  const first = imageRef.slice(0, slash);
  if (!(/[.:]/.test(first) || first === 'localhost')) return false;
  try {
    parseImageReference(imageRef);
    return true;
  } catch {
    return false;
  }
}

/** What a stage tag holds. */
type TagContent =
  | { readonly kind: 'missing' }
  | { readonly kind: 'foreign'; readonly labels: Readonly<Record<string, string>> }
  | { readonly kind: 'stage'; readonly record: StageRecord };

/** An image read from a registry: its manifest (single-platform) and config. */
interface ReadImage {
  readonly repository: Repository;
  readonly digest: Digest;
  readonly mediaType: string;
  /** The manifest's exact bytes (its digest is over them). */
  readonly bytes: Uint8Array;
  readonly manifest: ImageManifest;
  readonly config: Uint8Array;
}

/** Publishes in flight in this process, by target reference (see {@link RegistryStageStore.publish}). */
const publishing = new Map<string, Promise<unknown>>();

/**
 * A {@link StageStore} over one registry repository.
 *
 * - **Listing** comes from one tag listing of the repository, through the {@link TagListCache}: later
 *   listings (of any digest) are answered from it, `live: true` lists again. Tags that are not stage
 *   ids are ignored. A stage this store publishes is recorded in the cache (read-your-writes).
 * - **Finding** consults the tag listing first: an id it does not show is a miss without a request
 *   (and is forgotten by the record cache). A listed id whose record is in the {@link StageRecordCache}
 *   is answered from it; otherwise the tag's manifest and config are read (two requests; concurrent
 *   finds of one id share them) and the record cached. A tag without a manifest, or whose image has no
 *   stage labels or another project's, is a miss; a missing manifest is also forgotten by the tag
 *   cache and the record cache, so a stage deleted from the registry is treated as absent (and
 *   rebuilt). Records are immutable per (repository, stage id), which is what makes caching them
 *   sound; a stage deleted after the listing and answered from the record cache is found missing when
 *   it is used (a pull or copy of its `imageRef` fails) or at the next listing.
 * - **Publishing** checks the tag first (one request): when it holds a stage, the result is a
 *   `conflict` with that stage; when it holds a foreign image, `REGISTRY_NOT_A_STAGE` is thrown.
 *   Otherwise the image named by `record.imageRef` is put under the tag: a registry reference is
 *   copied registry to registry (blobs mounted within one registry, streamed otherwise; the manifest
 *   and its digest kept when the labels already match), a local image is pushed by the
 *   {@link LocalImageIngest}. When the image's config labels differ from the record's, the config is
 *   rewritten with them (a new config blob and manifest over the same layers). The stored record's
 *   `imageRef` is `REPO:TAG` and its `repoDigest` the bare manifest digest.
 * - **Concurrency.** Publishes of one tag are serialised within the process; across processes the
 *   registry offers no create-if-absent, so the publish lock (`publishStage`) keeps builders apart.
 * - The constructor does no I/O; a store object lives for one build, like its tag cache.
 */
export class RegistryStageStore implements StageStore {
  readonly name: string;
  readonly repository: Repository;
  readonly #client: RegistryStageStoreClient;
  readonly #project: string;
  readonly #tags: TagListCache;
  readonly #records: StageRecordCache;
  /** Record reads in flight, by tag: concurrent finds of one id share one read. */
  readonly #reading = new Map<string, Promise<StageRecord | undefined>>();
  readonly #ingest: LocalImageIngest | undefined;
  readonly #isRegistryReference: (imageRef: string) => boolean;
  readonly #concurrency: number;

  constructor(repository: Repository | string, options: RegistryStageStoreOptions) {
    this.repository = typeof repository === 'string' ? parseRepository(repository) : repository;
    this.name = this.repository.toString();
    this.#client = options.client;
    this.#project = options.project;
    this.#tags = options.tagCache ?? new TagListCache(options.client);
    this.#records = options.recordCache ?? new MemoryStageRecordCache();
    this.#ingest = options.ingest;
    this.#isRegistryReference = options.isRegistryReference ?? isRegistryImageReference;
    this.#concurrency = Math.max(1, options.concurrency ?? 3);
  }

  /** The reference a stage has in this repository: `REPO:DIGEST-TIMESTAMP_MILLISEC`. */
  imageRef(id: StageId): string {
    return this.repository.at(formatStageId(id)).toString();
  }

  /** Starts the build's one tag listing (shared through the tag cache; see {@link StageStore.prefetch}). */
  async prefetch(options: CallOptions = {}): Promise<void> {
    await this.#tags.listing(this.repository, signalOf(options));
  }

  /** The ids, oldest first, from the build's one listing (see the class notes); the array is shared: never mutate it. */
  async listStageIds(digest: StageDigest | undefined, options: ListStagesOptions = {}): Promise<readonly StageId[]> {
    return this.#tags.stageIds(this.repository, digest, { live: options.live === true, ...signalOf(options) });
  }

  async findStage(id: StageId, options: CallOptions = {}): Promise<StageRecord | undefined> {
    options.signal?.throwIfAborted();
    const tag = formatStageId(id);
    if (!(await this.#tags.hasTag(this.repository, tag, signalOf(options)))) {
      await this.#records.forget(this.name, id, signalOf(options));
      return undefined;
    }
    const cached = await this.#records.find(this.name, id, signalOf(options));
    if (cached !== undefined) return cached.project === this.#project ? cached : undefined;
    let reading = this.#reading.get(tag);
    if (reading === undefined) {
      // Not tied to one caller's signal: a read shared by several finds runs to its end.
      reading = this.#readTag(id, {}).then((content) => (content.kind === 'stage' ? content.record : undefined));
      this.#reading.set(tag, reading);
      const clear = () => {
        if (this.#reading.get(tag) === reading) this.#reading.delete(tag);
      };
      reading.then(clear, clear);
    }
    return untilAborted(reading, options.signal);
  }

  /**
   * Stores `record` under its stage id unless the tag exists (see the class notes).
   * @throws RegistryError `REGISTRY_NOT_A_STAGE` when the tag holds a foreign image,
   *   `REGISTRY_INGEST_UNAVAILABLE` for a local image without an ingest, and the client's errors.
   */
  async publish(record: StageRecord, options: CallOptions = {}): Promise<PublishResult> {
    options.signal?.throwIfAborted();
    const key = this.imageRef(record.id);
    const previous = publishing.get(key) ?? Promise.resolve();
    const run = previous.then(
      () => this.#publish(record, options),
      () => this.#publish(record, options),
    );
    publishing.set(key, run);
    try {
      return await untilAborted(run, options.signal);
    } finally {
      if (publishing.get(key) === run) publishing.delete(key);
    }
  }

  async #publish(record: StageRecord, options: CallOptions): Promise<PublishResult> {
    options.signal?.throwIfAborted();
    const tag = formatStageId(record.id);
    const target = this.repository.at(tag);
    const current = await this.#readTag(record.id, options);
    if (current.kind === 'stage') {
      this.#tags.recordTag(this.repository, tag);
      return { status: 'conflict', existing: current.record };
    }
    if (current.kind === 'foreign') {
      throw new RegistryError('REGISTRY_NOT_A_STAGE', `${target.toString()} holds an image that is not a stage of project ${this.#project}`, {
        hint: 'Something else pushed to this stage tag; remove the tag or use another repository for the stages.',
        data: { reference: target.toString(), repository: this.name },
      });
    }
    const labels = recordToLabels(record);
    const source = this.#isRegistryReference(record.imageRef)
      ? await this.#readImage(parseImageReference(record.imageRef), options)
      : await this.#ingestLocal(record.imageRef, target, options);
    const stored = await this.#put(source, target, labels, options);
    this.#tags.recordTag(this.repository, tag);
    const result = labelsToRecord(readImageConfigLabels(stored.config), {
      id: record.id,
      imageRef: target.toString(),
      imageId: stored.manifest.config.digest,
      repoDigest: stored.digest,
      createdAtMs: record.createdAtMs,
      size: imageSize(stored.manifest),
    });
    if (result === undefined) throw new Error(`unreachable: ${target.toString()} was labelled as a stage`);
    // Cached as a later read would see it: the registry keeps no creation time, the id's timestamp stands for it.
    await this.#records.store(this.name, { ...result, createdAtMs: record.id.timestampMs }, signalOf(options));
    return { status: 'stored', stage: result };
  }

  async #readTag(id: StageId, options: CallOptions): Promise<TagContent> {
    const tag = formatStageId(id);
    const reference = this.repository.at(tag);
    const image = await this.#findImage(reference, options);
    if (image === undefined) {
      this.#tags.forgetTag(this.repository, tag);
      await this.#records.forget(this.name, id, signalOf(options));
      return { kind: 'missing' };
    }
    const labels = readImageConfigLabels(image.config);
    const record = labelsToRecord(labels, {
      id,
      imageRef: reference.toString(),
      imageId: image.manifest.config.digest,
      repoDigest: image.digest,
      size: imageSize(image.manifest),
    });
    if (record === undefined || record.project !== this.#project) return { kind: 'foreign', labels };
    await this.#records.store(this.name, record, signalOf(options));
    return { kind: 'stage', record };
  }

  async #findImage(reference: ImageReference, options: CallOptions): Promise<ReadImage | undefined> {
    const manifest = await this.#client.findManifest(reference, signalOf(options));
    if (manifest === undefined) return undefined;
    const parsed = parseManifest(manifest);
    if (parsed.kind === 'index') {
      throw new RegistryError('REGISTRY_PROTOCOL', `${reference.toString()} is a multi-platform index, not a stage image`, {
        hint: 'Stage images are single-platform; the tag was written by something else.',
        data: { reference: reference.toString() },
      });
    }
    const config = await this.#client.getBlob(reference.repository, parsed.manifest.config.digest, signalOf(options));
    return { repository: reference.repository, digest: manifest.digest, mediaType: manifest.mediaType, bytes: manifest.bytes, manifest: parsed.manifest, config };
  }

  async #readImage(reference: ImageReference, options: CallOptions): Promise<ReadImage> {
    const image = await this.#findImage(reference, options);
    if (image !== undefined) return image;
    throw new RegistryError('REGISTRY_MANIFEST_UNKNOWN', `image ${reference.toString()} to publish as a stage does not exist`, {
      hint: 'Publish the reference the executor returned, or a stage that is still stored in its repository.',
      data: { reference: reference.toString() },
    });
  }

  async #ingestLocal(localRef: string, target: ImageReference, options: CallOptions): Promise<ReadImage> {
    if (this.#ingest === undefined) {
      throw new RegistryError('REGISTRY_INGEST_UNAVAILABLE', `cannot publish local image ${localRef} to ${this.name}: no local image ingest`, {
        hint: 'Give the RegistryStageStore an `ingest` (the CLI uses a Docker push), or publish a registry reference.',
        data: { reference: localRef, repository: this.name },
      });
    }
    const { digest } = await this.#ingest.pushLocalImage(localRef, target, signalOf(options));
    return this.#readImage(target.repository.at(digest), options);
  }

  /**
   * Puts `source` under `target` with `labels` in its config: blobs copied (or mounted), the config
   * rewritten only when a label differs, then the manifest pushed under the tag.
   */
  async #put(source: ReadImage, target: ImageReference, labels: Readonly<Record<string, string>>, options: CallOptions): Promise<ReadImage> {
    const current = readImageConfigLabels(source.config);
    const relabel = Object.entries(labels).some(([key, value]) => current[key] !== value);
    const copied = relabel ? source.manifest.layers : [source.manifest.config, ...source.manifest.layers];
    await this.#copyBlobs(
      source.repository,
      target.repository,
      copied.map((descriptor) => descriptor.digest),
      options,
    );
    if (!relabel) {
      await this.#client.putManifest(target, { bytes: source.bytes, mediaType: source.mediaType }, signalOf(options));
      return { ...source, repository: target.repository };
    }
    const config = withImageConfigLabels(source.config, labels);
    const uploaded = await this.#client.uploadBlob(target.repository, config, signalOf(options));
    const mediaType = source.mediaType === MediaType.DOCKER_MANIFEST ? MediaType.DOCKER_MANIFEST : MediaType.OCI_MANIFEST;
    const manifest = createImageManifest({
      mediaType,
      config: { ...source.manifest.config, digest: uploaded.digest, size: config.byteLength },
      layers: source.manifest.layers,
      ...(source.manifest.annotations === undefined ? {} : { annotations: source.manifest.annotations }),
    });
    await this.#client.putManifest(target, manifest, signalOf(options));
    const parsed = parseManifest(manifest);
    if (parsed.kind !== 'image') throw new Error('unreachable: an image manifest parsed as an index');
    return { repository: target.repository, digest: manifest.digest, mediaType, bytes: manifest.bytes, manifest: parsed.manifest, config };
  }

  async #copyBlobs(from: Repository, to: Repository, digests: readonly Digest[], options: CallOptions): Promise<void> {
    if (from.equals(to)) return;
    const queue = [...new Set(digests)];
    const worker = async (): Promise<void> => {
      for (let digest = queue.shift(); digest !== undefined; digest = queue.shift()) {
        options.signal?.throwIfAborted();
        await this.#client.copyBlob(to, digest, { from, ...signalOf(options) });
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.#concurrency, Math.max(1, queue.length)) }, worker));
  }
}

/** Compressed size: the config and every layer as stored. */
function imageSize(manifest: ImageManifest): number {
  return manifest.config.size + manifest.layers.reduce((sum, layer) => sum + layer.size, 0);
}

/** `promise`, or the signal's reason as soon as it aborts (a publish queued behind another one stops waiting). */
async function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    return await Promise.race([promise, aborted]);
  } finally {
    if (onAbort !== undefined) signal.removeEventListener('abort', onAbort);
  }
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}
