/**
 * No-op builds over big repositories, for `pnpm bench:registry`: a repository filled with N noise tags
 * (stage-id-shaped tags of other digests, all on ONE tiny manifest) plus every stage of the
 * `examples/multi-image` project; a no-op build is the engine (library, in process) with a
 * `RegistryStageStore` primary over it and an executor that must never be called. Requests are
 * counted by the client's `stats` and timed through its `fetch` seam; the store's own busy time (the
 * listing, record-cache reads and record requests together) is timed around its calls.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { loadConfig } from '@strata/config';
import { createEngine, formatStageId, MemoryStageLock, type BuildResult, type Executor, type StageDigest, type StageId } from '@strata/core';
import { NativeGitRepository } from '@strata/git';
import { RegistryClient, RegistryStageStore, TagListCache, nodeHttpFetch, nodeHttpTransport, parseRepository, type Repository } from '../../packages/registry/src/index.js';
import type { StageRecordCache } from '../../packages/registry/src/stage-store.js';
import { RegistryTestExecutor } from '../../packages/registry/test/support/registry-executor.js';
import { tinyImage } from '../../packages/registry/test/support/images.js';

/** The shared registry of `scripts/services.sh`: filled repositories persist there across runs. */
export const SHARED_REGISTRY = '127.0.0.1:5000';
export const BENCH_PROJECT = 'strata-bench-registry';
/** The repository root; resolved on use, as a CommonJS bundle of this module has no `import.meta`. */
const root = (): string => path.resolve(import.meta.dirname, '../..');

export const noiseRepository = (count: number): Repository => parseRepository(`${SHARED_REGISTRY}/strata-bench/noise-${count}`);

/** A stage-id-shaped tag that no project's digest matches: 56 hex of sha256("noise-i"), a fixed timestamp. */
const noiseTag = (i: number): string => `${createHash('sha256').update(`noise-${i}`).digest('hex').slice(0, 56)}-1700000000000`;

/** A bare `fetch` loop over every `/v2/<repo>/tags/list` page: the floor of any lookup. */
export async function rawListTags(repository: Repository): Promise<string[]> {
  const tags: string[] = [];
  let next: string | undefined = `/v2/${repository.path}/tags/list`;
  while (next !== undefined) {
    const res: Response = await fetch(`http://${repository.registry}${next}`);
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`tags/list answered ${res.status}`);
    const body = (await res.json()) as { tags: string[] | null };
    tags.push(...(body.tags ?? []));
    const link = res.headers.get('link');
    next = link === null ? undefined : /<([^>]+)>/.exec(link)?.[1];
  }
  return tags;
}

/**
 * Makes `repository` hold at least `count` noise tags: the one tiny manifest PUT under each missing
 * tag, 16 at a time. A repository already holding them (an earlier run) costs one listing.
 */
export async function fillNoise(repository: Repository, count: number): Promise<{ added: number; ms: number }> {
  const started = performance.now();
  const present = new Set(await rawListTags(repository));
  const missing = Array.from({ length: count }, (_, i) => noiseTag(i)).filter((tag) => !present.has(tag));
  if (missing.length === 0) return { added: 0, ms: performance.now() - started };
  const client = new RegistryClient();
  const image = tinyImage({ files: { noise: 'noise\n' } });
  await client.uploadBlob(repository, image.layer.bytes);
  await client.uploadBlob(repository, image.config.bytes);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < missing.length) {
        const tag = missing[next++] as string;
        await client.putManifest(repository.at(tag), image.manifest);
      }
    }),
  );
  return { added: missing.length, ms: performance.now() - started };
}

