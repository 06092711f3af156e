import { randomUUID } from 'node:crypto';
import { abortReason } from '@strata/errors';
import type { AcquireOptions, CallOptions, LockHandle, StageLock } from '@strata/core';
import { Redis } from 'ioredis';
import { LockError } from './errors.js';
import { backoff, checkTtl, Lease, sleep } from './lease.js';
import { describeRedisLocation, parseRedisUrl, type RedisLocation } from './redis-url.js';

/** The slice of a Redis client the lock uses (STYLE rule 4): Lua scripts and closing. */
export interface RedisLockClient {
  /** `EVAL script numKeys ...keysAndArgs`; rejects on a Redis or connection error. */
  eval(script: string, numKeys: number, ...keysAndArgs: Array<string | number>): Promise<unknown>;
  /** Closes the connection gracefully. */
  quit(): Promise<unknown>;
}

/** Adapts an `ioredis` client to {@link RedisLockClient}. */
export function ioredisLockClient(redis: Redis): RedisLockClient {
  return {
    eval: (script, numKeys, ...keysAndArgs) => redis.eval(script, numKeys, ...keysAndArgs),
    quit: () => redis.quit(),
  };
}

export interface RedisStageLockOptions {
  /** Prefix of every key: locks are `<namespace>:lock:<key>`, fencing counters `<namespace>:fence:<key>`. @default 'strata' */
  namespace?: string | undefined;
  /** Lease when `acquire` gives none. @default 30000 */
  defaultTtlMs?: number | undefined;
  /** First delay between attempts while the lock is busy; doubles up to {@link maxRetryMs}. @default 25 */
  minRetryMs?: number | undefined;
  /** Longest delay between attempts while the lock is busy (never longer than the holder's remaining lease). @default 250 */
  maxRetryMs?: number | undefined;
  /**
   * How long `acquire` keeps retrying while Redis fails with connection errors (not error replies) before
   * it gives up with `LOCK_UNAVAILABLE`.
   * @default 10000
   */
  retryUnavailableMs?: number | undefined;
  /** Shown in messages instead of the client; never holds credentials. @default 'redis' */
  description?: string | undefined;
}

export interface RedisConnectOptions extends RedisStageLockOptions, CallOptions {
  /** How long to wait for the first connection. @default 5000 */
  connectTimeoutMs?: number | undefined;
}

// Takes the lock and the next fencing token atomically, or reports how long the current holder has left.
const ACQUIRE = `
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1, redis.call('INCR', KEYS[2])}
end
if redis.call('GET', KEYS[1]) == ARGV[1] then
  -- An earlier attempt of this same acquire took the lock but its reply was lost; nobody else can have
  -- incremented the fence since, so it still holds this holder's token.
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, tonumber(redis.call('GET', KEYS[2]))}
end
return {0, redis.call('PTTL', KEYS[1])}`;

