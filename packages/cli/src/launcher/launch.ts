/**
 * The entry of a bundled program (`dist/strata.cjs` for the CLI, see scripts/bundle.ts): loads the
 * program bundle with the V8 code cache of ./compile-cache.ts, calls its exported `run()`, then writes
 * the cache when it had none. Each command (the first argument, when it is a word) has its own cache.
 * `STRATA_COMPILE_CACHE=off` disables the cache.
 */
import { defaultCompileCacheDir, loadWithCompileCache } from './compile-cache.js';

/** What a program bundle exports. */
interface BundledProgram {
  run(): Promise<unknown>;
}

export async function launch(programFile: string): Promise<void> {
  const dir = process.env.STRATA_COMPILE_CACHE === 'off' ? undefined : defaultCompileCacheDir();
  // One cache per command (`strata build`, `strata plan`, …): the first argument when it names one.
  const first = process.argv[2] ?? '';
  const variant = /^[a-z][a-z-]{0,30}$/.test(first) ? first : 'main';
  const loaded = loadWithCompileCache(programFile, { dir, variant });
  const program = loaded.exports as Partial<BundledProgram>;
  if (typeof program.run !== 'function') throw new Error(`${programFile} exports no run() function`);
  await program.run();
  loaded.save();
}
