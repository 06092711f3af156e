/**
 * The `StageLock` port: leased mutual exclusion by key, used to publish a stage (SPEC §4.2).
 */
import type { CallOptions } from '../clock.js';

export interface AcquireOptions extends CallOptions {
  /**
   * Lease length. A holder that dies (e.g. `kill -9`) blocks others for at most this long; a live holder's
   * adapter renews the lease while it is held.
   * @default the adapter's own default (30 000 ms for the in-memory lock)
   */
  ttlMs?: number | undefined;
}

/** A held lock. */
export interface LockHandle {
  readonly key: string;
  /**
   * Fencing token: strictly increasing across successive holders of one key, so a resource can reject
   * writes from a holder whose lease has already passed to someone else.
   */
  readonly token: number;
  /**
   * Aborted once this handle no longer holds the lock: after {@link release}, or when the lease was lost
   * (renewal failed or another holder took the expired lease over). Its reason says which.
   */
  readonly signal: AbortSignal;
  /** Whether the lease is still held as far as this process knows. */
  isValid(): boolean;
  /** Gives the lock up. Idempotent; never throws for a lease already lost. */
  release(options?: CallOptions): Promise<void>;
}

/**
 * Leased locks by key (`project/digest`).
 *
 * Contract (checked by `describeStageLockContract` from `@strata/core/testing`):
 * - **Mutual exclusion.** At any time at most one valid handle exists per key, across every client of
 *   the same lock service. Different keys are independent.
 * - **Waiting.** {@link acquire} waits until the key is free; waiters are served in no particular order.
 *   It never fails because the lock is busy; to bound the wait, pass an aborting `signal`. An aborted
 *   waiter rejects with the signal's reason and never ends up holding the lock.
 * - **Leases.** A lease unrenewed for `ttlMs` expires and the key becomes acquirable; the adapter renews
 *   leases of live holders itself.
 * - **Release** is idempotent; releasing a lost lease is a no-op.
 */
export interface StageLock {
  acquire(key: string, options?: AcquireOptions): Promise<LockHandle>;
}

/** Runs `work` while holding `key`, releasing it afterwards whatever happens. */
export async function withLock<T>(
  lock: StageLock,
  key: string,
  work: (handle: LockHandle) => Promise<T>,
  options: AcquireOptions = {},
): Promise<T> {
  const handle = await lock.acquire(key, options);
  try {
    return await work(handle);
  } finally {
    await handle.release();
  }
}
