/**
 * `SettlingExecutor`: an `Executor` decorator that remembers the calls still running, so the CLI can
 * wait for them to finish their own cleanup (build containers are removed even on abort) before it
 * returns. The engine rejects an aborted build at once; without this, `strata build` could exit while
 * a build container was still being removed.
 */
import type { BuiltStage, CallOptions, Executor, ImportChecksumRequest, StageBuildRequest } from '@strata/core';

export class SettlingExecutor implements Executor {
  readonly #inner: Executor;
  readonly #running = new Set<Promise<unknown>>();

  constructor(inner: Executor) {
    this.#inner = inner;
  }

  buildStage(request: StageBuildRequest, options?: CallOptions): Promise<BuiltStage> {
    return this.#track(this.#inner.buildStage(request, options));
  }

  importChecksum(request: ImportChecksumRequest, options?: CallOptions): Promise<string> {
    return this.#track(this.#inner.importChecksum(request, options));
  }

  /** Calls not settled yet. */
  get running(): number {
    return this.#running.size;
  }

  /** Resolves when every call started so far has settled, or after `timeoutMs`; never rejects. */
  async settled(timeoutMs: number): Promise<void> {
    if (this.#running.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([Promise.allSettled([...this.#running]).then(() => undefined), timeout]);
    clearTimeout(timer);
  }

  #track<T>(call: Promise<T>): Promise<T> {
    const settled = call.then(
      () => undefined,
      () => undefined,
    );
    this.#running.add(settled);
    void settled.then(() => this.#running.delete(settled));
    return call;
  }
}
