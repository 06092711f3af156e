/**
 * One no-op build in its own OS process, for the concurrent-builders measure of `pnpm bench:registry`:
 * `noop-builder-main.ts <noise-count> [record-cache-dir]` (or the bundled program's launcher, see
 * run.ts) builds the bench project against the noise repository (every stage already there; stage
 * records from a `FileStageRecordCache` in the directory when given, else read from the registry) and
 * prints one JSON line `{ ms, built, requests, cpuMs }` (`cpuMs`: user + system CPU of the whole
 * process, start-up included); exits 1 when anything was built.
 */
import { FileStageRecordCache } from '../../packages/registry/src/stage-store.js';
import { buildOnce, noiseRepository, noopExecutor } from './noop.js';

/** The program: what the launcher of the bundled builder calls (arguments from `process.argv`). */
export async function run(): Promise<void> {
  const count = Number(process.argv[2]);
  if (!Number.isInteger(count) || count <= 0) throw new Error('usage: noop-builder <noise-count> [record-cache-dir]');
  const cacheDir = process.argv[3];
  const measure = await buildOnce(noiseRepository(count), {
    executor: noopExecutor(),
    // The process is the measure: no per-request timing wrapped around the client's transport.
    timeRegistry: false,
    ...(cacheDir === undefined || cacheDir === '' ? {} : { recordCache: new FileStageRecordCache(cacheDir) }),
  });
  const cpu = process.cpuUsage();
  process.stdout.write(`${JSON.stringify({ ms: measure.ms, built: measure.built, requests: measure.requests, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
  if (measure.built > 0) process.exitCode = 1;
}
