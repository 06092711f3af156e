import { createHash, randomBytes } from 'node:crypto';
import * as nodeFs from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { abortReason } from '@strata/errors';
import type { AcquireOptions, CallOptions, LockHandle, StageLock } from '@strata/core';
import lockfile from 'proper-lockfile';
import { LockError } from './errors.js';
import { backoff, checkTtl, Lease, sleep } from './lease.js';

/** proper-lockfile never treats a lock younger than this as stale, whatever `stale` it is given. */
export const FILE_LOCK_MIN_LEASE_MS = 2000;
/** proper-lockfile never refreshes a lock file more often than this. */
const FILE_LOCK_MIN_UPDATE_MS = 1000;

type Callback = (error: NodeJS.ErrnoException | null) => void;

/**
 * The slice of Node's callback `fs` API that proper-lockfile uses on lock files (its `fs` option). A test
 * seam: a test can pass one whose calls never complete to simulate a holder that froze or died.
 */
export interface LockFileSystem {
  mkdir(path: string, callback: Callback): void;
  rmdir(path: string, callback: Callback): void;
  stat(path: string, callback: (error: NodeJS.ErrnoException | null, stats: nodeFs.Stats) => void): void;
  utimes(path: string, atime: Date, mtime: Date, callback: Callback): void;
  /** Used by proper-lockfile's exit handler to remove held lock files when the process exits. */
  rmdirSync(path: string): void;
}

export interface FileStageLockOptions {
  /**
   * Directory holding the lock files; created on first use. Every process that must exclude the others
   * has to use the same directory.
   * @default `~/.strata/locks`
   */
  dir?: string | undefined;
  /** Lease when `acquire` gives none. @default 30000 */
  defaultTtlMs?: number | undefined;
  /** First delay between attempts while the lock is busy; doubles up to {@link maxRetryMs}. @default 25 */
  minRetryMs?: number | undefined;
  /** Longest delay between attempts while the lock is busy. @default 250 */
  maxRetryMs?: number | undefined;
  /** File system calls on lock files (test seam). @default `node:fs` */
  fs?: LockFileSystem | undefined;
}

/** Replaces `path`'s content in one step (write a temporary file, rename it over). */
async function writeAtomically(path: string, text: string): Promise<void> {
  const temporary = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await writeFile(temporary, text);
    await rename(temporary, path);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    throw error;
  }
}

/** The lease the last holder of a lock file declared, or 0 when unknown. */
async function readDeclaredLease(path: string): Promise<number> {
  try {
    const text = (await readFile(path, 'utf8')).trim();
    return /^\d+$/.test(text) ? Number(text) : 0;
  } catch {
    return 0;
  }
}

/** The default lock directory, `~/.strata/locks`. */
export function defaultLockDir(): string {
  return join(homedir(), '.strata', 'locks');
}

interface Held {
  readonly lease: Lease;
}

/**
 * A {@link StageLock} for the processes of one host, on lock files (`proper-lockfile`).
 *
 * - **Lock file**: `<dir>/<name>.lock`, a directory made with an atomic `mkdir`; `<name>` is the key made
 *   file-safe plus 16 hex digits of its SHA-256, so distinct keys never share a file.
 * - **Lease**: `max(ttlMs, 2000)` ms (proper-lockfile's floor), declared by the holder in
 *   `<dir>/<name>.lease`. The holder touches the lock's mtime every `lease / 3` ms (at least 1000 ms
 *   apart); a lock whose mtime is older than the holder's declared lease (or the acquirer's own, if
 *   longer) is stale and the next acquirer removes and takes it. So a holder killed with `kill -9` blocks others for at most the
 *   lease, plus up to 1 s for the very first lock a process takes (proper-lockfile probes mtime precision
 *   with a timestamp up to 1 s ahead).
 * - **Lost lease**: when the mtime was changed by someone else, the lock file vanished, or no refresh
 *   succeeded for a whole lease, the handle's signal aborts with `LOCK_LOST` and refreshing stops.
 * - **Fencing**: `<dir>/<name>.fence` holds a counter, incremented (write + rename) while holding the
 *   lock, so tokens strictly increase across holders.
 * - **Waiting**: polls with exponential backoff and jitter; the `signal` ends the wait.
 *
 * Mutual exclusion relies on all holders seeing the same file system with working mtimes: a local disk,
 * not a network file system, and one host's clock.
 */
export class FileStageLock implements StageLock {
  readonly dir: string;
  readonly #defaultTtlMs: number;
  readonly #minRetryMs: number;
  readonly #maxRetryMs: number;
  readonly #fs: LockFileSystem;
  /** Lock file path → its current lease in this instance (also after it was lost, until re-acquired). */
  readonly #held = new Map<string, Held>();
  readonly #handles = new Set<LockHandle>();

  constructor(options: FileStageLockOptions = {}) {
    this.dir = options.dir ?? defaultLockDir();
    this.#defaultTtlMs = options.defaultTtlMs ?? 30_000;
    this.#minRetryMs = options.minRetryMs ?? 25;
    this.#maxRetryMs = options.maxRetryMs ?? 250;
    this.#fs = this.#watchRefreshes(options.fs ?? nodeFs);
  }

  /** The effective lease for a requested ttl: proper-lockfile cannot go below 2000 ms. */
  static effectiveLeaseMs(ttlMs: number): number {
    return Math.max(ttlMs, FILE_LOCK_MIN_LEASE_MS);
  }

