import { describe, expect, it } from 'vitest';
import type { BuiltStage, Executor } from '@strata/core';
import { dockerClient } from '../src/wiring/compose.js';
import { SettlingExecutor } from '../src/wiring/settling-executor.js';

describe('dockerClient', () => {
  it('talks to the engine DOCKER_HOST names in the given environment, else the default socket', () => {
    const modem = (env: Record<string, string>) => (dockerClient(env) as unknown as { modem: { socketPath?: string; host?: string; port?: number } }).modem;
    expect(modem({}).socketPath).toBe('/var/run/docker.sock');
    expect(modem({ DOCKER_HOST: 'unix:///run/user/1000/docker.sock' }).socketPath).toBe('/run/user/1000/docker.sock');
    expect(modem({ DOCKER_HOST: 'tcp://127.0.0.1:2376' })).toMatchObject({ host: '127.0.0.1', port: 2376 });
  });
});

describe('SettlingExecutor', () => {
  it('waits for running calls to settle, failed ones included, and no longer than the timeout', async () => {
    const releases: (() => void)[] = [];
    const inner: Executor = {
      buildStage: () => new Promise<BuiltStage>((_resolve, reject) => releases.push(() => reject(new Error('aborted')))),
      importChecksum: () => new Promise<string>((resolve) => releases.push(() => resolve('sum'))),
    };
    const executor = new SettlingExecutor(inner);
    const build = executor.buildStage({} as never).catch((error: unknown) => error);
    const checksum = executor.importChecksum({} as never);
    expect(executor.running).toBe(2);

    const started = Date.now();
    await executor.settled(50); // nothing settles: the timeout ends the wait
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(executor.running).toBe(2);

    let settled = false;
    const waiting = executor.settled(10_000).then(() => (settled = true));
    releases[0]?.();
    await build;
    await Promise.resolve();
    expect(settled).toBe(false); // one call still runs
    releases[1]?.();
    expect(await checksum).toBe('sum');
    await waiting;
    expect(settled).toBe(true);
    expect(executor.running).toBe(0);
  });
});