/** `examples/multi-image` as a git repository with deterministic commits, made once under the temp dir. */
export function benchProject(): string {
  const dir = path.join(tmpdir(), 'strata-bench-registry-project');
  if (existsSync(path.join(dir, '.git'))) return dir;
  const staging = mkdtempSync(path.join(tmpdir(), 'strata-bench-registry-'));
  const made = path.join(staging, 'repo');
  execFileSync('bash', [path.join(root(), 'examples/make-repo.sh'), 'multi-image', made], { stdio: 'ignore' });
  const file = path.join(made, 'werf.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^project: .*$/m, `project: ${BENCH_PROJECT}`));
  const date = '2026-01-03T00:00:00Z';
  execFileSync('git', ['-c', 'user.name=bench', '-c', 'user.email=bench@strata.invalid', 'commit', '-q', '-am', 'bench project'], {
    cwd: made,
    env: { ...process.env, GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date },
  });
  // A rename is atomic: concurrent makers end with one complete repository.
  try {
    execFileSync('mv', ['-T', made, dir]);
  } catch {
    if (!existsSync(path.join(dir, '.git'))) throw new Error(`could not make ${dir}`);
  }
  return dir;
}

/** Requests of one build, from the client's `stats`, with the wall time the client spent on the network. */
export interface BuildMeasure {
  ms: number;
  /** Wall time from the first registry request's start to the last response's end (0 when not timed). */
  registryMs: number;
  /** Wall time during which at least one call of the store (`listStageIds`, `findStage`, `publish`) was running. */
  storeMs: number;
  /** `findStage` calls, and distinct ids among them. */
  finds: number;
  foundIds: number;
  /** The store's lookups in call order, for {@link replayLookups}. */
  lookups: readonly Lookup[];
  requests: number;
  byOperation: Record<string, number>;
  listings: number;
  built: number;
  stages: number;
  result: BuildResult;
}

export interface BuildOnceOptions {
  /** Builds stages; @default one that pushes to the shared registry (the filling build) */
  executor?: Executor | undefined;
  /** The store's record cache; @default a fresh in-memory one (cold) */
  recordCache?: StageRecordCache | undefined;
  /**
   * Time the registry requests (`registryMs`) by wrapping each answer's body in a web
   * `TransformStream`, which costs CPU the product does not spend: the concurrent builders, measured
   * as whole processes, turn it off.
   * @default true
   */
  timeRegistry?: boolean | undefined;
}

/**
 * One build of the bench project against `repository` (its only store), with a fresh client and tag
 * cache.
 */
export async function buildOnce(repository: Repository, options: BuildOnceOptions = {}): Promise<BuildMeasure> {
  let first: number | undefined;
  let last = 0;
  // Timing wraps each answer's body so its end counts; only used when nothing is uploaded (no
  // executor given: the refusing one), as the re-made answer has no `url`.
  const timedFetch: typeof fetch = async (input, init) => {
    const start = performance.now();
    first ??= start;
    // The client's own transport, timed (wrapping the global fetch instead would change what is measured).
    const response = await nodeHttpFetch(input, init);
    last = performance.now();
    if (response.body === null) return response;
    const body = response.body.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        flush() {
          last = performance.now();
        },
      }),
    );
    return new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
  };
  const client = new RegistryClient(options.executor === undefined || options.timeRegistry === false ? { transport: nodeHttpTransport } : { fetch: timedFetch });
  const tagCache = new TagListCache(client);
  const dir = benchProject();
  const loaded = await loadConfig(dir);
  if (!loaded.ok) throw new Error(`bench project config: ${JSON.stringify(loaded.problems)}`);
  const git = await NativeGitRepository.open(dir);
  const executor = options.executor ?? new RegistryTestExecutor(client, parseRepository(`${SHARED_REGISTRY}/strata-bench/scratch`));
  try {
    const store = new RegistryStageStore(repository, { client, tagCache, project: BENCH_PROJECT, recordCache: options.recordCache });
    const timed = timeStore(store);
    const started = performance.now();
    const engine = createEngine({
      config: loaded.config,
      repository: git,
      stores: { primary: timed.store },
      lock: new MemoryStageLock(),
      executor,
    });
    const result = await engine.build();
    const ms = performance.now() - started;
    const stages = Object.values(result.report.Images).flatMap((image) => image.Stages);
    return {
      ms,
      registryMs: first === undefined ? 0 : last - first,
      storeMs: timed.busyMs(),
      finds: timed.lookups.filter((l) => l.kind === 'find').length,
      foundIds: new Set(timed.lookups.flatMap((l) => (l.kind === 'find' ? [formatStageId(l.id)] : []))).size,
      lookups: timed.lookups,
      requests: client.stats.total,
      byOperation: client.stats.byOperation,
      listings: tagCache.stats.listings,
      built: stages.filter((stage) => stage.Status === 'built').length,
      stages: stages.length,
      result,
    };
  } finally {
    await git.close();
  }
}

