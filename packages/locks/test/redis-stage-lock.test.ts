import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LockHandle, StageLock } from '@strata/core';
import { describeStageLockContract } from '@strata/core/testing';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { findMissingServices, REDIS_HOST, REDIS_PORT, REDIS_URL } from '../../../test/support/services.js';
import { createStageLock, ioredisLockClient, LockError, RedisStageLock, type RedisLockClient } from '../src/index.js';
import { delay, expectKillFreesLock, expectNoOverlap, runContenders, startHolder } from './support/holder.js';

// Fails under CI=true when Redis is missing; locally the tests below are skipped with this reason.
const missing = await findMissingServices('redis');
/** Every key of this run lives under this namespace, deleted afterwards. */
const NAMESPACE = `strata-test:${process.pid}:${Date.now()}`;

function connectRaw(): Redis {
  const redis = new Redis({ host: REDIS_HOST, port: REDIS_PORT, lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  return redis;
}

afterAll(async () => {
  if (missing) return;
  const redis = connectRaw();
  await redis.connect();
  const keys = await redis.keys(`${NAMESPACE}*`);
  if (keys.length > 0) await redis.del(...keys);
  await redis.quit();
});

if (missing) {
  it('RedisStageLock (needs Redis)', (ctx) => ctx.skip(missing));
} else {
  describeStageLockContract('RedisStageLock', () => {
    const connections: Redis[] = [];
    const connectionOf = new WeakMap<LockHandle, Redis>();
    return {
      ttlMs: 1000,
      client(): StageLock {
        const redis = connectRaw();
        connections.push(redis);
        const lock = new RedisStageLock(ioredisLockClient(redis), { namespace: NAMESPACE });
        return {
          acquire: async (key, options) => {
            if (redis.status === 'wait') await redis.connect();
            const handle = await lock.acquire(key, options);
            connectionOf.set(handle, redis);
            return handle;
          },
        };
      },
      elapse: (ms) => delay(ms),
      // A dead process's connection drops and its renewals stop; the key stays until its PX runs out.
      crash: (handle) => connectionOf.get(handle)?.disconnect(),
      cleanup: async () => {
        await Promise.all(
          connections.map(async (redis) => {
            if (redis.status === 'ready') await redis.quit();
            else redis.disconnect();
          }),
        );
      },
    };
  });

  describe('RedisStageLock', () => {
    it('frees the lock within the lease when its holder process is killed with kill -9', async () => {
      const key = `project/kill/${Date.now()}`;
      const holder = await startHolder(['redis', REDIS_URL, key, '1500', NAMESPACE]);
      const lock = await RedisStageLock.connect(REDIS_URL, { namespace: NAMESPACE });
      try {
        const handle = await expectKillFreesLock(holder, lock, key, { ttlMs: 1500, leaseMs: 1500, marginMs: 750 });
        await handle.release();
      } finally {
        await lock.close();
      }
    });

    it('excludes other processes: three processes taking one key in turn never overlap', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'strata-locks-'));
      try {
        const log = join(dir, 'log');
        await runContenders(3, ['redis', REDIS_URL, `project/race/${Date.now()}`, '8', log, NAMESPACE]);
        expectNoOverlap(await readFile(log, 'utf8'), 24);
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });

    it('surfaces a lease lost to someone deleting the key through the handle', async () => {
      const lock = await RedisStageLock.connect(REDIS_URL, { namespace: NAMESPACE });
      const raw = connectRaw();
      await raw.connect();
      try {
        const key = `project/lost/${Date.now()}`;
        const handle = await lock.acquire(key, { ttlMs: 900 });
        expect(await raw.get(`${NAMESPACE}:lock:${key}`)).toMatch(/^[0-9a-f-]{36}$/);
        expect(Number(await raw.get(`${NAMESPACE}:fence:${key}`))).toBe(handle.token);
        await raw.del(`${NAMESPACE}:lock:${key}`);
        await delay(600);
        expect(handle.signal.aborted).toBe(true);
        expect(handle.signal.reason).toBeInstanceOf(LockError);
        expect((handle.signal.reason as LockError).code).toBe('LOCK_LOST');
        expect(handle.isValid()).toBe(false);
        await handle.release();
      } finally {
        await lock.close();
        await raw.quit();
      }
    });

    it('declares the lease lost when renewals fail for a whole ttl', async () => {
      const redis = connectRaw();
      await redis.connect();
      const lock = new RedisStageLock(ioredisLockClient(redis), { namespace: NAMESPACE });
      const handle = await lock.acquire(`project/outage/${Date.now()}`, { ttlMs: 900 });
      redis.disconnect();
      await delay(400);
      expect(handle.isValid()).toBe(true);
      await delay(700);
      expect(handle.isValid()).toBe(false);
      expect((handle.signal.reason as LockError).code).toBe('LOCK_LOST');
    });

    it('retries connection errors while acquiring, even when the lock was taken but the reply lost', async () => {
      const redis = connectRaw();
      await redis.connect();
      const real = ioredisLockClient(redis);
      let failures = 2;
      // Runs each script for real, then loses the first two replies as a dropped connection would.
      const flaky: RedisLockClient = {
        eval: async (...args) => {
          const reply = await real.eval(...args);
          if (failures-- > 0) throw new Error('Connection is closed.');
          return reply;
        },
        quit: () => real.quit(),
      };
      const lock = new RedisStageLock(flaky, { namespace: NAMESPACE });
      const key = `project/flaky/${Date.now()}`;
      const started = Date.now();
      const handle = await lock.acquire(key, { ttlMs: 5000 });
      // Not stuck behind its own lock until the ttl ran out.
      expect(Date.now() - started).toBeLessThan(2000);
      expect(handle.token).toBe(1);
      expect(Number(await redis.get(`${NAMESPACE}:fence:${key}`))).toBe(1);
      await handle.release();
      expect(await redis.exists(`${NAMESPACE}:lock:${key}`)).toBe(0);
      await redis.quit();
    });

    it('uses the database named in the URL and closes its own connection', async () => {
      const lock = await createStageLock(`${REDIS_URL}/3`, { redis: { namespace: NAMESPACE } });
      const raw = connectRaw();
      await raw.connect();
      try {
        const key = `project/db/${Date.now()}`;
        const handle = await lock.acquire(key, { ttlMs: 2000 });
        await raw.select(3);
        expect(await raw.exists(`${NAMESPACE}:lock:${key}`)).toBe(1);
        await lock.close();
        expect(handle.isValid()).toBe(false);
        expect(await raw.exists(`${NAMESPACE}:lock:${key}`)).toBe(0);
        await raw.del(`${NAMESPACE}:fence:${key}`);
        await expect(lock.acquire(key)).rejects.toMatchObject({ code: 'LOCK_UNAVAILABLE' });
      } finally {
        await raw.quit();
      }
    });
  });
}

