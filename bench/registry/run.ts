/**
 * `pnpm bench:registry`: the registry client against floors written with bare `fetch` doing the
 * same protocol requests, on a Debian `docker-registry` started here on a free loopback port; plus
 * the request economy of the tag-list cache and the cost of a 10% fault rate.
 * The last printed line is the JSON summary.
 */
import { createHash, randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { RegistryClient, RegistryStageStore, TagListCache, digestOf, nodeHttpTransport, parseRepository, type Repository } from '../../packages/registry/src/index.js';
import { startFaultProxy } from '../../packages/registry/test/support/fault-proxy.js';
import { tinyImage, type TinyImage } from '../../packages/registry/test/support/images.js';
import { findRegistryBinary, startRegistry } from '../../packages/registry/test/support/registry-process.js';
import { probeRegistry } from '../../test/support/services.js';
import { FileStageRecordCache, MemoryStageRecordCache } from '../../packages/registry/src/stage-store.js';
import { bundleLauncher, bundleStrata } from '../../packages/cli/scripts/bundle.js';
import { BENCH_PROJECT, SHARED_REGISTRY, buildOnce, fillNoise, noiseRepository, noopExecutor, rawListTags, replayLookups, type BuildMeasure } from './noop.js';

const execFileAsync = promisify(execFile);

interface Result {
  name: string;
  value: number;
  unit: string;
  baseline: number | null;
  ratio: number | null;
  target: number | null;
  pass: boolean | null;
}

const binary = findRegistryBinary();
if (binary === undefined) throw new Error('bench:registry needs the docker-registry binary (apt-get install docker-registry)');
const registry = await startRegistry(binary);
const results: Result[] = [];
const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
const ratioResult = (name: string, unit: string, value: number, baseline: number, target: number | null): Result => {
  const ratio = round(value / baseline, 2);
  return { name, value: round(value), unit, baseline: round(baseline), ratio, target, pass: target === null ? null : ratio <= target };
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
}

const images = (n: number, salt: string): TinyImage[] => Array.from({ length: n }, (_, i) => tinyImage({ files: { [`f${i}`]: `${salt}-${i}-${randomBytes(8).toString('hex')}` } }));

/** The floor: the same requests the client makes for a push (HEAD, POST, PUT per blob; PUT manifest). */
async function rawPush(host: string, path: string, image: TinyImage, tag: string): Promise<void> {
  for (const blob of [image.layer, image.config]) {
    const head = await fetch(`http://${host}/v2/${path}/blobs/${blob.digest}`, { method: 'HEAD' });
    if (head.status === 200) continue;
    const post = await fetch(`http://${host}/v2/${path}/blobs/uploads/`, { method: 'POST' });
    await post.body?.cancel();
    const location = new URL(post.headers.get('location') ?? '', `http://${host}`);
    location.searchParams.set('digest', blob.digest);
    const put = await fetch(location, { method: 'PUT', body: blob.bytes, headers: { 'content-type': 'application/octet-stream' } });
    await put.body?.cancel();
    if (put.status !== 201) throw new Error(`raw blob PUT answered ${put.status}`);
  }
  const put = await fetch(`http://${host}/v2/${path}/manifests/${tag}`, { method: 'PUT', body: image.manifest.bytes, headers: { 'content-type': image.manifest.mediaType } });
  await put.body?.cancel();
  if (put.status !== 201) throw new Error(`raw manifest PUT answered ${put.status}`);
}

async function clientPush(client: RegistryClient, repository: Repository, image: TinyImage, tag: string): Promise<void> {
  await client.uploadBlob(repository, image.layer.bytes);
  await client.uploadBlob(repository, image.config.bytes);
  await client.putManifest(repository.at(tag), image.manifest);
}

try {
  const host = registry.host;

  // 1. Pushing 20 tiny images: client vs bare fetch.
  const pushClient: number[] = [];
  const pushRaw: number[] = [];
  for (let run = 0; run < 5; run++) {
    const set = images(20, `raw${run}`);
    let t = performance.now();
    for (const [i, image] of set.entries()) await rawPush(host, `bench/raw${run}`, image, `t${i}`);
    pushRaw.push(performance.now() - t);
    const client = new RegistryClient();
    const repository = parseRepository(`${host}/bench/client${run}`);
    const other = images(20, `client${run}`);
    t = performance.now();
    for (const [i, image] of other.entries()) await clientPush(client, repository, image, `t${i}`);
    pushClient.push(performance.now() - t);
  }
  results.push(ratioResult('push.20tinyImages', 'ms', median(pushClient), median(pushRaw), 1.5));

  // 2. Streaming a 32 MiB blob back, digest-verified, vs bare fetch + sha256.
  const big = randomBytes(32 * 2 ** 20);
  const bigDigest = digestOf(big);
  const blobRepo = parseRepository(`${host}/bench/blob`);
  const uploadStart = performance.now();
  await new RegistryClient().uploadBlob(blobRepo, big, { chunkSize: 8 * 2 ** 20 });
  const chunkedUploadMs = performance.now() - uploadStart;
  const pullClient: number[] = [];
  const pullRaw: number[] = [];
  for (let run = 0; run < 5; run++) {
    let t = performance.now();
    const response = await fetch(`http://${host}/v2/bench/blob/blobs/${bigDigest}`);
    const hash = createHash('sha256');
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) hash.update(chunk);
    if (`sha256:${hash.digest('hex')}` !== bigDigest) throw new Error('raw pull: wrong content');
    pullRaw.push(performance.now() - t);
    t = performance.now();
    const blob = await new RegistryClient().openBlob(blobRepo, bigDigest);
    let size = 0;
    for await (const chunk of blob?.stream ?? []) size += chunk.byteLength;
    if (size !== big.length) throw new Error('client pull: wrong size');
    pullClient.push(performance.now() - t);
  }
  results.push(ratioResult('pull.blob32MiB.stream', 'ms', median(pullClient), median(pullRaw), 1.3));
  results.push({ name: 'upload.blob32MiB.chunked8MiB', value: round(chunkedUploadMs), unit: 'ms', baseline: null, ratio: null, target: null, pass: null });

  // 3. Request economy: 200 stage lookups over 4 repositories in one build.
  const lookupClient = new RegistryClient();
  const repos = ['a', 'b', 'c', 'd'].map((name) => parseRepository(`${host}/bench/economy-${name}`));
  const cache = new TagListCache(lookupClient);
  for (let i = 0; i < 200; i++) await cache.listTags(repos[i % repos.length] as Repository);
  const listed = lookupClient.stats.byOperation.listTags ?? 0;
  results.push({ name: 'tagListings.200lookups.4repos', value: listed, unit: 'requests', baseline: 200, ratio: round(listed / 200, 3), target: 0.02, pass: listed / 200 <= 0.02 });

  // 4. Pushing and verifying 20 images through a proxy failing 10% of requests.
  const proxy = await startFaultProxy(host, { failureRate: 0.1, seed: 42 });
  try {
    const clean = new RegistryClient();
    const faulty = new RegistryClient({ retry: { attempts: 8, baseDelayMs: 1, maxDelayMs: 10 } });
    const cleanRepo = parseRepository(`${host}/bench/clean`);
    const faultyRepo = parseRepository(`${proxy.host}/bench/faulty`);
    const cleanSet = images(20, 'clean');
    const faultySet = images(20, 'faulty');
    for (const [i, image] of cleanSet.entries()) await clientPush(clean, cleanRepo, image, `t${i}`);
    for (const [i, image] of faultySet.entries()) await clientPush(faulty, faultyRepo, image, `t${i}`);
    for (const [i, image] of faultySet.entries()) {
      const manifest = await faulty.getManifest(faultyRepo.at(`t${i}`));
      if (manifest.digest !== image.manifest.digest) throw new Error('fault run: wrong manifest');
    }
    const faults = Object.values(proxy.stats.faults).reduce((a, b) => a + b, 0);
    console.log(`fault run: ${faults} faults injected in ${proxy.stats.requests} proxied requests; client retries ${faulty.stats.retries}`);
    const faultyPushRequests = faulty.stats.total - (faulty.stats.byOperation.getManifest ?? 0);
    results.push(ratioResult('push.20images.10pctFaults.requests', 'requests', faultyPushRequests, clean.stats.total, 1.6));
  } finally {
    await proxy.close();
  }

  // 5. Listing 1,000 tags in shuffled pages of 10 (100 pages) vs one unpaged listing.
  const pagedProxy = await startFaultProxy(host, { tagPageSize: 10, seed: 5 });
  try {
    const tagRepo = parseRepository(`${host}/bench/tags`);
    const client = new RegistryClient();
    const image = tinyImage({ files: { tags: 'tags' } });
    await clientPush(client, tagRepo, image, 't0');
    await Promise.all(
      Array.from({ length: 8 }, async (_, worker) => {
        for (let i = worker; i < 1000; i += 8) await client.putManifest(tagRepo.at(`tag-${String(i).padStart(4, '0')}`), image.manifest);
      }),
    );
    const direct: number[] = [];
    const paged: number[] = [];
    for (let run = 0; run < 3; run++) {
      let t = performance.now();
      const all = await new RegistryClient().listTags(tagRepo);
      direct.push(performance.now() - t);
      t = performance.now();
      const viaPages = await new RegistryClient().listTags(parseRepository(`${pagedProxy.host}/bench/tags`));
      paged.push(performance.now() - t);
      if (viaPages.join() !== all.join() || all.length !== 1001) throw new Error('paged listing differs');
    }
    results.push(ratioResult('listTags.1001tags.pagesOf10', 'ms', median(paged), median(direct), null));
  } finally {
    await pagedProxy.close();
  }
} finally {
  await registry.stop();
}