  async acquire(key: string, options: AcquireOptions = {}): Promise<LockHandle> {
    const { signal } = options;
    if (signal?.aborted) throw abortReason(signal);
    const leaseMs = FileStageLock.effectiveLeaseMs(checkTtl(options.ttlMs ?? this.#defaultTtlMs, key));
    const paths = this.#paths(key);
    try {
      await mkdir(this.dir, { recursive: true });
    } catch (error) {
      throw this.#unavailable(`could not create the lock directory ${this.dir}`, key, error);
    }
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw abortReason(signal);
      const sentAt = Date.now();
      // onCompromised may fire before the lease object exists; it records the failure for it.
      const state: { lease?: Lease; compromised?: Error } = {};
      // Staleness is judged by the acquirer, so honour the lease the current holder declared when longer:
      // a short-ttl waiter must not take a lock from a live long-ttl holder between two of its refreshes.
      const honouredMs = Math.max(leaseMs, await readDeclaredLease(paths.lease));
      let unlock: () => Promise<void>;
      try {
        unlock = await lockfile.lock(paths.target, {
          stale: honouredMs,
          update: Math.max(FILE_LOCK_MIN_UPDATE_MS, Math.floor(leaseMs / 3)),
          realpath: false,
          retries: 0,
          lockfilePath: paths.lock,
          fs: this.#fs,
          onCompromised: (error) => {
            state.compromised = error;
            state.lease?.lose('the lock file was changed or removed by someone else, or could not be refreshed', error);
          },
        });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ELOCKED') {
          await sleep(backoff(attempt, this.#minRetryMs, this.#maxRetryMs), signal);
          continue;
        }
        throw this.#unavailable(`could not take the lock file ${paths.lock}`, key, error);
      }
      const giveUp = async (): Promise<void> => {
        await unlock().catch(() => undefined);
      };
      if (signal?.aborted) {
        await giveUp();
        throw abortReason(signal);
      }
      let token: number;
      try {
        token = await this.#nextToken(paths.fence);
        await writeAtomically(paths.lease, `${leaseMs}\n`);
      } catch (error) {
        await giveUp();
        throw this.#unavailable(`could not update the fencing counter ${paths.fence} or lease ${paths.lease}`, key, error);
      }
      if (signal?.aborted) {
        await giveUp();
        throw abortReason(signal);
      }
      const current = new Lease(key, token, { ttlMs: leaseMs, confirmedAt: sentAt, describe: `file ${paths.lock}` });
      state.lease = current;
      this.#held.set(paths.lock, { lease: current });
      if (state.compromised) current.lose('the lock file was changed or removed by someone else', state.compromised);
      const handle = current.handle(async () => {
        this.#handles.delete(handle);
        if (current.ended) return;
        if (!current.isValid()) {
          // Past the lease the lock file may already belong to someone else: removing it would free their lock.
          current.lose('the lease ran out before release');
          return;
        }
        current.released();
        if (this.#held.get(paths.lock)?.lease === current) this.#held.delete(paths.lock);
        try {
          await unlock();
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ERELEASED' || code === 'ENOTACQUIRED' || code === 'ENOENT') return;
          throw this.#unavailable(`could not remove the lock file ${paths.lock}; it expires after its lease`, key, error);
        }
      });
      this.#handles.add(handle);
      return handle;
    }
  }

  /** Releases every lock this instance still holds. The instance stays usable. */
  async close(options: CallOptions = {}): Promise<void> {
    await Promise.all([...this.#handles].map((handle) => handle.release(options)));
  }

  #paths(key: string): { target: string; lock: string; fence: string; lease: string } {
    const safe = key.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 80);
    const name = `${safe}-${createHash('sha256').update(key).digest('hex').slice(0, 16)}`;
    const target = join(this.dir, name);
    return { target, lock: `${target}.lock`, fence: `${target}.fence`, lease: `${target}.lease` };
  }

  /** Increments the fencing counter; called only while holding the lock. */
  async #nextToken(path: string): Promise<number> {
    let current = 0;
    try {
      const text = (await readFile(path, 'utf8')).trim();
      current = /^\d+$/.test(text) ? Number(text) : 0;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    const next = current + 1;
    await writeAtomically(path, `${next}\n`);
    return next;
  }

  /**
   * Wraps the file system so a successful mtime refresh renews the lease this process believes in, and so
   * a lease already given up as lost stops being refreshed (proper-lockfile stops on an `ENOENT` failure).
   */
  #watchRefreshes(base: LockFileSystem): LockFileSystem {
    return {
      mkdir: (path, callback) => base.mkdir(path, callback),
      rmdir: (path, callback) => base.rmdir(path, callback),
      rmdirSync: (path) => base.rmdirSync(path),
      stat: (path, callback) => base.stat(path, callback),
      utimes: (path, atime, mtime, callback) => {
        const held = this.#held.get(path);
        if (held?.lease.ended) {
          callback(Object.assign(new Error(`lease on ${path} was given up`), { code: 'ENOENT' }));
          return;
        }
        // Others judge staleness by the mtime written, so the lease counts from it (or from now if later).
        const from = Math.min(Date.now(), mtime.getTime());
        base.utimes(path, atime, mtime, (error) => {
          if (!error) this.#held.get(path)?.lease.renewed(from);
          callback(error);
        });
      },
    };
  }

  #unavailable(message: string, key: string, cause: unknown): LockError {
    return new LockError('LOCK_UNAVAILABLE', message, {
      hint: `Check that ${this.dir} is a writable local directory (set another with the \`dir\` option).`,
      data: { key, dir: this.dir },
      cause,
    });
  }
}
