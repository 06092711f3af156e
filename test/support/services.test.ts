/**
 * The service test support itself: the CI-vs-local decision (pure) and each probe against a fake
 * peer made here on loopback or a unix socket, so these run without the real services.
 */
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type RequestListener, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BASE_IMAGE,
  DEFAULT_DOCKER_SOCKET,
  START_COMMAND,
  decideServices,
  dockerSocketPath,
  probeDocker,
  probeGo,
  probeRedis,
  probeRegistry,
  redisCommand,
  requireServices,
  type Availability,
} from './services.js';

const up: Availability = { available: true };
const down = (reason: string): Availability => ({ available: false, reason });

describe('decideServices', () => {
  it('runs when every service is available, in CI or not', () => {
    expect(decideServices({}, [['docker', up], ['registry', up]])).toEqual({ action: 'run' });
    expect(decideServices({ CI: 'true' }, [['redis', up]])).toEqual({ action: 'run' });
    expect(decideServices({ CI: 'true' }, [])).toEqual({ action: 'run' });
  });

  it('skips locally with a reason naming only the missing services and the start command', () => {
    const decision = decideServices({}, [
      ['docker', up],
      ['registry', down('registry not answering at http://127.0.0.1:5000 (ECONNREFUSED)')],
      ['redis', down('redis not answering')],
    ]);
    expect(decision.action).toBe('skip');
    const reason = decision.action === 'skip' ? decision.reason : '';
    expect(reason).toMatch(/^needs registry, redis — /);
    expect(reason).toContain('registry: registry not answering at http://127.0.0.1:5000 (ECONNREFUSED)');
    expect(reason).toContain('redis: redis not answering');
    expect(reason).toContain(START_COMMAND);
    expect(reason).not.toMatch(/docker/);
  });

  it('fails under CI=true instead of skipping', () => {
    const decision = decideServices({ CI: 'true' }, [['docker', down('engine not answering')]]);
    expect(decision.action).toBe('fail');
    const message = decision.action === 'fail' ? decision.message : '';
    expect(message).toContain('CI=true');
    expect(message).toContain('docker: engine not answering');
    expect(message).toContain(START_COMMAND);
  });

  it('treats any other CI value as a local run', () => {
    for (const CI of ['false', '1', 'TRUE', '', undefined]) {
      expect(decideServices({ CI }, [['go', down('no go')]]).action).toBe('skip');
    }
  });
});

describe('requireServices', () => {
  it('returns without skipping when nothing is needed', async () => {
    const calls: unknown[] = [];
    await requireServices({ skip: ((note?: unknown) => calls.push(note)) as never });
    expect(calls).toEqual([]);
  });
});

describe('dockerSocketPath', () => {
  it('uses DOCKER_HOST when it is a unix socket, else the default socket', () => {
    expect(dockerSocketPath({})).toBe(DEFAULT_DOCKER_SOCKET);
    expect(dockerSocketPath({ DOCKER_HOST: '' })).toBe(DEFAULT_DOCKER_SOCKET);
    expect(dockerSocketPath({ DOCKER_HOST: 'unix:///run/other.sock' })).toBe('/run/other.sock');
    expect(dockerSocketPath({ DOCKER_HOST: 'tcp://127.0.0.1:2375' })).toBeUndefined();
  });
});

// Fake peers, closed after each test.
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-services-test-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function listen<S extends HttpServer | TcpServer>(server: S, where: string | number): Promise<S> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (typeof where === 'string') server.listen(where, resolve);
    else server.listen(where, '127.0.0.1', resolve);
  });
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        if ('closeAllConnections' in server) server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return server;
}

function portOf(server: HttpServer | TcpServer): number {
  return (server.address() as AddressInfo).port;
}

/** A TCP peer that answers every chunk it receives with `reply` (or stays silent when undefined). */
async function fakeRedis(reply: string | undefined): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('data', () => {
      if (reply !== undefined) socket.write(reply);
    });
    socket.on('error', () => undefined);
  });
  cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
  return portOf(await listen(server, 0));
}