// 6. No-op builds over repositories holding 10,000 and 50,000 tags (the shared registry of
//    scripts/services.sh, where the filled repositories persist across runs). Warm: the store's
//    record cache is a FileStageRecordCache that an earlier build filled (what every build after the
//    first on a machine sees); cold: an empty in-memory one (a first build, or a new machine).
const shared = await probeRegistry(`http://${SHARED_REGISTRY}`);
if (!shared.available) throw new Error(`bench:registry needs the registry of scripts/services.sh: ${shared.reason}`);
const recordCacheDirs = new Map<number, string>();
for (const count of [10_000, 50_000]) {
  const repository = noiseRepository(count);
  const fill = await fillNoise(repository, count);
  console.log(`noise ${count}: ${fill.added} tags added in ${round(fill.ms / 1000)} s`);
  // The filling build: stores every stage of the project among the noise (a no-op when already there).
  const filling = await buildOnce(repository);
  console.log(`noise ${count}: filling build ${filling.built} of ${filling.stages} stages built`);
  const cacheDir = mkdtempSync(path.join(tmpdir(), 'strata-bench-registry-records-'));
  recordCacheDirs.set(count, cacheDir);
  const recordCache = new FileStageRecordCache(cacheDir);
  // The warming build: a cold no-op build that fills the file cache.
  const warming = await buildOnce(repository, { executor: noopExecutor(), recordCache });
  if (warming.built > 0) throw new Error(`the warming no-op build built ${warming.built} stages`);
  console.log(`noise ${count}: ${warming.finds} record finds of ${warming.foundIds} stage ids per build`);
  const raw: number[] = [];
  const storeListing: number[] = [];
  const clientListing: number[] = [];
  const warmLookup: number[] = [];
  const coldLookup: number[] = [];
  const warm: BuildMeasure[] = [];
  const cold: BuildMeasure[] = [];
  for (let run = 0; run < 5; run++) {
    let t = performance.now();
    const listed = await rawListTags(repository);
    raw.push(performance.now() - t);
    if (listed.length < count) throw new Error(`${repository.toString()} holds ${listed.length} tags, fewer than ${count}`);
    // A fresh store's listing of every stage id (client listing + parsing all tags into ids): what
    // `explain` asks for; a build's lookups ask per digest (a prefix of the sorted listing), measured
    // below as `lookup`, the issue's measure.
    // Clients of the no-op measures send as the strata CLI wires them (node:http transport).
    const listingClient = new RegistryClient({ transport: nodeHttpTransport });
    const store = new RegistryStageStore(repository, { client: listingClient, tagCache: new TagListCache(listingClient), project: BENCH_PROJECT });
    t = performance.now();
    await store.listStageIds(undefined);
    storeListing.push(performance.now() - t);
    // The client's listing alone (all pages, de-duplicated, sorted), to tell client from store costs.
    t = performance.now();
    await new RegistryClient({ transport: nodeHttpTransport }).listTags(repository);
    clientListing.push(performance.now() - t);
    const warmBuild = await buildOnce(repository, { executor: noopExecutor(), recordCache });
    const coldBuild = await buildOnce(repository, { executor: noopExecutor(), recordCache: new MemoryStageRecordCache() });
    for (const build of [warmBuild, coldBuild]) if (build.built > 0) throw new Error(`the no-op build built ${build.built} stages`);
    warm.push(warmBuild);
    cold.push(coldBuild);
    // The build's lookups replayed on a fresh store: the store's own cost, engine work excluded.
    const warmReplay = await replayLookups(repository, warmBuild.lookups, recordCache);
    if (warmReplay.requests !== 1) throw new Error(`the warm replay made ${JSON.stringify(warmReplay.byOperation)}`);
    warmLookup.push(warmReplay.ms);
    coldLookup.push((await replayLookups(repository, coldBuild.lookups, new MemoryStageRecordCache())).ms);
  }
  const last = warm.at(-1) as BuildMeasure;
  const lastCold = cold.at(-1) as BuildMeasure;
  const requestCounts = (build: BuildMeasure) => {
    const listings = build.byOperation.listTags ?? 0;
    return { listings, perStage: build.requests - listings };
  };
  const warmCounts = requestCounts(last);
  const coldCounts = requestCounts(lastCold);
  console.log(`noise ${count}: warm no-op build requests ${JSON.stringify(last.byOperation)}, cold ${JSON.stringify(lastCold.byOperation)}, over ${last.stages} stages`);
  results.push({ name: `noop.${count}tags.listings`, value: last.listings, unit: 'listings', baseline: null, ratio: null, target: 1, pass: last.listings <= 1 });
  results.push({ name: `noop.${count}tags.listRequests`, value: warmCounts.listings, unit: 'requests', baseline: null, ratio: null, target: null, pass: null });
  results.push({ name: `noop.${count}tags.perStageRequests`, value: warmCounts.perStage, unit: 'requests', baseline: null, ratio: null, target: 0, pass: warmCounts.perStage === 0 });
  results.push({ name: `noop.${count}tags.cold.perStageRequests`, value: coldCounts.perStage, unit: 'requests', baseline: null, ratio: null, target: null, pass: null });
  // The store's listing alone vs the floor; then the lookups of a no-op build replayed on a fresh
  // store (listing + every listStageIds / findStage the build made, one after the other).
  results.push(ratioResult(`noop.${count}tags.clientListing`, 'ms', median(clientListing), median(raw), null));
  // Information: every id parsed (~0.5-1 µs a tag: 25-60 ms at 50,000), which no build's lookup does.
  results.push(ratioResult(`noop.${count}tags.storeListing`, 'ms', median(storeListing), median(raw), null));
  results.push(ratioResult(`noop.${count}tags.lookup`, 'ms', median(warmLookup), median(raw), 1.5));
  results.push(ratioResult(`noop.${count}tags.cold.lookup`, 'ms', median(coldLookup), median(raw), null));
  // Within the builds: wall time with a store call running (the engine's work meanwhile included),
  // the registry's span (first request to last answer), and the whole build.
  results.push(ratioResult(`noop.${count}tags.storeBusy`, 'ms', median(warm.map((b) => b.storeMs)), median(raw), null));
  results.push(ratioResult(`noop.${count}tags.registrySpan`, 'ms', median(warm.map((b) => b.registryMs)), median(raw), null));
  results.push(ratioResult(`noop.${count}tags.build`, 'ms', median(warm.map((b) => b.ms)), median(raw), null));
  results.push(ratioResult(`noop.${count}tags.cold.build`, 'ms', median(cold.map((b) => b.ms)), median(raw), null));
}

