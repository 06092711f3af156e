/**
 * Single-flight (STYLE rule 16): identical concurrent work, by key, runs once and every caller gets its
 * result. The shared work is cancelled only when its last waiter gives up.
 */
import { abortReason } from '@strata/errors';
import type { CallOptions } from './clock.js';

interface Flight<V> {
  readonly promise: Promise<V>;
  readonly controller: AbortController;
  waiters: number;
  settled: boolean;
}

export class SingleFlight<K, V> {
  readonly #flights = new Map<K, Flight<V>>();

  /** Number of keys with work in flight. */
  get size(): number {
    return this.#flights.size;
  }

  /**
   * Runs `work` for `key`, or joins the run already in flight for it. `work` receives a signal that aborts
   * only when every caller waiting on this key has aborted. A caller whose own `signal` aborts rejects at
   * once with that signal's reason, whatever the shared work does. Once the work settles the key is
   * forgotten: a later call runs it again (results are not cached).
   */
  run(key: K, work: (signal: AbortSignal) => Promise<V>, options: CallOptions = {}): Promise<V> {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    let flight = this.#flights.get(key);
    if (!flight) flight = this.#start(key, work);
    const joined = flight;
    joined.waiters += 1;
    return new Promise<V>((resolve, reject) => {
      let done = false;
      const onAbort = (): void => {
        if (done) return;
        done = true;
        joined.waiters -= 1;
        if (joined.waiters === 0 && !joined.settled) {
          if (this.#flights.get(key) === joined) this.#flights.delete(key);
          joined.controller.abort(abortReason(signal as AbortSignal));
        }
        reject(abortReason(signal as AbortSignal));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      joined.promise.then(
        (value) => {
          if (done) return;
          done = true;
          signal?.removeEventListener('abort', onAbort);
          resolve(value);
        },
        (error: unknown) => {
          if (done) return;
          done = true;
          signal?.removeEventListener('abort', onAbort);
          reject(error instanceof Error ? error : new Error(String(error)));
        },
      );
    });
  }

  #start(key: K, work: (signal: AbortSignal) => Promise<V>): Flight<V> {
    const controller = new AbortController();
    const promise = Promise.resolve().then(() => work(controller.signal));
    const flight: Flight<V> = { promise, controller, waiters: 0, settled: false };
    const settle = (): void => {
      flight.settled = true;
      if (this.#flights.get(key) === flight) this.#flights.delete(key);
    };
    promise.then(settle, settle);
    this.#flights.set(key, flight);
    return flight;
  }
}
