import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, getConfig, hostPlatformOf, loadConfig } from '@strata/config';

const VALID = 'project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: alpine\n';

describe('loadConfig', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-config-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads werf.yaml from the project directory', async () => {
    await writeFile(join(dir, 'werf.yaml'), VALID);
    const result = await loadConfig(dir);
    expect(result.ok).toBe(true);
    if (result.ok) {
      expect(result.config.file).toBe(join(dir, 'werf.yaml'));
      expect(result.config.images.map((i) => i.name)).toEqual(['app']);
    }
  });

  it('falls back to werf.yml, and prefers werf.yaml when both exist', async () => {
    await writeFile(join(dir, 'werf.yml'), VALID.replace('app', 'from-yml'));
    const yml = await loadConfig(dir);
    expect(yml.ok && yml.config.images[0]?.name).toBe('from-yml');
    await writeFile(join(dir, 'werf.yaml'), VALID);
    const yaml = await loadConfig(dir);
    expect(yaml.ok && yaml.config.images[0]?.name).toBe('app');
  });

  it('reads an explicit config path relative to the project directory', async () => {
    await mkdir(join(dir, 'ci'));
    await writeFile(join(dir, 'ci', 'werf-ci.yaml'), VALID);
    const result = await loadConfig(dir, { configPath: 'ci/werf-ci.yaml' });
    expect(result.ok && result.config.file).toBe(join(dir, 'ci', 'werf-ci.yaml'));
  });

  it('reports CONFIG_NOT_FOUND naming the paths tried', async () => {
    const result = await loadConfig(dir);
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.problems).toHaveLength(1);
      expect(result.problems[0]).toMatchObject({ code: 'CONFIG_NOT_FOUND', line: 1, column: 1 });
      expect(result.problems[0]?.message).toContain(join(dir, 'werf.yaml'));
      expect(result.problems[0]?.message).toContain(join(dir, 'werf.yml'));
    }
    const explicit = await loadConfig(dir, { configPath: 'nope.yaml' });
    expect(!explicit.ok && explicit.problems[0]?.message).toContain(join(dir, 'nope.yaml'));
  });

  it('reports CONFIG_READ_FAILED when the config cannot be read', async () => {
    await mkdir(join(dir, 'werf.yaml'));
    const result = await loadConfig(dir);
    expect(!result.ok && result.problems).toMatchObject([{ code: 'CONFIG_READ_FAILED', file: join(dir, 'werf.yaml'), line: 1, column: 1 }]);
  });

  it('reports problems with the file path and passes options through', async () => {
    await writeFile(join(dir, 'werf.yaml'), 'project: demo\nconfigVersion: 1\n---\nimage: a\ndockerfile: Dockerfile\ncontextAddFiles: [x.env]\n');
    const denied = await loadConfig(dir);
    expect(!denied.ok && denied.problems[0]).toMatchObject({ code: 'CONTEXT_ADD_FILES_FORBIDDEN', file: join(dir, 'werf.yaml'), line: 6, column: 1 });
    const allowed = await loadConfig(dir, { allowContextAddFiles: true });
    expect(allowed.ok).toBe(true);
  });

  it('rejects with the abort reason when aborted', async () => {
    await writeFile(join(dir, 'werf.yaml'), VALID);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(loadConfig(dir, { signal: controller.signal })).rejects.toThrow('stop');
  });

  it('getConfig returns the config or throws ConfigError with every problem', async () => {
    await writeFile(join(dir, 'werf.yaml'), VALID);
    expect((await getConfig(dir)).config.project).toBe('demo');
    await writeFile(join(dir, 'werf.yaml'), 'project: Bad\nconfigVersion: 2\n');
    const error = await getConfig(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    expect((error as ConfigError).data?.problems.map((p) => p.code)).toEqual(['INVALID_PROJECT_NAME', 'INVALID_CONFIG_VERSION']);
    expect((error as ConfigError).message).toContain('werf.yaml:1:10: INVALID_PROJECT_NAME');
  });

  it('maps Node architectures to OCI platforms', () => {
    expect(hostPlatformOf('x64')).toBe('linux/amd64');
    expect(hostPlatformOf('arm64')).toBe('linux/arm64');
  });
});
