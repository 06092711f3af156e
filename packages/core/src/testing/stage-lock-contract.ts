import { describe, expect, it } from 'vitest';
import type { LockHandle, StageLock } from '../ports/stage-lock.js';

/** What {@link describeStageLockContract} needs from an adapter's test file. */
export interface StageLockContractSubject {
  /** A new client of one and the same lock service, like another process would open. */
  client(): StageLock;
  /** The lease used by the tests; keep it short for real services (e.g. 1000 ms). */
  ttlMs: number;
  /**
   * Lets `ms` of lock time pass: advance a manual clock, or really wait for a real service. Must also let
   * pending work run.
   */
  elapse(ms: number): Promise<void>;
  /**
   * Makes `handle`'s holder vanish without releasing, as `kill -9` would (stop renewing). Without it the
   * lease-expiry test is skipped.
   */
  crash?(handle: LockHandle): void | Promise<void>;
  /** Called after each test. */
  cleanup?(): Promise<void>;
}

let counter = 0;
const freshKey = (): string => `contract/${process.pid}/${Date.now()}/${++counter}`;

/** Resolves whether `promise` settled within the current turn of pending work. */
async function settledSoon(promise: Promise<unknown>, elapse: (ms: number) => Promise<void>): Promise<boolean> {
  let settled = false;
  promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  await elapse(0);
  return settled;
}

/**
 * The {@link StageLock} contract (STYLE rule 18): mutual exclusion, release idempotency, fencing tokens,
 * lease renewal and expiry, abort while waiting.
 */
export function describeStageLockContract(
  name: string,
  factory: () => StageLockContractSubject | Promise<StageLockContractSubject>,
): void {
  async function withSubject(test: (subject: StageLockContractSubject) => Promise<void>): Promise<void> {
    const subject = await factory();
    try {
      await test(subject);
    } finally {
      await subject.cleanup?.();
    }
  }

  describe(`StageLock contract: ${name}`, () => {
    it('excludes a second holder until the first releases', () =>
      withSubject(async (subject) => {
        const key = freshKey();
        const a = subject.client();
        const b = subject.client();
        const first = await a.acquire(key, { ttlMs: subject.ttlMs });
        expect(first.isValid()).toBe(true);
        const second = b.acquire(key, { ttlMs: subject.ttlMs });
        expect(await settledSoon(second, (ms) => subject.elapse(ms))).toBe(false);
        await first.release();
        expect(first.isValid()).toBe(false);
        expect(first.signal.aborted).toBe(true);
        const held = await second;
        expect(held.isValid()).toBe(true);
        expect(held.token).toBeGreaterThan(first.token);
        await held.release();
      }));

    it('never lets two of many contenders into the critical section', () =>
      withSubject(async (subject) => {
        const key = freshKey();
        let inside = 0;
        let maxInside = 0;
        const tokens: number[] = [];
        await Promise.all(
          Array.from({ length: 6 }, async () => {
            const handle = await subject.client().acquire(key, { ttlMs: subject.ttlMs });
            inside += 1;
            maxInside = Math.max(maxInside, inside);
            tokens.push(handle.token);
            await Promise.resolve();
            inside -= 1;
            await handle.release();
          }),
        );
        expect(maxInside).toBe(1);
        expect(tokens).toEqual([...tokens].sort((x, y) => x - y));
        expect(new Set(tokens).size).toBe(6);
      }));

    it('keeps different keys independent', () =>
      withSubject(async (subject) => {
        const a = await subject.client().acquire(freshKey(), { ttlMs: subject.ttlMs });
        const b = await subject.client().acquire(freshKey(), { ttlMs: subject.ttlMs });
        expect(a.isValid() && b.isValid()).toBe(true);
        await a.release();
        await b.release();
      }));

    it('releases idempotently', () =>
      withSubject(async (subject) => {
        const key = freshKey();
        const handle = await subject.client().acquire(key, { ttlMs: subject.ttlMs });
        await handle.release();
        await handle.release();
        const next = await subject.client().acquire(key, { ttlMs: subject.ttlMs });
        // A stale release must not free the new holder's lock.
        await handle.release();
        expect(next.isValid()).toBe(true);
        const third = subject.client().acquire(key, { ttlMs: subject.ttlMs });
        expect(await settledSoon(third, (ms) => subject.elapse(ms))).toBe(false);
        await next.release();
        await (await third).release();
      }));

    it('renews a live holder\'s lease beyond its ttl', () =>
      withSubject(async (subject) => {
        const key = freshKey();
        const holder = await subject.client().acquire(key, { ttlMs: subject.ttlMs });
        const waiter = subject.client().acquire(key, { ttlMs: subject.ttlMs });
        await subject.elapse(subject.ttlMs * 3);
        expect(holder.isValid()).toBe(true);
        expect(await settledSoon(waiter, (ms) => subject.elapse(ms))).toBe(false);
        await holder.release();
        await (await waiter).release();
      }));

    it('frees the lock after the lease when the holder dies', async (context) => {
      const probe = await factory();
      await probe.cleanup?.();
      if (!probe.crash) {
        context.skip('the adapter cannot simulate a dead holder');
        return;
      }
      await withSubject(async (subject) => {
        const key = freshKey();
        const dead = await subject.client().acquire(key, { ttlMs: subject.ttlMs });
        await subject.crash?.(dead);
        const waiter = subject.client().acquire(key, { ttlMs: subject.ttlMs });
        await subject.elapse(subject.ttlMs * 2);
        const next = await waiter;
        expect(next.isValid()).toBe(true);
        expect(next.token).toBeGreaterThan(dead.token);
        expect(dead.isValid()).toBe(false);
        await dead.release();
        expect(next.isValid()).toBe(true);
        await next.release();
      });
    });

    it('stops waiting when the signal aborts, and never holds the lock afterwards', () =>
      withSubject(async (subject) => {
        const key = freshKey();
        const holder = await subject.client().acquire(key, { ttlMs: subject.ttlMs });
        const controller = new AbortController();
        const reason = new Error('gave up');
        const waiting = subject.client().acquire(key, { ttlMs: subject.ttlMs, signal: controller.signal });
        waiting.catch(() => undefined);
        await subject.elapse(0);
        controller.abort(reason);
        await expect(waiting).rejects.toBe(reason);
        await holder.release();
        const next = await subject.client().acquire(key, { ttlMs: subject.ttlMs });
        expect(next.isValid()).toBe(true);
        await next.release();
        const aborted = new AbortController();
        aborted.abort(reason);
        await expect(subject.client().acquire(key, { signal: aborted.signal })).rejects.toBe(reason);
      }));
  });
}