describe('RedisStageLock with a failing client', () => {
  const failing = (make: () => Error): RedisLockClient & { calls: number } => {
    const client = {
      calls: 0,
      eval: () => {
        client.calls += 1;
        return Promise.reject(make());
      },
      quit: () => Promise.resolve('OK'),
    };
    return client;
  };

  it('gives up with LOCK_UNAVAILABLE once connection errors last retryUnavailableMs', async () => {
    const client = failing(() => new Error('Connection is closed.'));
    const lock = new RedisStageLock(client, { retryUnavailableMs: 300, minRetryMs: 10, maxRetryMs: 20 });
    const started = Date.now();
    await expect(lock.acquire('k')).rejects.toMatchObject({ code: 'LOCK_UNAVAILABLE' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(300);
    expect(client.calls).toBeGreaterThan(1);
  });

  it('does not retry an error reply', async () => {
    const client = failing(() => Object.assign(new Error('WRONGTYPE Operation against a key'), { name: 'ReplyError' }));
    const lock = new RedisStageLock(client);
    await expect(lock.acquire('k')).rejects.toMatchObject({ code: 'LOCK_UNAVAILABLE' });
    expect(client.calls).toBe(1);
  });
});

describe('RedisStageLock.connect', () => {
  it('fails with LOCK_UNAVAILABLE, without the password, when nothing listens', async () => {
    // Port 1 on loopback: refused at once.
    const error = await RedisStageLock.connect('redis://user:s3cret@127.0.0.1:1/0', { connectTimeoutMs: 1000 }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(LockError);
    expect((error as LockError).code).toBe('LOCK_UNAVAILABLE');
    expect((error as LockError).message).toContain('redis://127.0.0.1:1/0');
    expect(JSON.stringify([(error as LockError).message, (error as LockError).hint, (error as LockError).data])).not.toContain('s3cret');
  });

  it('stops connecting when the signal aborts', async () => {
    const reason = new Error('stop');
    await expect(RedisStageLock.connect('redis://127.0.0.1:1', { signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
  });
});