/** A port that was just free: a listener is opened and closed again. */
async function closedPort(): Promise<number> {
  const server = createTcpServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = portOf(server);
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('probeRedis and redisCommand', () => {
  it('is available when the peer answers +PONG', async () => {
    expect(await probeRedis('127.0.0.1', await fakeRedis('+PONG\r\n'))).toEqual({ available: true });
  });

  it('reports an unexpected reply', async () => {
    const state = await probeRedis('127.0.0.1', await fakeRedis('-NOAUTH Authentication required.\r\n'));
    expect(state.available).toBe(false);
    expect(state.available ? '' : state.reason).toContain('-NOAUTH');
  });

  it('reports a refused connection', async () => {
    const port = await closedPort();
    const state = await probeRedis('127.0.0.1', port);
    expect(state.available ? '' : state.reason).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}.*ECONNREFUSED`));
  });

  it('gives up on a silent peer within the timeout', async () => {
    const started = Date.now();
    const state = await probeRedis('127.0.0.1', await fakeRedis(undefined), 200);
    expect(state.available ? '' : state.reason).toContain('within 200 ms');
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('reads a bulk string reply split across packets', async () => {
    const sockets = new Set<Socket>();
    const server = createTcpServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => {
        socket.write('$11\r\nhello');
        setTimeout(() => socket.write(' world\r\n'), 20);
      });
    });
    cleanups.push(() => sockets.forEach((socket) => socket.destroy()));
    const port = portOf(await listen(server, 0));
    expect(await redisCommand(['ECHO', 'hello world'], { port })).toBe('hello world');
  });
});

function httpServer(handler: RequestListener): HttpServer {
  return createHttpServer(handler);
}

describe('probeRegistry', () => {
  it('is available when GET /v2/ answers 200', async () => {
    const seen: string[] = [];
    const server = await listen(
      httpServer((req, res) => {
        seen.push(`${req.method} ${req.url}`);
        res.end('{}');
      }),
      0,
    );
    expect(await probeRegistry(`http://127.0.0.1:${portOf(server)}`)).toEqual({ available: true });
    expect(seen).toEqual(['GET /v2/']);
  });

  it('reports a registry that wants auth', async () => {
    const server = await listen(
      httpServer((_req, res) => {
        res.statusCode = 401;
        res.end();
      }),
      0,
    );
    const state = await probeRegistry(`http://127.0.0.1:${portOf(server)}`);
    expect(state.available ? '' : state.reason).toContain('with 401');
  });
});

describe('probeDocker', () => {
  function fakeEngine(hasImage: boolean): RequestListener {
    return (req, res) => {
      if (req.url === '/_ping') return void res.end('OK');
      if (req.url === `/images/${BASE_IMAGE}/json`) {
        res.statusCode = hasImage ? 200 : 404;
        return void res.end('{}');
      }
      res.statusCode = 500;
      res.end();
    };
  }

  it('is available when the engine answers and the base image exists', async () => {
    const socket = path.join(tempDir(), 'docker.sock');
    await listen(httpServer(fakeEngine(true)), socket);
    expect(await probeDocker(socket)).toEqual({ available: true });
  });

  it('reports a missing base image', async () => {
    const socket = path.join(tempDir(), 'docker.sock');
    await listen(httpServer(fakeEngine(false)), socket);
    const state = await probeDocker(socket);
    expect(state.available ? '' : state.reason).toContain(`base image ${BASE_IMAGE} is missing`);
  });

  it('reports a missing socket and a non-unix DOCKER_HOST', async () => {
    const socket = path.join(tempDir(), 'absent.sock');
    const state = await probeDocker(socket);
    expect(state.available ? '' : state.reason).toContain(`engine not answering at unix://${socket}`);
    expect(state.available ? '' : state.reason).toContain('ENOENT');
    expect((await probeDocker(undefined)).available).toBe(false);
  });
});

describe('probeGo', () => {
  it('reports sprig missing from the given GOPATH directory (or go itself missing)', async () => {
    const state = await probeGo(tempDir());
    expect(state.available).toBe(false);
    expect(state.available ? '' : state.reason).toMatch(/sprig not found|go version/);
  });

  it('finds sprig by directory name', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'sprig'));
    const state = await probeGo(dir, 5000);
    // Whether `go` exists depends on the machine; sprig must not be what is reported missing.
    expect(state.available ? '' : state.reason).not.toContain('sprig not found');
  });
});
