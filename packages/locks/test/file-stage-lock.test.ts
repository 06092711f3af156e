import { once } from 'node:events';
import * as nodeFs from 'node:fs';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LockHandle, StageLock } from '@strata/core';
import { describeStageLockContract } from '@strata/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FileStageLock, LockError, type LockFileSystem } from '../src/index.js';
import { delay, expectKillFreesLock, expectNoOverlap, runContenders, startHolder } from './support/holder.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'strata-locks-'));
  dirs.push(dir);
  return dir;
}
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** `node:fs`, until `freeze()`: from then on no call ever completes, as in a process that died. */
function freezableFs(): { fs: LockFileSystem; freeze: () => void } {
  let frozen = false;
  const fs: LockFileSystem = {
    mkdir: (path, callback) => (frozen ? undefined : nodeFs.mkdir(path, callback)),
    rmdir: (path, callback) => (frozen ? undefined : nodeFs.rmdir(path, callback)),
    stat: (path, callback) => (frozen ? undefined : nodeFs.stat(path, callback)),
    utimes: (path, atime, mtime, callback) => (frozen ? undefined : nodeFs.utimes(path, atime, mtime, callback)),
    rmdirSync: (path) => (frozen ? undefined : nodeFs.rmdirSync(path)),
  };
  return { fs, freeze: () => (frozen = true) };
}

describeStageLockContract('FileStageLock', async () => {
  const dir = await tempDir();
  const freezers = new WeakMap<LockHandle, () => void>();
  return {
    ttlMs: 2000,
    client(): StageLock {
      const { fs, freeze } = freezableFs();
      const lock = new FileStageLock({ dir, fs });
      return {
        acquire: async (key, options) => {
          const handle = await lock.acquire(key, options);
          freezers.set(handle, freeze);
          return handle;
        },
      };
    },
    elapse: (ms) => delay(ms),
    crash: (handle) => freezers.get(handle)?.(),
  };
});

describe('FileStageLock', () => {
  it('frees the lock within the lease when its holder process is killed with kill -9', async () => {
    const dir = await tempDir();
    const holder = await startHolder(['file', dir, 'project/kill', '2000']);
    const lock = new FileStageLock({ dir });
    const handle = await expectKillFreesLock(holder, lock, 'project/kill', { ttlMs: 2000, leaseMs: 2000, marginMs: 1000 });
    await handle.release();
  });

  it('excludes other processes: three processes taking one key in turn never overlap', async () => {
    const dir = await tempDir();
    const log = join(dir, 'log');
    await runContenders(3, ['file', dir, 'project/race', '8', log]);
    expectNoOverlap(await readFile(log, 'utf8'), 24);
  });

  it("honours the holder's longer lease: a short-ttl waiter does not take a live holder's lock", async () => {
    const dir = await tempDir();
    // The holder refreshes every 12000 / 3 ms, so its mtime regularly gets older than the waiter's 2000 ms.
    const holder = await new FileStageLock({ dir }).acquire('project/mixed', { ttlMs: 12_000 });
    let acquired = false;
    const waiting = new FileStageLock({ dir }).acquire('project/mixed', { ttlMs: 2000 }).then((handle) => {
      acquired = true;
      return handle;
    });
    await delay(5000);
    expect(acquired).toBe(false);
    expect(holder.isValid()).toBe(true);
    await holder.release();
    const next = await waiting;
    expect(next.token).toBe(holder.token + 1);
    await next.release();
  });

  it('removes its lock file when the holder process exits on SIGTERM', async () => {
    const dir = await tempDir();
    const holder = await startHolder(['file', dir, 'project/term', '30000']);
    const exited = once(holder.child, 'exit');
    holder.child.kill('SIGTERM');
    await exited;
    const started = Date.now();
    const handle = await new FileStageLock({ dir }).acquire('project/term', { ttlMs: 30_000 });
    // Far sooner than the 30 s lease: the lock file was gone, not stale.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(handle.token).toBe(holder.token + 1);
    await handle.release();
  });

  it('reports a lost lease through the handle when the lock file is removed behind its back', async () => {
    const dir = await tempDir();
    const lock = new FileStageLock({ dir });
    const handle = await lock.acquire('project/lost', { ttlMs: 2000 });
    const [lockDir] = (await readdir(dir)).filter((name) => name.endsWith('.lock'));
    expect(lockDir).toBeDefined();
    await rm(join(dir, lockDir ?? ''), { recursive: true });
    // proper-lockfile checks the lock file at its next refresh, every lease / 3 (at least 1000 ms).
    await delay(1500);
    expect(handle.isValid()).toBe(false);
    expect(handle.signal.aborted).toBe(true);
    expect(handle.signal.reason).toBeInstanceOf(LockError);
    expect((handle.signal.reason as LockError).code).toBe('LOCK_LOST');
    await handle.release();
  });

  it('aborts the signal with LOCK_RELEASED on release and keeps the fencing counter on disk', async () => {
    const dir = await tempDir();
    const lock = new FileStageLock({ dir });
    const first = await lock.acquire('a/b:c d', { ttlMs: 2000 });
    await first.release();
    expect((first.signal.reason as LockError).code).toBe('LOCK_RELEASED');
    // Another instance (as another process would) continues the same counter.
    const second = await new FileStageLock({ dir }).acquire('a/b:c d', { ttlMs: 2000 });
    expect(second.token).toBe(first.token + 1);
    const files = await readdir(dir);
    const fence = files.find((name) => name.endsWith('.fence'));
    expect(fence).toMatch(/^a_b_c_d-[0-9a-f]{16}\.fence$/);
    expect((await readFile(join(dir, fence ?? ''), 'utf8')).trim()).toBe(String(second.token));
    await second.release();
    expect(await readdir(dir)).not.toContainEqual(expect.stringMatching(/\.lock$/));
  });

  it('keeps keys that sanitise alike apart', async () => {
    const dir = await tempDir();
    const lock = new FileStageLock({ dir });
    const a = await lock.acquire('p/x', { ttlMs: 2000 });
    const b = await lock.acquire('p:x', { ttlMs: 2000 });
    expect(a.isValid() && b.isValid()).toBe(true);
    await lock.close();
    expect(a.isValid() || b.isValid()).toBe(false);
  });

  it('treats a ttl below 2000 ms as 2000 ms and rejects a non-positive ttl', async () => {
    expect(FileStageLock.effectiveLeaseMs(500)).toBe(2000);
    expect(FileStageLock.effectiveLeaseMs(5000)).toBe(5000);
    const lock = new FileStageLock({ dir: await tempDir() });
    await expect(lock.acquire('k', { ttlMs: 0 })).rejects.toMatchObject({ code: 'LOCK_INVALID_OPTIONS' });
  });

  it('fails with LOCK_UNAVAILABLE when the lock directory cannot be created', async () => {
    const dir = await tempDir();
    const file = join(dir, 'not-a-dir');
    nodeFs.writeFileSync(file, '');
    const lock = new FileStageLock({ dir: join(file, 'locks') });
    await expect(lock.acquire('k')).rejects.toMatchObject({ code: 'LOCK_UNAVAILABLE' });
  });
});
