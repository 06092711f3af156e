/**
 * The executor slots of one build: `parallelTasksLimit` bounds the work that loads the build host
 * (stage builds and import checksums, each a container or `docker build`), not the lookups of stages
 * that are already stored. A no-op build therefore looks up every ready image at once, while a build
 * that has work to do never runs more than `limit` executor calls at the same time.
 *
 * A slot is held for one executor call only, never across a wait on another image: that is what keeps
 * images that share a stage (single-flight) from deadlocking on slots.
 *
 * Written here rather than with p-limit: a waiter must leave the queue when its signal aborts, and
 * {@link stop} must reject the waiters (p-limit's `clearQueue` leaves their promises pending forever).
 */
import { abortReason } from '@strata/errors';
import { CoreError } from './errors.js';

interface Waiter {
  grant: () => void;
  reject: (reason: Error) => void;
}

export class BuildSlots {
  #free: number;
  readonly #waiting: Waiter[] = [];
  #stopped: { reason: Error } | undefined;

  /** `limit` ≤ 0 means unlimited. */
  constructor(limit: number) {
    this.#free = limit > 0 ? limit : Number.POSITIVE_INFINITY;
  }

  /**
   * Runs `work` once a slot is free (first come, first served) and frees the slot when it settles.
   * Rejects without running `work` when `signal` aborts while waiting (with the signal's reason) or the
   * slots were stopped (with a `BUILD_STOPPED` error caused by the stop reason). When `work` rejects,
   * the slots stop with its error before the slot is freed: in a build, any failed call fails the build.
   */
  async run<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    await this.#acquire(signal);
    if (this.#stopped) {
      // Granted just before a stop, resumed just after it: never start.
      this.#release();
      throw this.#stopped.reason;
    }
    try {
      return await work();
    } catch (error) {
      // Every executor failure fails the build: stop before the slot passes on, so no waiter starts.
      this.stop(error);
      throw error;
    } finally {
      this.#release();
    }
  }

  /**
   * No new work starts: every waiting and later {@link run} rejects with a `BUILD_STOPPED` error caused
   * by `reason`. Work already running continues (a build that fails elsewhere still saves the stages in
   * progress). The first stop wins.
   */
  stop(reason: unknown): void {
    this.#stopped ??= {
      reason: new CoreError('BUILD_STOPPED', `not started: the build stopped after a failure (${reason instanceof Error ? reason.message : String(reason)})`, {
        cause: reason,
      }),
    };
    for (const waiter of this.#waiting.splice(0)) waiter.reject(this.#stopped.reason);
  }

  #acquire(signal: AbortSignal | undefined): Promise<void> {
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    if (this.#stopped) return Promise.reject(this.#stopped.reason);
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const index = this.#waiting.indexOf(waiter);
        if (index >= 0) this.#waiting.splice(index, 1);
        reject(abortReason(signal as AbortSignal));
      };
      const waiter: Waiter = {
        grant: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (reason) => {
          signal?.removeEventListener('abort', onAbort);
          reject(reason);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiting.push(waiter);
    });
  }

  #release(): void {
    const next = this.#waiting.shift();
    // The slot passes straight to the next waiter, so a late arrival cannot overtake the queue.
    if (next) next.grant();
    else this.#free += 1;
  }
}
