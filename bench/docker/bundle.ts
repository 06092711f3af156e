/**
 * bench/docker/noop.ts as a fresh process runs it, bundled by the CLI's own bundler
 * (packages/cli/scripts/bundle.ts: one minified file, dockerode's ssh and BuildKit modules deferred):
 *
 * - {@link bundleNoopLaunched}: a CommonJS program plus the launcher that loads it with the V8 code
 *   cache, exactly as the bundled `strata` CLI ships (`pnpm bundle`);
 * - {@link bundleNoop}: one ES module (`node noop.mjs`), no code cache; `defer: false` bundles the
 *   deferred modules too.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleLauncher, bundleStrata, deferredModules } from '../../packages/cli/scripts/bundle.js';

const here = path.dirname(fileURLToPath(import.meta.url));

export { deferredModules };

export interface BundleOptions {
  /** Bundle the ssh and BuildKit modules as lazy forwarders. @default true */
  defer?: boolean | undefined;
  /** The ES module program to bundle. @default bench/docker/noop-main.ts */
  entry?: string | undefined;
}

/** One ES module (`node <outfile> …`), no code cache. */
export async function bundleNoop(outfile: string, options: BundleOptions = {}): Promise<string> {
  return bundleStrata({ entry: options.entry ?? path.join(here, 'noop-main.ts'), outfile, format: 'esm', defer: options.defer });
}

/** Writes `noop-main.cjs` and its launcher `noop.cjs` into `dir`; returns the launcher's path. */
export async function bundleNoopLaunched(dir: string): Promise<string> {
  const program = await bundleStrata({ entry: path.join(here, 'noop.ts'), outfile: path.join(dir, 'noop-main.cjs') });
  return bundleLauncher(path.join(dir, 'noop.cjs'), program);
}
