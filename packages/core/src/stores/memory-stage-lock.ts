import { abortReason } from '@strata/errors';
import { systemClock, type CallOptions, type Clock } from '../clock.js';
import { CoreError } from '../errors.js';
import type { AcquireOptions, LockHandle, StageLock } from '../ports/stage-lock.js';

export interface MemoryStageLockOptions {
  /** Time source for leases and renewals. @default systemClock */
  clock?: Clock | undefined;
  /** Lease when `acquire` gives none. @default 30000 */
  defaultTtlMs?: number | undefined;
}

interface Lease {
  readonly token: number;
  readonly ttlMs: number;
  expiresAt: number;
  readonly lost: AbortController;
  /** Stops the renewal loop (release, or a simulated crash). */
  readonly renewal: AbortController;
}

/**
 * An in-process {@link StageLock} with real lease semantics: leases are renewed every `ttl / 3` while
 * held, an unrenewed lease (see {@link crash}) expires after its ttl and is taken over by the next waiter.
 * Good for a single process; several processes need a file or distributed lock.
 */
export class MemoryStageLock implements StageLock {
  readonly #clock: Clock;
  readonly #defaultTtlMs: number;
  readonly #leases = new Map<string, Lease>();
  readonly #tokens = new Map<string, number>();
  readonly #waiters = new Map<string, Set<() => void>>();

  constructor(options: MemoryStageLockOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#defaultTtlMs = options.defaultTtlMs ?? 30_000;
  }

  async acquire(key: string, options: AcquireOptions = {}): Promise<LockHandle> {
    const { signal } = options;
    const ttlMs = options.ttlMs ?? this.#defaultTtlMs;
    for (;;) {
      if (signal?.aborted) throw abortReason(signal);
      const current = this.#leases.get(key);
      const now = this.#clock.now();
      if (!current || current.expiresAt <= now) {
        if (current) this.#expire(key, current);
        return this.#grant(key, ttlMs);
      }
      await this.#waitForChange(key, current.expiresAt - now, signal);
    }
  }

  /**
   * Simulates the holder of `handle` dying without releasing (`kill -9`): renewals stop, so the lease
   * expires after its ttl. For tests.
   */
  crash(handle: LockHandle): void {
    const lease = this.#leases.get(handle.key);
    if (lease?.token === handle.token) lease.renewal.abort();
  }

  #grant(key: string, ttlMs: number): LockHandle {
    const token = (this.#tokens.get(key) ?? 0) + 1;
    this.#tokens.set(key, token);
    const lease: Lease = {
      token,
      ttlMs,
      expiresAt: this.#clock.now() + ttlMs,
      lost: new AbortController(),
      renewal: new AbortController(),
    };
    this.#leases.set(key, lease);
    this.#renew(key, lease).catch(() => undefined);
    const isValid = (): boolean => this.#leases.get(key) === lease && lease.expiresAt > this.#clock.now();
    const release = (_options?: CallOptions): Promise<void> => {
      lease.renewal.abort();
      if (this.#leases.get(key) === lease) {
        this.#leases.delete(key);
        this.#notify(key);
      }
      if (!lease.lost.signal.aborted) lease.lost.abort(new CoreError('LOCK_FAILED', `lock ${key} was released`, { data: { key } }));
      return Promise.resolve();
    };
    return { key, token, signal: lease.lost.signal, isValid, release };
  }

  async #renew(key: string, lease: Lease): Promise<void> {
    const interval = Math.max(1, Math.floor(lease.ttlMs / 3));
    while (!lease.renewal.signal.aborted) {
      await this.#clock.sleep(interval, { signal: lease.renewal.signal });
      if (this.#leases.get(key) !== lease || lease.expiresAt <= this.#clock.now()) return;
      lease.expiresAt = this.#clock.now() + lease.ttlMs;
    }
  }

  #expire(key: string, lease: Lease): void {
    lease.renewal.abort();
    this.#leases.delete(key);
    lease.lost.abort(
      new CoreError('LOCK_FAILED', `the lease on lock ${key} expired`, {
        hint: 'The holder stopped renewing its lease (it died or stalled); another builder took the lock over.',
        data: { key },
      }),
    );
  }

  /** Waits until the key is released or `ms` pass (the lease may have expired by then). */
  async #waitForChange(key: string, ms: number, signal: AbortSignal | undefined): Promise<void> {
    const stop = new AbortController();
    const onAbort = (): void => stop.abort(abortReason(signal as AbortSignal));
    signal?.addEventListener('abort', onAbort, { once: true });
    let waiters = this.#waiters.get(key);
    if (!waiters) this.#waiters.set(key, (waiters = new Set()));
    let wake: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      wake = resolve;
    });
    waiters.add(wake);
    try {
      await Promise.race([released, this.#clock.sleep(ms, { signal: stop.signal })]);
    } finally {
      waiters.delete(wake);
      signal?.removeEventListener('abort', onAbort);
      if (!stop.signal.aborted) stop.abort();
    }
  }

  #notify(key: string): void {
    for (const wake of this.#waiters.get(key) ?? []) wake();
  }
}
