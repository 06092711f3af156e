import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import type { LockHandle, StageLock } from '@strata/core';
import { expect } from 'vitest';

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const FIXTURE = fileURLToPath(new URL('../fixtures/holder.ts', import.meta.url));

export interface Holder {
  readonly child: ChildProcess;
  readonly token: number;
  /** Everything the child printed so far. */
  output(): string;
}

/** Starts `fixtures/holder.ts` with `args` and resolves once it holds the lock. */
export async function startHolder(args: readonly string[]): Promise<Holder> {
  const child = spawn(process.execPath, ['--conditions=@strata/source', '--import', 'tsx', FIXTURE, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  const token = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`holder did not become ready in 30 s: ${stderr}`)), 30_000);
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString('utf8');
      const ready = /READY (\d+)/.exec(stdout);
      if (ready) {
        clearTimeout(timer);
        resolve(Number(ready[1]));
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`holder exited with ${code}: ${stderr}`));
    });
  });
  return { child, token, output: () => stdout };
}

export const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The `kill -9` scenario: while `holder` is alive and renewing, `lock` must not get `key` for three
 * leases; once the holder is killed, it must get it within `leaseMs + marginMs`, with a larger token.
 */
export async function expectKillFreesLock(
  holder: Holder,
  lock: StageLock,
  key: string,
  options: { ttlMs: number; leaseMs: number; marginMs: number },
): Promise<LockHandle> {
  let acquiredAt: number | undefined;
  const waiting = lock.acquire(key, { ttlMs: options.ttlMs }).then((handle) => {
    acquiredAt = Date.now();
    return handle;
  });
  try {
    await delay(options.leaseMs * 3);
    expect(acquiredAt, 'the lock was taken while its holder was alive and renewing').toBeUndefined();
    expect(holder.output()).not.toContain('LOST');
    const killedAt = Date.now();
    const exited = once(holder.child, 'exit');
    holder.child.kill('SIGKILL');
    await exited;
    const handle = await waiting;
    const waited = (acquiredAt ?? Infinity) - killedAt;
    expect(waited).toBeGreaterThanOrEqual(0);
    expect(waited, `took ${waited} ms after kill -9`).toBeLessThanOrEqual(options.leaseMs + options.marginMs);
    expect(handle.isValid()).toBe(true);
    expect(handle.token).toBeGreaterThan(holder.token);
    return handle;
  } finally {
    if (holder.child.exitCode === null && holder.child.signalCode === null) holder.child.kill('SIGKILL');
  }
}

const CONTENDER = fileURLToPath(new URL('../fixtures/contender.ts', import.meta.url));

/** Runs `processes` copies of `fixtures/contender.ts` with `args` and resolves when all exited with 0. */
export async function runContenders(processes: number, args: readonly string[]): Promise<void> {
  await Promise.all(
    Array.from({ length: processes }, async () => {
      const child = spawn(process.execPath, ['--conditions=@strata/source', '--import', 'tsx', CONTENDER, ...args], {
        cwd: ROOT,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
      const [code] = (await once(child, 'exit')) as [number | null];
      if (code !== 0) throw new Error(`contender exited with ${code}: ${stderr}`);
    }),
  );
}

/**
 * Checks a contenders' log: critical sections never overlap (every `enter` is followed by the `exit` of
 * the same process and token), there are `expected` of them, and fencing tokens strictly increase.
 */
export function expectNoOverlap(log: string, expected: number): void {
  const lines = log.trim().split('\n');
  expect(lines).toHaveLength(expected * 2);
  let previous = 0;
  for (let index = 0; index < lines.length; index += 2) {
    const enter = lines[index]?.split(' ');
    const exit = lines[index + 1]?.split(' ');
    expect(enter?.[0]).toBe('enter');
    expect(exit).toEqual(['exit', enter?.[1], enter?.[2]]);
    const token = Number(enter?.[2]);
    expect(token).toBeGreaterThan(previous);
    previous = token;
  }
}
