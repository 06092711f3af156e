import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it('runs Docker credential helpers (credHelpers, then inline auths, then credsStore)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'strata-helpers-'));
    dirs.push(dir);
    const calls = path.join(dir, 'calls.log');
    writeFileSync(
      path.join(dir, 'docker-credential-fake'),
      [
        '#!/bin/sh',
        'read server',
        `echo "$server" >> '${calls}'`,
        'case "$server" in',
        '  gcr.io) echo \'{"ServerURL":"gcr.io","Username":"_json_key","Secret":"helper-secret"}\' ;;',
        '  https://index.docker.io/v1/) echo \'{"Username":"<token>","Secret":"refresh-from-helper"}\' ;;',
        '  broken.example.io) echo "oops helper-output-secret" >&2; exit 3 ;;',
        '  *) echo "credentials not found in native keychain"; exit 1 ;;',
        'esac',
        '',
      ].join('\n'),
      { mode: 0o755 },
    );
    const store = new DockerConfigCredentialStore({
      path: configFile({ credsStore: 'fake', credHelpers: { 'gcr.io': 'fake', 'missing.example.io': 'nonexistent' }, auths: { 'inline.example.io': { auth: b64('u:p') } } }),
      env: { PATH: `${dir}:/usr/bin:/bin` },
    });
    expect(await store.findCredentials('gcr.io')).toEqual({ kind: 'basic', username: '_json_key', password: 'helper-secret' });
    expect(await store.findCredentials('gcr.io')).toEqual({ kind: 'basic', username: '_json_key', password: 'helper-secret' });
    expect(await store.findCredentials('docker.io')).toEqual({ kind: 'identity-token', identityToken: 'refresh-from-helper' });
    expect(await store.findCredentials('inline.example.io')).toEqual({ kind: 'basic', username: 'u', password: 'p' });
    expect(await store.findCredentials('anonymous.example.io')).toBeUndefined();

    const broken = await store.findCredentials('broken.example.io').catch((e: unknown) => e);
    expect(broken).toMatchObject({ code: 'REGISTRY_CREDENTIAL_HELPER_FAILED', data: { helper: 'fake' } });
    expect((broken as Error).message).toContain('exit code 3');
    expect(`${(broken as Error).message} ${JSON.stringify((broken as RegistryError).data)}`).not.toContain('helper-output-secret');
    await expect(store.findCredentials('missing.example.io')).rejects.toMatchObject({ code: 'REGISTRY_CREDENTIAL_HELPER_FAILED', message: expect.stringContaining('not found on PATH') as unknown });

    // One helper run per host: answers are cached, failures are not.
    await store.findCredentials('broken.example.io').catch(() => undefined);
    expect(readFileSync(calls, 'utf8').trim().split('\n')).toEqual(['gcr.io', 'https://index.docker.io/v1/', 'anonymous.example.io', 'broken.example.io', 'broken.example.io']);
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
