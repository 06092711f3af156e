/**
 * An `Executor` for engine tests without Docker: each "build" pushes a tiny real image, labelled with
 * the request's labels, to a scratch repository and returns its registry reference; building on a base
 * "pulls" it (reads its manifest, failing when it is not in the registry), so tests can see what a
 * Docker executor would have to pull.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { BuiltStage, Executor, ImportChecksumRequest, StageBuildRequest } from '@strata/core';
import { parseImageReference, type RegistryClient, type Repository } from '@strata/registry';
import { tinyImage } from './images.js';

export class RegistryTestExecutor implements Executor {
  /** Every build request, in call order. */
  readonly builds: StageBuildRequest[] = [];
  /** What each build returned, with the manifest digest of the pushed image. */
  readonly results: { request: StageBuildRequest; result: BuiltStage; manifestDigest: string }[] = [];
  /** Base images read before building on them (what a Docker executor would pull). */
  readonly pulls: string[] = [];
  readonly #client: RegistryClient;
  readonly #scratch: Repository;

  constructor(client: RegistryClient, scratch: Repository) {
    this.#client = client;
    this.#scratch = scratch;
  }

  async buildStage(request: StageBuildRequest, options: { signal?: AbortSignal | undefined } = {}): Promise<BuiltStage> {
    const signal = options.signal === undefined ? {} : { signal: options.signal };
    this.builds.push(request);
    const base = 'baseImageRef' in request ? request.baseImageRef : request.kind === 'from' && request.base.kind === 'stage' ? request.base.imageRef : undefined;
    if (base !== undefined) {
      this.pulls.push(base);
      const manifest = await this.#client.findManifest(parseImageReference(base), signal);
      if (manifest === undefined) throw new Error(`base image ${base} is not in the registry`);
    }
    const image = tinyImage({ files: { [`${request.stage}.txt`]: `${request.digest} ${randomBytes(8).toString('hex')}\n` }, labels: { ...request.labels }, pretty: true });
    await this.#client.uploadBlob(this.#scratch, image.layer.bytes, signal);
    await this.#client.uploadBlob(this.#scratch, image.config.bytes, signal);
    const tag = `${request.stage.toLowerCase()}-${image.manifest.digest.slice(7, 31)}`;
    await this.#client.putManifest(this.#scratch.at(tag), image.manifest, signal);
    const result: BuiltStage = { imageRef: this.#scratch.at(tag).toString(), imageId: image.config.digest, size: image.layer.size + image.config.size };
    this.results.push({ request, result, manifestDigest: image.manifest.digest });
    return result;
  }

  importChecksum(request: ImportChecksumRequest, options: { signal?: AbortSignal | undefined } = {}): Promise<string> {
    options.signal?.throwIfAborted();
    return Promise.resolve(createHash('md5').update(JSON.stringify(request)).digest('hex'));
  }
}
