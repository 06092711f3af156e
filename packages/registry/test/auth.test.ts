/**
 * Authentication against real registries started by the test: Distribution's token auth with a
 * token service written here, and htpasswd basic auth. Secrets must never reach an error or a log.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DockerConfigCredentialStore,
  MemoryCredentialStore,
  RegistryClient,
  RegistryError,
  parseRepository,
  type RegistryLogger,
} from '@strata/registry';
import { tinyImage } from './support/images.js';
import { findRegistryBinary, requireRegistryBinary, startRegistry, type RegistryProcess } from './support/registry-process.js';
import { startTokenServer, type TokenServer } from './support/token-server.js';

const USER = 'builder';
const PASSWORD = 'pa55-W0rd-do-not-leak';
const REFRESH_TOKEN = 'refresh-token-do-not-leak';

let tokenRegistry: RegistryProcess | undefined;
let tokenServer: TokenServer | undefined;
let basicRegistry: RegistryProcess | undefined;
let tempDir: string | undefined;

beforeAll(async () => {
  const binary = findRegistryBinary();
  if (binary === undefined) return;
  tempDir = mkdtempSync(path.join(tmpdir(), 'strata-auth-'));
  tokenServer = await startTokenServer({ users: { [USER]: PASSWORD }, refreshTokens: { [REFRESH_TOKEN]: USER }, publicRepositories: ['public/app'] });
  tokenRegistry = await startRegistry(binary, {
    auth: { token: { realm: tokenServer.realm, service: tokenServer.service, issuer: tokenServer.issuer, rootcertbundle: tokenServer.certPath } },
  });
  const htpasswd = path.join(tempDir, 'htpasswd');
  writeFileSync(htpasswd, `${USER}:${bcrypt.hashSync(PASSWORD, 5)}\n`);
  basicRegistry = await startRegistry(binary, { auth: { htpasswd: { realm: 'strata-basic', path: htpasswd } } });
});

afterAll(async () => {
  await tokenRegistry?.stop();
  await basicRegistry?.stop();
  await tokenServer?.close();
  if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
});

function setup(ctx: Parameters<typeof requireRegistryBinary>[0]): { token: string; basic: string; server: TokenServer } {
  requireRegistryBinary(ctx);
  if (tokenRegistry === undefined || basicRegistry === undefined || tokenServer === undefined) throw new Error('registries did not start');
  return { token: tokenRegistry.host, basic: basicRegistry.host, server: tokenServer };
}

/** A logger that keeps every line, to check that no secret is ever logged. */
function capture(): { logger: RegistryLogger; text: () => string } {
  const lines: string[] = [];
  const record = (level: string) => (message: string, data?: Record<string, unknown>) => lines.push(`${level} ${message} ${JSON.stringify(data ?? {})}`);
  return { logger: { debug: record('debug'), warn: record('warn') }, text: () => lines.join('\n') };
}

function expectNoSecrets(text: string, server: TokenServer): void {
  for (const secret of [PASSWORD, REFRESH_TOKEN, Buffer.from(`${USER}:${PASSWORD}`).toString('base64'), ...server.issued]) {
    expect(text).not.toContain(secret);
  }
}

function errorText(error: unknown): string {
  if (!(error instanceof RegistryError)) return String(error);
  let text = `${error.message} ${error.hint ?? ''} ${JSON.stringify(error.data)} ${error.stack ?? ''}`;
  for (let cause = error.cause; cause instanceof Error; cause = cause.cause) text += ` ${cause.message}`;
  return text;
}

