/**
 * Stage records of registry repositories kept between builds. A stage record in a registry is
 * immutable per (repository, stage id): a stage id is `DIGEST-TIMESTAMP_MILLISEC`, never re-used for
 * another stage, and Strata never overwrites a stage tag. So a record read once can be answered again
 * without a request, as long as the tag listing still shows the tag (see `RegistryStageStore`).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { abortReason } from '@strata/errors';
import { formatStageId, labelsToRecord, type CallOptions, type StageId, type StageRecord } from '@strata/core';

/**
 * Where records of stages read from (or published to) registry repositories are kept.
 *
 * Contract:
 * - `repository` is the repository's text (`registry/path`); entries are keyed by it and the stage id.
 * - `find` answers `undefined` on a miss, including an unreadable, corrupt or other-version entry (a
 *   miss only costs the caller a registry read). A hit is a record that was `store`d for that key.
 * - `store` is idempotent (records are immutable per key; a later store replaces the entry whole).
 *   `forget` of an absent entry is a no-op.
 * - Safe under concurrent calls, also from several processes sharing one backing store: a reader sees
 *   either no entry or a complete one.
 * - Write failures other than an abort are swallowed by implementations: a cache never fails a build.
 *   Every method rejects with the signal's reason once `signal` is aborted.
 */
export interface StageRecordCache {
  find(repository: string, id: StageId, options?: CallOptions): Promise<StageRecord | undefined>;
  store(repository: string, record: StageRecord, options?: CallOptions): Promise<void>;
  forget(repository: string, id: StageId, options?: CallOptions): Promise<void>;
}

/** A {@link StageRecordCache} in memory: lives as long as the object (one process). */
export class MemoryStageRecordCache implements StageRecordCache {
  readonly #records = new Map<string, StageRecord>();

  find(repository: string, id: StageId, options: CallOptions = {}): Promise<StageRecord | undefined> {
    return settle(options, () => this.#records.get(keyOf(repository, id)));
  }

  store(repository: string, record: StageRecord, options: CallOptions = {}): Promise<void> {
    return settle(options, () => {
      this.#records.set(keyOf(repository, record.id), record);
    });
  }

  forget(repository: string, id: StageId, options: CallOptions = {}): Promise<void> {
    return settle(options, () => {
      this.#records.delete(keyOf(repository, id));
    });
  }

  /** How many records are held. */
  get size(): number {
    return this.#records.size;
  }
}

/** The default directory of {@link FileStageRecordCache}: `~/.strata/cache/registry-records`. */
export function defaultStageRecordCacheDir(): string {
  return path.join(homedir(), '.strata', 'cache', 'registry-records');
}

/** Version of the entry format; entries of any other version are misses. */
const ENTRY_VERSION = 1;

/** What an entry file holds: the facts the registry gives about a stage image; the record is derived from them. */
interface Entry {
  readonly version: typeof ENTRY_VERSION;
  readonly tag: string;
  readonly imageRef: string;
  readonly imageId?: string | undefined;
  readonly repoDigest?: string | undefined;
  readonly size?: number | undefined;
  readonly createdAtMs: number;
  readonly labels: Readonly<Record<string, string>>;
}

/**
 * A {@link StageRecordCache} in files, shared by every build on the machine:
 * `<dir>/<registry>/<repository path>/<stage id>.json` (a `:` in the registry, before its port, is
 * written `_`). An entry is written to a temporary file in the same directory and renamed into place,
 * so concurrent readers and writers (other processes too) never see half an entry; the last writer
 * wins, which is harmless as entries of one key are equal. An entry that does not parse, has another
 * format version, or does not describe the requested stage is a miss (and is replaced by the next
 * `store`). The constructor does no I/O; directories are made on the first `store`.
 */
export class FileStageRecordCache implements StageRecordCache {
  readonly dir: string;

  /** @param dir where entries live; @default {@link defaultStageRecordCacheDir} */
  constructor(dir: string = defaultStageRecordCacheDir()) {
    this.dir = path.resolve(dir);
  }