// Extends the lease only while this owner still holds it.
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0`;

// Compare-and-delete: never frees a lock that has passed to another owner.
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

/**
 * A distributed {@link StageLock} on a Redis server, for builders on many hosts.
 *
 * - **Acquire**: one Lua script does `SET <namespace>:lock:<key> <owner> NX PX <ttl>` and, when it took
 *   the lock, `INCR <namespace>:fence:<key>` for the fencing token (so tokens strictly increase across
 *   holders). Connection errors are retried for `retryUnavailableMs`; the script recognises a lock its
 *   own earlier attempt took (reply lost) and returns it with its token. When busy, it waits with
 *   exponential backoff and jitter, never longer than the holder's remaining `PTTL`. The `signal` ends the wait; a lock won after the abort is given back at once.
 * - **Renewal**: every `ttl / 3` a script extends the key's expiry only while it still holds this owner's
 *   random value.
 * - **Lost lease**: a renewal that finds the key gone or owned by someone else, or no successful renewal
 *   for a whole ttl (counted from when the last good renewal was sent), aborts the handle's signal with
 *   `LOCK_LOST`.
 * - **Release**: compare-and-delete; idempotent; a stale handle never frees its successor's lock.
 * - A holder killed with `kill -9` stops renewing; Redis drops the key when its `PX` runs out, at most
 *   `ttl` after the last renewal.
 *
 * Single Redis server semantics: no Redlock across several masters; a failover to a replica that missed the
 * last write may grant a lock twice, which fencing tokens let the protected resource detect.
 */
export class RedisStageLock implements StageLock {
  readonly #client: RedisLockClient;
  #owned: boolean;
  readonly #namespace: string;
  readonly #defaultTtlMs: number;
  readonly #minRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #retryUnavailableMs: number;
  readonly #description: string;
  readonly #handles = new Set<LockHandle>();
  #closed = false;

  /** Uses `client` as is; {@link close} does not close a client it was given. No I/O. */
  constructor(client: RedisLockClient, options: RedisStageLockOptions = {}) {
    this.#client = client;
    this.#owned = false;
    this.#namespace = options.namespace ?? 'strata';
    this.#defaultTtlMs = options.defaultTtlMs ?? 30_000;
    this.#minRetryMs = options.minRetryMs ?? 25;
    this.#maxRetryMs = options.maxRetryMs ?? 250;
    this.#retryUnavailableMs = options.retryUnavailableMs ?? 10_000;
    this.#description = options.description ?? 'redis';
  }

  /**
   * Connects to `url` (`redis://HOST:PORT[/DB]`, credentials allowed) with `ioredis` and returns a lock
   * that owns the connection ({@link close} closes it). Throws `LOCK_INVALID_URL` or `LOCK_UNAVAILABLE`.
   */
  static async connect(url: string | RedisLocation, options: RedisConnectOptions = {}): Promise<RedisStageLock> {
    const location = typeof url === 'string' ? parseRedisUrl(url) : url;
    const shown = describeRedisLocation(location);
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const redis = new Redis({
      host: location.host,
      port: location.port,
      db: location.db,
      username: location.username,
      password: location.password,
      lazyConnect: true,
      connectTimeout: options.connectTimeoutMs ?? 5000,
      // Lock commands fail fast while disconnected; the lease watchdog, not a queue, decides what a
      // long outage means.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    // Errors surface through rejected commands; without a listener ioredis would print them.
    redis.on('error', () => undefined);
    try {
      await raceAbort(redis.connect(), signal);
    } catch (error) {
      redis.disconnect();
      if (signal?.aborted) throw abortReason(signal);
      throw new LockError('LOCK_UNAVAILABLE', `could not connect to the lock service at ${shown}`, {
        hint: 'Start Redis there (tests: `bash scripts/services.sh start`) or use --synchronization=:local for one host.',
        data: { url: shown },
        cause: error,
      });
    }
    const lock = new RedisStageLock(ioredisLockClient(redis), { ...options, description: options.description ?? shown });
    lock.#owned = true;
    return lock;
  }

  async acquire(key: string, options: AcquireOptions = {}): Promise<LockHandle> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const ttlMs = Math.ceil(checkTtl(options.ttlMs ?? this.#defaultTtlMs, key));
    const lockKey = `${this.#namespace}:lock:${key}`;
    const fenceKey = `${this.#namespace}:fence:${key}`;
    const owner = randomUUID();
    let failingSince: number | undefined;
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      if (this.#closed) throw this.#unavailable(`the lock client for ${this.#description} is closed`, key);
      const sentAt = Date.now();
      const pending = this.#client.eval(ACQUIRE, 2, lockKey, fenceKey, owner, ttlMs);
      let reply: unknown;
      try {
        reply = await raceAbort(pending, signal);
      } catch (error) {
        if (signal?.aborted) {
          // The script may still take the lock after we stopped waiting: give it back.
          pending.then(
            (late) => {
              if (parseReply(late)?.[0] === 1) this.#client.eval(RELEASE, 1, lockKey, owner).catch(() => undefined);
            },
            () => undefined,
          );
          throw abortReason(signal);
        }
        failingSince ??= sentAt;
        if (isErrorReply(error) || Date.now() - failingSince >= this.#retryUnavailableMs) {
          throw this.#unavailable(`could not take lock ${key} on ${this.#description}`, key, error);
        }
        await sleep(backoff(attempt, this.#minRetryMs, this.#maxRetryMs * 4), signal);
        continue;
      }
      failingSince = undefined;
      const parsed = parseReply(reply);
      if (!parsed) throw this.#unavailable(`unexpected reply ${JSON.stringify(reply)} from ${this.#description}`, key);
      const [taken, value] = parsed;
      if (taken === 1) {
        if (signal?.aborted) {
          await this.#client.eval(RELEASE, 1, lockKey, owner).catch(() => undefined);
          throw abortReason(signal);
        }
        return this.#hold(key, lockKey, owner, value, ttlMs, sentAt);
      }
      // value is the holder's remaining PTTL (-1: no expiry, -2: gone meanwhile).
      const wait = backoff(attempt, this.#minRetryMs, this.#maxRetryMs);
      await sleep(value >= 0 ? Math.min(wait, value + 1) : value === -2 ? 0 : wait, signal);
    }
  }

  /** Releases every lock this instance holds, then closes the connection if {@link connect} opened it. */
  async close(options: CallOptions = {}): Promise<void> {
    if (this.#closed) return;
    await Promise.allSettled([...this.#handles].map((handle) => handle.release(options)));
    this.#closed = true;
    if (this.#owned) await this.#client.quit().catch(() => undefined);
  }

  #hold(key: string, lockKey: string, owner: string, token: number, ttlMs: number, sentAt: number): LockHandle {
    const lease = new Lease(key, token, { ttlMs, confirmedAt: sentAt, describe: this.#description });
    const interval = Math.max(1, Math.floor(ttlMs / 3));
    let timer: NodeJS.Timeout | undefined;
    const renew = async (): Promise<void> => {
      timer = undefined;
      if (lease.ended) return;
      const renewSentAt = Date.now();
      let delay = interval;
      try {
        const reply = await this.#client.eval(RENEW, 1, lockKey, owner, ttlMs);
        if (Number(reply) === 1) lease.renewed(renewSentAt);
        else lease.lose('the key expired or belongs to another holder');
      } catch {
        // Keep trying; the lease watchdog declares it lost once a whole ttl passes without success.
        delay = Math.max(1, Math.floor(interval / 2));
      }
      schedule(delay);
    };
    const schedule = (delay: number): void => {
      if (lease.ended) return;
      timer = setTimeout(() => void renew(), delay);
    };
    lease.signal.addEventListener('abort', () => {
      if (timer) clearTimeout(timer);
    });
    schedule(interval);
    const handle = lease.handle(async () => {
      this.#handles.delete(handle);
      if (lease.ended) return;
      lease.released();
      try {
        await this.#client.eval(RELEASE, 1, lockKey, owner);
      } catch (error) {
        throw this.#unavailable(`could not release lock ${key} on ${this.#description}; it expires after its lease`, key, error);
      }
    });
    this.#handles.add(handle);
    return handle;
  }

  #unavailable(message: string, key: string, cause?: unknown): LockError {
    return new LockError('LOCK_UNAVAILABLE', message, {
      hint: 'Check that the Redis server in --synchronization is running and reachable.',
      data: { key, service: this.#description },
      cause,
    });
  }
}

/** A reply Redis sent as an error (a script or type error): retrying cannot help, unlike a connection error. */
function isErrorReply(error: unknown): boolean {
  return error instanceof Error && error.name === 'ReplyError';
}

function parseReply(reply: unknown): [number, number] | undefined {
  if (!Array.isArray(reply) || reply.length !== 2) return undefined;
  const [taken, value] = reply.map(Number) as [number, number];
  return Number.isInteger(taken) && Number.isInteger(value) ? [taken, value] : undefined;
}

/** Resolves or rejects like `promise`, or rejects with the signal's reason first. */
function raceAbort<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
