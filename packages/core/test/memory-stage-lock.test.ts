import { describe, expect, it } from 'vitest';
import { systemClock } from '@strata/core';
import { ManualClock, MemoryStageLock, describeStageLockContract } from '@strata/core/testing';

describeStageLockContract('MemoryStageLock (manual clock)', () => {
  const clock = new ManualClock();
  const lock = new MemoryStageLock({ clock });
  return { client: () => lock, ttlMs: 3000, elapse: (ms) => clock.advance(ms), crash: (handle) => lock.crash(handle) };
});

describeStageLockContract('MemoryStageLock (system clock)', () => {
  const lock = new MemoryStageLock({ clock: systemClock });
  // Real time: a lease must outlive event-loop stalls on a loaded machine (a stalled holder rightly loses
  // it), so the ttl is far above any expected stall.
  return { client: () => lock, ttlMs: 400, elapse: (ms) => systemClock.sleep(Math.max(ms, 5)), crash: (handle) => lock.crash(handle) };
});

describe('MemoryStageLock', () => {
  it('tells the dead holder its lease was lost when another takes it over', async () => {
    const clock = new ManualClock();
    const lock = new MemoryStageLock({ clock, defaultTtlMs: 100 });
    const dead = await lock.acquire('k');
    lock.crash(dead);
    const next = lock.acquire('k');
    await clock.advance(100);
    await next;
    expect(dead.signal.aborted).toBe(true);
    expect((dead.signal.reason as { code?: string }).code).toBe('LOCK_FAILED');
  });
});
