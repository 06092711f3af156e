import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DockerConfigCredentialStore, MemoryCredentialStore, RegistryError, dockerConfigPath } from '@strata/registry';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function configFile(content: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-creds-'));
  dirs.push(dir);
  const file = path.join(dir, 'config.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('dockerConfigPath', () => {
  it('uses DOCKER_CONFIG, else ~/.docker', () => {
    expect(dockerConfigPath({ DOCKER_CONFIG: '/etc/dock' })).toBe('/etc/dock/config.json');
    expect(dockerConfigPath({})).toBe(path.join(homedir(), '.docker', 'config.json'));
  });
});

describe('DockerConfigCredentialStore', () => {
  it('decodes auth entries keyed by host or URL, and docker.io aliases', async () => {
    const store = new DockerConfigCredentialStore({
      path: configFile({
        auths: {
          '127.0.0.1:5000': { auth: b64('alice:p:w') },
          'http://localhost:5055/v2/': { auth: b64('bob:pw') },
          'https://index.docker.io/v1/': { auth: b64('hub:hubpw') },
          'registry.example.io': { username: 'carol', password: 'cpw' },
          'token.example.io': { auth: b64('ignored:x'), identitytoken: 'refresh' },
        },
      }),
    });
    expect(await store.findCredentials('127.0.0.1:5000')).toEqual({ kind: 'basic', username: 'alice', password: 'p:w' });
    expect(await store.findCredentials('localhost:5055')).toEqual({ kind: 'basic', username: 'bob', password: 'pw' });
    expect(await store.findCredentials('docker.io')).toEqual({ kind: 'basic', username: 'hub', password: 'hubpw' });
    expect(await store.findCredentials('registry.example.io')).toEqual({ kind: 'basic', username: 'carol', password: 'cpw' });
    expect(await store.findCredentials('token.example.io')).toEqual({ kind: 'identity-token', identityToken: 'refresh' });
    expect(await store.findCredentials('unknown:1')).toBeUndefined();
  });

  it('treats a missing file as no credentials and reads DOCKER_CONFIG from the given env', async () => {
    const store = new DockerConfigCredentialStore({ env: { DOCKER_CONFIG: path.join(tmpdir(), 'strata-no-such-dir') } });
    expect(store.path).toBe(path.join(tmpdir(), 'strata-no-such-dir', 'config.json'));
    expect(await store.findCredentials('127.0.0.1:5000')).toBeUndefined();
  });

  it('declines credential helpers with a typed error', async () => {
    const store = new DockerConfigCredentialStore({
      path: configFile({ credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud' }, auths: { 'login.example.io': {}, 'inline.example.io': { auth: b64('u:p') } } }),
    });
    await expect(store.findCredentials('gcr.io')).rejects.toMatchObject({ code: 'REGISTRY_CREDENTIAL_HELPER_UNSUPPORTED', data: { helper: 'gcloud' } });
    await expect(store.findCredentials('login.example.io')).rejects.toMatchObject({ code: 'REGISTRY_CREDENTIAL_HELPER_UNSUPPORTED', data: { helper: 'desktop' } });
    expect(await store.findCredentials('inline.example.io')).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    expect(await store.findCredentials('anonymous.example.io')).toBeUndefined();
  });

  it('reports malformed files without quoting their content', async () => {
    const secret = 'super-secret-value';
    const broken = new DockerConfigCredentialStore({ path: configFile(`{"auths": {"x": {"auth": "${secret}"`) });
    const error = await broken.findCredentials('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('REGISTRY_CREDENTIALS_INVALID');
    expect(`${(error as Error).message} ${JSON.stringify((error as RegistryError).data)} ${String((error as Error).cause)}`).not.toContain(secret);

    const badAuth = new DockerConfigCredentialStore({ path: configFile({ auths: { x: { auth: b64('no-colon') } } }) });
    await expect(badAuth.findCredentials('x')).rejects.toMatchObject({ code: 'REGISTRY_CREDENTIALS_INVALID' });
  });
});

describe('MemoryCredentialStore', () => {
  it('returns what it was given', async () => {
    const store = new MemoryCredentialStore({ 'a:1': { kind: 'basic', username: 'u', password: 'p' } });
    expect(await store.findCredentials('a:1')).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    expect(await store.findCredentials('b:1')).toBeUndefined();
  });
});
