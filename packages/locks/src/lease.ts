import { abortableSleep } from '@strata/errors';
import type { CallOptions, LockHandle } from '@strata/core';
import { LockError } from './errors.js';

/**
 * The local view of one held lease, shared by both adapters: it turns "last confirmed renewal" into
 * `isValid()` and aborts the handle's signal once the lease can no longer be trusted.
 *
 * A lease is trusted for `ttlMs` after the moment the last successful renewal was *sent* (not answered),
 * so a slow answer can only shorten what this process believes, never extend it past what the service
 * grants.
 */
export class Lease {
  readonly #controller = new AbortController();
  readonly #ttlMs: number;
  readonly #describe: string;
  #confirmedAt: number;
  #watchdog: NodeJS.Timeout | undefined;

  constructor(
    readonly key: string,
    readonly token: number,
    options: { ttlMs: number; confirmedAt: number; describe: string },
  ) {
    this.#ttlMs = options.ttlMs;
    this.#confirmedAt = options.confirmedAt;
    this.#describe = options.describe;
    this.#arm();
  }

  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  get ended(): boolean {
    return this.#controller.signal.aborted;
  }

  isValid(): boolean {
    return !this.ended && Date.now() < this.#confirmedAt + this.#ttlMs;
  }

  /** Records a successful renewal sent at `sentAt`. Ignored once the lease has ended. */
  renewed(sentAt: number): void {
    if (this.ended) return;
    this.#confirmedAt = Math.max(this.#confirmedAt, sentAt);
    this.#arm();
  }

  /** Ends the lease as lost; `why` goes into the reason. Idempotent. */
  lose(why: string, cause?: unknown): void {
    if (this.ended) return;
    this.#stop();
    this.#controller.abort(
      new LockError('LOCK_LOST', `lost the lease on lock ${this.key} (${this.#describe}): ${why}`, {
        hint: 'Another builder may hold this lock now; stop work that relies on it (use the fencing token to reject late writes).',
        data: { key: this.key, token: this.token },
        cause,
      }),
    );
  }

  /** Ends the lease as released. Idempotent. */
  released(): void {
    if (this.ended) return;
    this.#stop();
    this.#controller.abort(
      new LockError('LOCK_RELEASED', `lock ${this.key} was released`, { data: { key: this.key, token: this.token } }),
    );
  }

  #arm(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    const left = this.#confirmedAt + this.#ttlMs - Date.now();
    this.#watchdog = setTimeout(() => {
      this.#watchdog = undefined;
      if (Date.now() >= this.#confirmedAt + this.#ttlMs) this.lose(`no renewal confirmed within ${this.#ttlMs} ms`);
      else this.#arm();
    }, Math.max(0, left));
    // A lease must not keep a process alive on its own; the work that needs the lock does.
    this.#watchdog.unref();
  }

  #stop(): void {
    if (this.#watchdog) clearTimeout(this.#watchdog);
    this.#watchdog = undefined;
  }

  /** The port's handle over this lease; `release` is supplied by the adapter. */
  handle(release: (options: CallOptions) => Promise<void>): LockHandle {
    return {
      key: this.key,
      token: this.token,
      signal: this.signal,
      isValid: () => this.isValid(),
      release: (options = {}) => release(options),
    };
  }
}

/** Sleeps `ms`, rejecting with the signal's reason when it aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return abortableSleep(ms, signal);
}

/** Delay before the `attempt`-th retry of a busy lock: exponential from `minMs` to `maxMs`, with jitter. */
export function backoff(attempt: number, minMs: number, maxMs: number): number {
  const base = Math.min(maxMs, minMs * 2 ** Math.min(attempt, 20));
  return Math.round(base / 2 + Math.random() * (base / 2));
}

/** Validates a ttl from the caller. */
export function checkTtl(ttlMs: number, key: string): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0) {
    throw new LockError('LOCK_INVALID_OPTIONS', `invalid ttlMs ${ttlMs} for lock ${key}`, {
      hint: 'Pass a positive lease length in milliseconds.',
      data: { key, ttlMs },
    });
  }
  return ttlMs;
}
