import { abortReason } from '@strata/errors';
import type { CallOptions, Clock } from '../clock.js';

interface Sleeper {
  readonly wakeAt: number;
  readonly seq: number;
  readonly resolve: () => void;
}

/** Lets every pending promise callback run (one macrotask turn drains the microtask queue). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A {@link Clock} that only moves when a test says so. Sleepers wake in time order (ties in call order),
 * and all resulting promise callbacks run before the next one wakes, so tests are deterministic and never
 * really sleep.
 */
export class ManualClock implements Clock {
  #now: number;
  #seq = 0;
  readonly #sleepers: Sleeper[] = [];

  /** @param startMs the initial time. @default 1_700_000_000_000 */
  constructor(startMs = 1_700_000_000_000) {
    this.#now = startMs;
  }

  now(): number {
    return this.#now;
  }

  /** Number of sleeps not yet woken. */
  get pending(): number {
    return this.#sleepers.length;
  }

  /** When the next sleeper wakes, or `undefined` when nobody sleeps. */
  get nextWakeAt(): number | undefined {
    return this.#sleepers.reduce<number | undefined>((min, s) => (min === undefined || s.wakeAt < min ? s.wakeAt : min), undefined);
  }

  sleep(ms: number, options: CallOptions = {}): Promise<void> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      const sleeper: Sleeper = {
        wakeAt: this.#now + Math.max(0, ms),
        seq: this.#seq++,
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      const onAbort = (): void => {
        const index = this.#sleepers.indexOf(sleeper);
        if (index >= 0) this.#sleepers.splice(index, 1);
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#sleepers.push(sleeper);
    });
  }

  /** Moves time forward by `ms`, waking every sleeper due on the way, in order. */
  async advance(ms: number): Promise<void> {
    const target = this.#now + ms;
    await flushMicrotasks();
    for (;;) {
      const next = this.#takeNext(target);
      if (!next) break;
      this.#now = next.wakeAt;
      next.resolve();
      await flushMicrotasks();
    }
    this.#now = target;
    await flushMicrotasks();
  }

  /**
   * Repeatedly jumps to the next wake-up until `promise` settles; returns its outcome. Fails if nothing
   * sleeps while `promise` is still pending (a deadlock in the code under test).
   */
  async runUntilSettled<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const tracked = promise.finally(() => {
      settled = true;
    });
    tracked.catch(() => undefined);
    await flushMicrotasks();
    while (!settled) {
      const wakeAt = this.nextWakeAt;
      if (wakeAt === undefined) {
        for (let i = 0; i < 10 && !settled && this.nextWakeAt === undefined; i += 1) await flushMicrotasks();
        if (settled) break;
        if (this.nextWakeAt !== undefined) continue;
        throw new Error('ManualClock.runUntilSettled: the promise is pending but nothing sleeps (deadlock?)');
      }
      await this.advance(wakeAt - this.#now);
    }
    return tracked;
  }

  #takeNext(limit: number): Sleeper | undefined {
    let best: Sleeper | undefined;
    for (const s of this.#sleepers) {
      if (s.wakeAt > limit) continue;
      if (!best || s.wakeAt < best.wakeAt || (s.wakeAt === best.wakeAt && s.seq < best.seq)) best = s;
    }
    if (best) this.#sleepers.splice(this.#sleepers.indexOf(best), 1);
    return best;
  }
}