  /** The file of one entry (whether it exists or not). */
  fileOf(repository: string, id: StageId): string {
    const slash = repository.indexOf('/');
    const registry = slash < 0 ? repository : repository.slice(0, slash);
    const repoPath = slash < 0 ? '' : repository.slice(slash + 1);
    const parts = repoPath.split('/').filter((part) => part !== '' && part !== '.' && part !== '..');
    return path.join(this.dir, registry.replaceAll(':', '_'), ...parts, `${formatStageId(id)}.json`);
  }

  /**
   * Reads the entry synchronously, on purpose: an entry is a ~1 KB local file, which a synchronous
   * read returns in ~20 µs, where `fs/promises` takes four thread-pool round trips (open, stat, read,
   * close: ~0.4 ms on a busy 2-core machine) — and a build reads one entry per stage, mostly one after
   * the other. The cost is that a cache directory on a stalled network file system would stall the
   * process rather than one lookup.
   */
  find(repository: string, id: StageId, options: CallOptions = {}): Promise<StageRecord | undefined> {
    const signal = options.signal;
    if (signal?.aborted === true) return Promise.reject(abortReason(signal));
    let text: string;
    try {
      text = readFileSync(this.fileOf(repository, id), 'utf8');
    } catch {
      // Absent or unreadable: a miss either way.
      return Promise.resolve(undefined);
    }
    return Promise.resolve(recordOfEntry(text, id));
  }

  async store(repository: string, record: StageRecord, options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    const file = this.fileOf(repository, record.id);
    const entry: Entry = {
      version: ENTRY_VERSION,
      tag: formatStageId(record.id),
      imageRef: record.imageRef,
      imageId: record.imageId,
      repoDigest: record.repoDigest,
      size: record.size,
      createdAtMs: record.createdAtMs,
      labels: record.labels,
    };
    const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
    try {
      await mkdir(path.dirname(file), { recursive: true });
      await writeFile(temp, `${JSON.stringify(entry)}\n`, signalOf(options));
      await rename(temp, file);
    } catch {
      options.signal?.throwIfAborted();
      await rm(temp, { force: true }).catch(() => undefined);
    }
  }

  async forget(repository: string, id: StageId, options: CallOptions = {}): Promise<void> {
    options.signal?.throwIfAborted();
    await rm(this.fileOf(repository, id), { force: true }).catch(() => undefined);
  }
}

/** `run()` as a promise, rejected (not thrown) with the signal's reason when it is already aborted. */
function settle<T>(options: CallOptions, run: () => T): Promise<T> {
  const signal = options.signal;
  return signal?.aborted === true ? Promise.reject(abortReason(signal)) : Promise.resolve(run());
}

function keyOf(repository: string, id: StageId): string {
  return `${repository}:${formatStageId(id)}`;
}

/** The record an entry file describes, or `undefined` when it is not a valid entry for `id`. */
function recordOfEntry(text: string, id: StageId): StageRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!isEntry(value) || value.tag !== formatStageId(id)) return undefined;
  try {
    return labelsToRecord(value.labels, {
      id,
      imageRef: value.imageRef,
      imageId: value.imageId,
      repoDigest: value.repoDigest,
      size: value.size,
      createdAtMs: value.createdAtMs,
    });
  } catch {
    return undefined;
  }
}

function isEntry(value: unknown): value is Entry {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  const optional = (key: string, type: 'string' | 'number') => entry[key] === undefined || typeof entry[key] === type;
  return (
    entry.version === ENTRY_VERSION &&
    typeof entry.tag === 'string' &&
    typeof entry.imageRef === 'string' &&
    typeof entry.createdAtMs === 'number' &&
    optional('imageId', 'string') &&
    optional('repoDigest', 'string') &&
    optional('size', 'number') &&
    typeof entry.labels === 'object' &&
    entry.labels !== null &&
    !Array.isArray(entry.labels) &&
    Object.values(entry.labels).every((label) => typeof label === 'string')
  );
}

function signalOf(options: CallOptions): { signal?: AbortSignal } {
  return options.signal === undefined ? {} : { signal: options.signal };
}
