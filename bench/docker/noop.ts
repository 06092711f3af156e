/**
 * A Strata build in a process of its own (what a user's command pays: process start and module
 * loading included). `node … bench/docker/noop.ts <project dir>`, or the bundled forms of
 * bench/docker/bundle.ts; prints one JSON line with the build's own time, the time from process start
 * to the build's start (`startupMs`: node start and module loading) and the stage counts.
 */
import { performance } from 'node:perf_hooks';
import { strataBuild } from './strata.js';

/** Builds the project named by the first argument; the launcher of a bundled program calls this. */
export async function run(): Promise<void> {
  // performance.now() counts from the process start.
  const startupMs = performance.now();
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: noop <project dir>');
  const result = await strataBuild(dir);
  console.log(JSON.stringify({ ...result, startupMs }));
}
