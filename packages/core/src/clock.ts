/**
 * Time as a port (STYLE rule 21): production code takes a {@link Clock} option so tests can drive time
 * without sleeping.
 */
import { abortableSleep } from '@strata/errors';

/** Options accepted by every I/O method. */
export interface CallOptions {
  signal?: AbortSignal | undefined;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. Not guaranteed monotonic for the system clock. */
  now(): number;
  /**
   * Resolves after `ms` milliseconds of this clock's time; rejects with the signal's reason when aborted
   * (and releases any timer, so an aborted sleep never keeps a process alive).
   */
  sleep(ms: number, options?: CallOptions): Promise<void>;
}

/** The real clock: `Date.now()` and `setTimeout`. */
export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, options = {}) => abortableSleep(ms, options.signal),
};
