import { createHash } from 'node:crypto';
import { abortReason } from '@strata/errors';
import type { CallOptions } from '../clock.js';
import type { BuiltStage, Executor, ImportChecksumRequest, StageBuildRequest } from '../ports/executor.js';
import { canonicalJson } from './canonical-json.js';

export interface FakeExecutorOptions {
  /**
   * Called for every build before it completes, with the build's signal. Await something to hold the
   * build (e.g. `clock.sleep(1, { signal })` to give it a duration, or a promise the test resolves to force
   * a race); throw to make the build fail.
   */
  onBuild?: ((request: StageBuildRequest, signal: AbortSignal | undefined) => Promise<void> | void) | undefined;
  /**
   * The content identity of imported files, to model an upstream rebuild with identical output.
   * @default the request itself (source image ref and selection)
   */
  importContent?: ((request: ImportChecksumRequest) => string) | undefined;
}

/**
 * A deterministic {@link Executor} for tests: builds nothing, records every request in {@link calls},
 * and derives the image from the request's content, so equal requests give equal images.
 */
export class FakeExecutor implements Executor {
  /** Every request received, in call order (including failed and aborted ones). */
  readonly calls: StageBuildRequest[] = [];
  /** Builds that completed. */
  readonly built: { request: StageBuildRequest; result: BuiltStage }[] = [];
  readonly #onBuild: FakeExecutorOptions['onBuild'];
  readonly #importContent: FakeExecutorOptions['importContent'];

  constructor(options: FakeExecutorOptions = {}) {
    this.#onBuild = options.onBuild;
    this.#importContent = options.importContent;
  }

  async buildStage(request: StageBuildRequest, options: CallOptions = {}): Promise<BuiltStage> {
    const { signal } = options;
    this.calls.push(request);
    signal?.throwIfAborted();
    await this.#onBuild?.(request, signal);
    if (signal?.aborted) throw abortReason(signal);
    const text = canonicalJson(request);
    const hash = createHash('sha256').update(text).digest('hex');
    const result: BuiltStage = { imageRef: `fake-executor/${request.stage}:${hash.slice(0, 24)}`, imageId: `sha256:${hash}`, size: text.length };
    this.built.push({ request, result });
    return result;
  }

  /** An md5 of the `importContent` option's answer (by default of the request itself). */
  importChecksum(request: ImportChecksumRequest, options: CallOptions = {}): Promise<string> {
    options.signal?.throwIfAborted();
    const text = this.#importContent ? this.#importContent(request) : canonicalJson(request);
    return Promise.resolve(createHash('md5').update(text).digest('hex'));
  }
}