// 7. Four no-op builders of one project at once (four OS processes) vs one, against the 10,000-tag
//    repository, each with the warm record cache: wall time including process start, and the
//    slowest in-process build time. The builder (noop-builder.ts) is bundled and started as the
//    bundled strata CLI ships (`pnpm bundle`): one minified CommonJS program loaded by a launcher with
//    a V8 code cache (packages/cli/src/launcher/compile-cache.ts), whose first, untimed run writes the
//    cache, as bench:docker does. The code cache lives in the bench's temp dir.
const bundleDir = mkdtempSync(path.join(tmpdir(), 'strata-bench-registry-builder-'));
const builderProgram = await bundleStrata({ entry: path.join(import.meta.dirname, 'noop-builder.ts'), outfile: path.join(bundleDir, 'noop-builder-main.cjs'), defer: false });
const builderLauncher = await bundleLauncher(path.join(bundleDir, 'noop-builder.cjs'), builderProgram);
// As in bench:docker, the builder processes run without NODE_EXTRA_CA_CERTS (set on this machine to the
// whole system CA bundle, which Node parses at every start: ~65 ms of CPU before any code of ours runs).
const { NODE_EXTRA_CA_CERTS: _extraCaCerts, ...builderBaseEnv } = process.env;
const builderEnv: NodeJS.ProcessEnv = { ...builderBaseEnv, STRATA_CACHE_DIR: path.join(bundleDir, 'cache') };
const builderArgs = [builderLauncher, '10000', recordCacheDirs.get(10_000) ?? ''];
await execFileAsync(process.execPath, builderArgs, { env: builderEnv });
const runBuilders = async (n: number): Promise<{ wallMs: number; buildMs: number; cpuMs: number }> => {
  const t = performance.now();
  const outputs = await Promise.all(Array.from({ length: n }, () => execFileAsync(process.execPath, builderArgs, { env: builderEnv })));
  const wallMs = performance.now() - t;
  const builds = outputs.map((out) => JSON.parse(out.stdout.trim().split('\n').at(-1) ?? '{}') as { ms: number; built: number; cpuMs: number });
  if (builds.some((b) => b.built !== 0)) throw new Error('a concurrent no-op builder built stages');
  return { wallMs, buildMs: Math.max(...builds.map((b) => b.ms)), cpuMs: builds.reduce((sum, b) => sum + b.cpuMs, 0) };
};
// The machine's floor for the same shape: n empty Node processes (`node -e 0`) at once. Node's own
// start-up is CPU-bound, so on 2 cores four of them already take about twice as long as one; no
// builder process can do better than this ratio.
const runEmptyNodes = async (n: number): Promise<number> => {
  const t = performance.now();
  await Promise.all(Array.from({ length: n }, () => execFileAsync(process.execPath, ['-e', '0'], { env: builderEnv })));
  return performance.now() - t;
};
const one: { wallMs: number; buildMs: number; cpuMs: number }[] = [];
const four: { wallMs: number; buildMs: number; cpuMs: number }[] = [];
const emptyOne: number[] = [];
const emptyFour: number[] = [];
for (let run = 0; run < 3; run++) {
  one.push(await runBuilders(1));
  four.push(await runBuilders(4));
  emptyOne.push(await runEmptyNodes(1));
  emptyFour.push(await runEmptyNodes(4));
}
results.push(ratioResult('builders.4vs1.wall', 'ms', median(four.map((r) => r.wallMs)), median(one.map((r) => r.wallMs)), 1.5));
results.push(ratioResult('builders.4vs1.floorEmptyNode', 'ms', median(emptyFour), median(emptyOne), null));
results.push(ratioResult('builders.4vs1.slowestBuild', 'ms', median(four.map((r) => r.buildMs)), median(one.map((r) => r.buildMs)), null));
// CPU of the builder processes (start-up included) against the wall time of one: with 2 cores, four
// builders whose CPU time nears their wall time cannot finish within 1.5x of one.
results.push({ name: 'builders.1.cpu', value: round(median(one.map((r) => r.cpuMs))), unit: 'ms', baseline: null, ratio: null, target: null, pass: null });
results.push({ name: 'builders.4.cpuTotal', value: round(median(four.map((r) => r.cpuMs))), unit: 'ms', baseline: null, ratio: null, target: null, pass: null });
rmSync(bundleDir, { recursive: true, force: true });
for (const dir of recordCacheDirs.values()) rmSync(dir, { recursive: true, force: true });
results.push({ name: 'machine.cpus', value: availableParallelism(), unit: 'cpus', baseline: null, ratio: null, target: null, pass: null });

for (const r of results) console.log(`${r.name}: ${r.value} ${r.unit}${r.baseline === null ? '' : ` (baseline ${r.baseline}, ratio ${r.ratio})`}${r.pass === null ? '' : r.pass ? ' pass' : ' FAIL'}`);
console.log(JSON.stringify({ bench: 'registry', results }));
