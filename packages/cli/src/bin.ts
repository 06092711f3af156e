#!/usr/bin/env node
import { main } from './main.js';

const controller = new AbortController();
let interrupted = false;
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    process.stderr.write(`strata: ${signal} received, stopping (again to force)\n`);
    controller.abort(new Error(`interrupted by ${signal}`));
  });
}

const exitCode = await main(process.argv.slice(2), {
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  cwd: process.cwd(),
  env: process.env,
  signal: controller.signal,
  isTTY: process.stdout.isTTY === true,
});
process.exitCode = exitCode;