/**
 * An executor for no-op builds: building is a bench failure (a stage was not found). Import checksums
 * are answered as the filling build's executor answers them (a pure hash of the request), and counted.
 */
export function noopExecutor(): Executor & { importChecksums: number } {
  const inner = new RegistryTestExecutor(new RegistryClient(), parseRepository(`${SHARED_REGISTRY}/strata-bench/scratch`));
  const executor = {
    importChecksums: 0,
    buildStage(request: Parameters<Executor['buildStage']>[0]) {
      return Promise.reject(new Error(`no-op build asked to build ${request.stage} (${request.digest})`));
    },
    importChecksum(request: Parameters<Executor['importChecksum']>[0], options?: Parameters<Executor['importChecksum']>[1]) {
      executor.importChecksums++;
      return inner.importChecksum(request, options);
    },
  };
  return executor;
}

/** One lookup a build made: a listing (of one digest, or all) or a record read. */
export type Lookup = { readonly kind: 'list'; readonly digest: StageDigest | undefined } | { readonly kind: 'find'; readonly id: StageId };

/**
 * The lookups of a build replayed, one after the other, on a fresh client, tag cache and store over
 * `recordCache`: the store's own cost of a build's lookups, without the engine's work interleaved.
 */
export async function replayLookups(repository: Repository, lookups: readonly Lookup[], recordCache: StageRecordCache): Promise<{ ms: number; requests: number; byOperation: Record<string, number> }> {
  const client = new RegistryClient({ transport: nodeHttpTransport });
  const store = new RegistryStageStore(repository, { client, tagCache: new TagListCache(client), project: BENCH_PROJECT, recordCache });
  const started = performance.now();
  for (const lookup of lookups) {
    if (lookup.kind === 'list') await store.listStageIds(lookup.digest);
    else await store.findStage(lookup.id);
  }
  return { ms: performance.now() - started, requests: client.stats.total, byOperation: client.stats.byOperation };
}

/**
 * `store` with its calls timed: the wall time during which at least one call was running (overlapping
 * calls count once, and so does the engine's work done meanwhile), and its lookups in call order.
 */
function timeStore(store: RegistryStageStore): { store: RegistryStageStore; busyMs: () => number; lookups: Lookup[] } {
  let active = 0;
  let since = 0;
  let busy = 0;
  const lookups: Lookup[] = [];
  const track = async <T>(call: () => Promise<T>): Promise<T> => {
    if (active++ === 0) since = performance.now();
    try {
      return await call();
    } finally {
      if (--active === 0) busy += performance.now() - since;
    }
  };
  const proxy = new Proxy(store, {
    get(target, key) {
      if (key === 'listStageIds') {
        return (...args: Parameters<RegistryStageStore['listStageIds']>) => {
          lookups.push({ kind: 'list', digest: args[0] });
          return track(() => target.listStageIds(...args));
        };
      }
      if (key === 'findStage') {
        return (...args: Parameters<RegistryStageStore['findStage']>) => {
          lookups.push({ kind: 'find', id: args[0] });
          return track(() => target.findStage(...args));
        };
      }
      if (key === 'publish') return (...args: Parameters<RegistryStageStore['publish']>) => track(() => target.publish(...args));
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return { store: proxy, busyMs: () => busy, lookups };
}
