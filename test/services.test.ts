/**
 * Smoke tests of the real services started by `bash scripts/services.sh start`: each skips with a
 * reason when its service is missing locally and fails under CI=true (see test/support/services.ts).
 * The docker CLI is used on purpose: these check the machine, not Strata's Docker adapter.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  BASE_IMAGE,
  REGISTRY,
  REGISTRY_URL,
  dockerSocketPath,
  httpRequest,
  redisCommand,
  requireServices,
  runCommand,
} from './support/services.js';

const unique = () => `${Date.now()}-${randomBytes(4).toString('hex')}`;
const docker = (...args: string[]) => runCommand('docker', args, { timeoutMs: 60_000 });

/** Manifest media types a Distribution registry may hold for an image pushed by dockerd. */
const MANIFEST_ACCEPT = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.index.v1+json',
].join(', ');

describe('docker engine', () => {
  it('answers _ping and reports its version', async (ctx) => {
    await requireServices(ctx, 'docker');
    const ping = await httpRequest('http://docker/_ping', { socketPath: dockerSocketPath() });
    expect(ping.status).toBe(200);
    expect(ping.body).toBe('OK');
    const { stdout } = await docker('version', '--format', '{{.Server.Version}} {{.Server.APIVersion}}');
    expect(stdout.trim()).toMatch(/^\d+\.\d+\.\d+\S* 1\.\d+$/);
  });

  it(`runs ${BASE_IMAGE} with no network, and removes the container`, async (ctx) => {
    await requireServices(ctx, 'docker');
    const name = `strata-smoke-${unique()}`;
    const marker = unique();
    try {
      const { stdout } = await docker(
        'run', '--rm', '--name', name, '--network', 'none', BASE_IMAGE,
        'sh', '-c', `ls /sys/class/net && echo --- && true && echo ${marker} > /tmp/x && cp /tmp/x /tmp/y && ls /tmp/y && cat /tmp/y && id -un`,
      );
      const [interfaces = '', rest = ''] = stdout.split('---\n');
      expect(interfaces.split(/\s+/).filter(Boolean)).toEqual(['lo']);
      expect(rest.trim().split('\n')).toEqual(['/tmp/y', marker, 'root']);
      const { stdout: left } = await docker('ps', '-a', '--filter', `name=^${name}$`, '--format', '{{.ID}}');
      expect(left.trim()).toBe('');
    } finally {
      await docker('rm', '-f', name).catch(() => undefined);
    }
  });
});

describe('registry', () => {
  it('accepts a push, lists the tag, serves and deletes the manifest', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry');
    const tag = unique();
    const repo = 'strata-smoke';
    const ref = `${REGISTRY}/${repo}:${tag}`;
    const container = `strata-smoke-commit-${tag}`;
    try {
      // A label unique to this run gives the image its own manifest digest, so deleting it below
      // cannot remove a tag pushed by a concurrent run.
      await docker('create', '--name', container, '--network', 'none', BASE_IMAGE, 'true');
      await docker('commit', '--change', `LABEL org.strata.smoke=${tag}`, container, ref);
      await docker('push', ref);

      const tags = await httpRequest(`${REGISTRY_URL}/v2/${repo}/tags/list`, { timeoutMs: 5000 });
      expect(tags.status).toBe(200);
      expect((JSON.parse(tags.body) as { tags: string[] }).tags).toContain(tag);

      const manifestUrl = `${REGISTRY_URL}/v2/${repo}/manifests/${tag}`;
      const head = await httpRequest(manifestUrl, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT }, timeoutMs: 5000 });
      expect(head.status).toBe(200);
      const digest = head.headers['docker-content-digest'];
      expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);

      const deleted = await httpRequest(`${REGISTRY_URL}/v2/${repo}/manifests/${String(digest)}`, { method: 'DELETE', timeoutMs: 5000 });
      expect(deleted.status).toBe(202);
      const gone = await httpRequest(manifestUrl, { method: 'HEAD', headers: { Accept: MANIFEST_ACCEPT }, timeoutMs: 5000 });
      expect(gone.status).toBe(404);
    } finally {
      await docker('rm', '-f', container).catch(() => undefined);
      await docker('rmi', ref).catch(() => undefined);
    }
  });
});

describe('redis', () => {
  it('answers PING and echoes', async (ctx) => {
    await requireServices(ctx, 'redis');
    expect(await redisCommand(['PING'])).toBe('+PONG');
    const word = `strata-${unique()}`;
    expect(await redisCommand(['ECHO', word])).toBe(word);
  });
});

describe('go toolchain', () => {
  it('runs `go version` and has sprig in /usr/share/gocode', async (ctx) => {
    await requireServices(ctx, 'go');
    const { stdout } = await runCommand('go', ['version'], { timeoutMs: 10_000 });
    expect(stdout).toMatch(/^go version go1\.\d+/);
  });
});
