/**
 * `strata` as a process: the process streams, signals (first SIGINT/SIGTERM aborts the command, the
 * second exits at once with 130) and the exit code. Shared by `src/bin.ts` (sources, through tsx) and
 * the bundled CLI (`dist/strata.cjs`, see scripts/bundle.ts).
 */
import { main } from '../main.js';

/** Runs `strata <argv>` in this process and sets `process.exitCode`; resolves with it. */
export async function runProcess(argv: readonly string[] = process.argv.slice(2)): Promise<number> {
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
  const exitCode = await main([...argv], {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    cwd: process.cwd(),
    env: process.env,
    signal: controller.signal,
    isTTY: process.stdout.isTTY === true,
  });
  process.exitCode = exitCode;
  return exitCode;
}

/** The bundled CLI's entry point (the launcher calls `run()`): `strata` with this process's arguments. */
export const run = (): Promise<number> => runProcess();
