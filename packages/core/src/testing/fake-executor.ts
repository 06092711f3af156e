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
  /** Source image ref → content identity used by {@link importChecksum}; set entries in tests. */
  readonly fileChecksums = new Map<string, string>();
  readonly #onBuild: FakeExecutorOptions['onBuild'];

  constructor(options: FakeExecutorOptions = {}) {
    this.#onBuild = options.onBuild;
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

  /**
   * A checksum derived from the source image ref and the selection, unless {@link fileChecksums} maps the
   * source image ref to a fixed value (to model an upstream rebuild with identical output).
   */
  importChecksum(request: ImportChecksumRequest, options: CallOptions = {}): Promise<string> {
    options.signal?.throwIfAborted();
    const fixed = this.fileChecksums.get(request.sourceImageRef);
    const text = fixed ?? canonicalJson(request);
    return Promise.resolve(createHash('md5').update(text).digest('hex'));
  }
}