describe('bearer token auth', () => {
  it('pushes and pulls with credentials, fetching one token per scope', async (ctx) => {
    const { token, server } = setup(ctx);
    const log = capture();
    const client = new RegistryClient({ credentials: new MemoryCredentialStore({ [token]: { kind: 'basic', username: USER, password: PASSWORD } }), logger: log.logger });
    expect(await client.ping(token)).toEqual({ authentication: 'bearer' });
    const repository = parseRepository(`${token}/team/app`);
    const image = tinyImage({ labels: { werf: 'auth' } });
    await client.uploadBlob(repository, image.layer.bytes);
    await client.uploadBlob(repository, image.config.bytes);
    await client.putManifest(repository.at('v1'), image.manifest);
    await client.putManifest(repository.at('v2'), image.manifest);
    expect(await client.listTags(repository)).toEqual(['v1', 'v2']);
    expect((await client.getManifest(repository.at('v1'))).digest).toBe(image.manifest.digest);
    expect(await client.deleteManifest(repository, image.manifest.digest)).toBe(true);

    // One token per distinct scope set (pull; pull,push; delete), not one per request.
    const granted = server.requests.filter((r) => r.user === USER && r.status === 200);
    expect(granted.length).toBeGreaterThan(0);
    expect(granted.length).toBeLessThanOrEqual(4);
    expect(client.stats.byOperation.token).toBe(granted.length);
    expect(log.text()).toContain('registry token requested');
    expectNoSecrets(log.text(), server);
  });

  it('reuses a token until it expires by the injected clock, then fetches a new one', async (ctx) => {
    const { token, server } = setup(ctx);
    let now = Date.now();
    const client = new RegistryClient({ now: () => now, credentials: new MemoryCredentialStore({ [token]: { kind: 'basic', username: USER, password: PASSWORD } }) });
    const repository = parseRepository(`${token}/team/expiry`);
    await client.listTags(repository);
    await client.listTags(repository);
    expect(client.stats.byOperation.token).toBe(1);
    now += 10 * 60 * 1000; // the service grants 300 s
    await client.listTags(repository);
    expect(client.stats.byOperation.token).toBe(2);
    expect(server.requests.filter((r) => r.scopes.includes('repository:team/expiry:pull'))).toHaveLength(2);
  });

  it('reads credentials from Docker config.json and exchanges an identity token', async (ctx) => {
    const { token, server } = setup(ctx);
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-docker-config-'));
    try {
      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [token]: { auth: Buffer.from(`${USER}:${PASSWORD}`).toString('base64') } } }));
      const fromAuth = new RegistryClient({ credentials: new DockerConfigCredentialStore({ env: { DOCKER_CONFIG: dir } }) });
      const repository = parseRepository(`${token}/team/config-json`);
      const image = tinyImage({ files: { 'c.txt': 'config.json' } });
      expect(await fromAuth.uploadBlob(repository, image.layer.bytes)).toMatchObject({ status: 'uploaded' });

      writeFileSync(path.join(dir, 'config.json'), JSON.stringify({ auths: { [`http://${token}/v2/`]: { identitytoken: REFRESH_TOKEN } } }));
      const fromIdentity = new RegistryClient({ credentials: new DockerConfigCredentialStore({ path: path.join(dir, 'config.json') }) });
      expect(await fromIdentity.headBlob(repository, image.layer.digest)).toMatchObject({ size: image.layer.size });
      expect(server.requests.some((r) => r.method === 'POST' && r.user === USER && r.status === 200)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('allows anonymous pulls where the token service grants them and fails pushes as unauthorized', async (ctx) => {
    const { token, server } = setup(ctx);
    const writer = new RegistryClient({ credentials: new MemoryCredentialStore({ [token]: { kind: 'basic', username: USER, password: PASSWORD } }) });
    const repository = parseRepository(`${token}/public/app`);
    const image = tinyImage({ files: { 'p.txt': 'public' } });
    await writer.uploadBlob(repository, image.layer.bytes);

    const anonymous = new RegistryClient();
    expect(await anonymous.headBlob(repository, image.layer.digest)).toMatchObject({ size: image.layer.size });
    const error = await anonymous.uploadBlob(repository, image.config.bytes).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expect((error as RegistryError).data).toMatchObject({ method: 'POST', status: 401 });
    const privateError = await anonymous.listTags(parseRepository(`${token}/team/app`)).catch((e: unknown) => e);
    expect(privateError).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expectNoSecrets(errorText(error) + errorText(privateError), server);
  });

  it('reports wrong credentials without revealing them', async (ctx) => {
    const { token, server } = setup(ctx);
    const log = capture();
    const wrong = 'wrong-secret-do-not-leak';
    const client = new RegistryClient({ credentials: new MemoryCredentialStore({ [token]: { kind: 'basic', username: USER, password: wrong } }), logger: log.logger });
    const error = await client.listTags(parseRepository(`${token}/team/app`)).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    const text = errorText(error) + log.text();
    expect(text).not.toContain(wrong);
    expect(text).not.toContain(Buffer.from(`${USER}:${wrong}`).toString('base64'));
    expectNoSecrets(text, server);
  });
});

describe('basic auth (htpasswd)', () => {
  it('pushes and pulls with credentials and sends them up front after the first challenge', async (ctx) => {
    const { basic, server } = setup(ctx);
    const log = capture();
    const client = new RegistryClient({ credentials: new MemoryCredentialStore({ [basic]: { kind: 'basic', username: USER, password: PASSWORD } }), logger: log.logger });
    expect(await client.ping(basic)).toEqual({ authentication: 'basic' });
    const repository = parseRepository(`${basic}/team/basic`);
    const image = tinyImage({ files: { 'b.txt': 'basic' } });
    const before = client.stats.total;
    await client.uploadBlob(repository, image.layer.bytes);
    // HEAD, POST, PUT: no 401 round trips once the scheme is known.
    expect(client.stats.total - before).toBe(3);
    await client.uploadBlob(repository, image.config.bytes);
    await client.putManifest(repository.at('latest'), image.manifest);
    expect(await client.listTags(repository)).toEqual(['latest']);
    expectNoSecrets(log.text(), server);
  });

  it('fails without credentials or with wrong ones, never echoing them', async (ctx) => {
    const { basic, server } = setup(ctx);
    const repository = parseRepository(`${basic}/team/basic`);
    const anonymous = await new RegistryClient().listTags(repository).catch((e: unknown) => e);
    expect(anonymous).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    const wrong = 'another-wrong-secret';
    const client = new RegistryClient({ credentials: new MemoryCredentialStore({ [basic]: { kind: 'basic', username: USER, password: wrong } }) });
    const error = await client.listTags(repository).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'REGISTRY_UNAUTHORIZED' });
    expect(errorText(error)).not.toContain(wrong);
    expect(errorText(error)).not.toContain(Buffer.from(`${USER}:${wrong}`).toString('base64'));
    expectNoSecrets(errorText(error), server);
  });
});
