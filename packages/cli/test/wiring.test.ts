import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it, vi } from 'vitest';
import { parseConfig } from '@strata/config';
import type { BuiltStage, Executor } from '@strata/core';
import { compose, dockerClient } from '../src/wiring/compose.js';
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

describe('compose', () => {
  it('cancels the primary store\'s prefetch when composing fails, so no listing outlives the command', async () => {
    // A registry that accepts connections and never answers: an uncancelled listing would wait for the
    // client's per-attempt timeout (a minute), retrying.
    const sockets: Socket[] = [];
    let closed = 0;
    const server = createServer((socket) => {
      sockets.push(socket);
      socket.on('close', () => (closed += 1));
      socket.resume(); // read (and drop) the request, so the client's close is seen
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-compose-'));
    try {
      const port = (server.address() as AddressInfo).port;
      const parsed = parseConfig('project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: alpine:3.18\n', { path: 'werf.yaml' });
      if (!parsed.ok) throw new Error('config');
      await expect(
        compose({
          project: { dir, config: parsed.config },
          storage: { repo: `127.0.0.1:${port}/demo`, secondaryRepos: [], cacheRepos: [], finalRepo: undefined },
          env: {},
        }),
      ).rejects.toMatchObject({ code: 'GIT_NOT_A_REPOSITORY' });
      await vi.waitFor(() => expect(sockets.length).toBeGreaterThan(0), { timeout: 5_000 });
      await vi.waitFor(() => expect(closed).toBe(sockets.length), { timeout: 5_000 });
    } finally {
      for (const socket of sockets) socket.destroy();
      server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
