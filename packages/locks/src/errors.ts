import { StrataError, type StrataErrorOptions } from '@strata/errors';

/**
 * Failure codes of `@strata/locks`. Match on these (or on `instanceof LockError`), never on message text.
 *
 * - `LOCK_INVALID_URL`: a `--synchronization` value is neither `:local` nor `redis://HOST:PORT[/DB]`.
 * - `LOCK_INVALID_OPTIONS`: an option is out of range (e.g. a non-positive ttl).
 * - `LOCK_UNAVAILABLE`: the lock service could not be used (lock directory not writable, Redis not
 *   answering). Never raised because a lock is merely busy: `acquire` waits for that.
 * - `LOCK_LOST`: the reason of a handle's `signal` when its lease was lost (renewal failed for a whole
 *   ttl, or another holder took the expired lease over).
 * - `LOCK_RELEASED`: the reason of a handle's `signal` after `release()`.
 */
export type LockErrorCode = 'LOCK_INVALID_URL' | 'LOCK_INVALID_OPTIONS' | 'LOCK_UNAVAILABLE' | 'LOCK_LOST' | 'LOCK_RELEASED';

/** Every failure raised by `@strata/locks`. */
export class LockError<Data = unknown> extends StrataError<LockErrorCode, Data> {
  constructor(code: LockErrorCode, message: string, options: StrataErrorOptions<Data> = {}) {
    super(code, message, options);
  }
}
