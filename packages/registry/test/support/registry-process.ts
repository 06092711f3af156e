/**
 * Test kit: a real Distribution v2 registry (Debian's `docker-registry`) started on a free loopback
 * port with a generated config in a temp dir. Tests that need it call {@link requireRegistryBinary}:
 * it skips with a reason locally and fails under CI=true when the binary is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync, createWriteStream, readFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TestContext } from 'vitest';

const CANDIDATES = ['/usr/bin/docker-registry', '/usr/local/bin/docker-registry', '/usr/bin/registry'];
const INSTALL_HINT = 'install it with `apt-get install docker-registry` (or `bash scripts/services.sh start`)';

export function findRegistryBinary(): string | undefined {
  const fromPath = (process.env.PATH ?? '').split(':').filter(Boolean).map((dir) => path.join(dir, 'docker-registry'));
  for (const candidate of [...CANDIDATES, ...fromPath]) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // try the next one
    }
  }
  return undefined;
}

/** The registry binary, or a skip (locally) / failure (CI=true) naming what is missing. */
export function requireRegistryBinary(ctx: Pick<TestContext, 'skip'>): string {
  const binary = findRegistryBinary();
  if (binary === undefined) {
    const reason = `needs the docker-registry binary (${INSTALL_HINT})`;
    if (process.env.CI === 'true') throw new Error(`CI=true and ${reason}`);
    ctx.skip(reason);
  }
  return binary;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

export type RegistryAuthConfig =
  | { htpasswd: { realm: string; path: string } }
  | { token: { realm: string; service: string; issuer: string; rootcertbundle: string } };

export interface RegistryProcess {
  /** `127.0.0.1:<port>` */
  readonly host: string;
  readonly dir: string;
  readonly logPath: string;
  stop(): Promise<void>;
}

/** Starts a registry and waits until `/v2/` answers. Deletes are enabled. */
export async function startRegistry(binary: string, options: { auth?: RegistryAuthConfig } = {}): Promise<RegistryProcess> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-registry-'));
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const config: Record<string, unknown> = {
    version: 0.1,
    log: { level: 'info', formatter: 'text', accesslog: { disabled: true } },
    storage: {
      filesystem: { rootdirectory: path.join(dir, 'data') },
      delete: { enabled: true },
      maintenance: { uploadpurging: { enabled: false } },
    },
    http: { addr: host, secret: 'strata-test-upload-secret' },
    health: { storagedriver: { enabled: false } },
  };
  if (options.auth !== undefined) config.auth = options.auth;
  const configPath = path.join(dir, 'config.yml');
  // JSON is valid YAML.
  writeFileSync(configPath, JSON.stringify(config, null, 2));
  const logPath = path.join(dir, 'registry.log');
  const log = createWriteStream(logPath);
  const child: ChildProcess = spawn(binary, ['serve', configPath], { cwd: dir, env: { PATH: process.env.PATH ?? '/usr/bin:/bin' }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout?.pipe(log);
  child.stderr?.pipe(log);
  let exited = false;
  child.once('exit', () => {
    exited = true;
  });
  const stop = async () => {
    if (!exited) {
      const done = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await done;
    }
    log.end();
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (exited) {
      const text = readFileSync(logPath, 'utf8');
      await stop();
      throw new Error(`docker-registry exited during start-up:\n${text.slice(-2000)}`);
    }
    try {
      const response = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
      await response.body?.cancel();
      break;
    } catch {
      if (Date.now() > deadline) {
        await stop();
        throw new Error(`docker-registry did not answer on ${host} within 20 s`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  return { host, dir, logPath, stop };
}
