import { describe, expect, it } from 'vitest';
import {
  dockerInstructionsConfig,
  imageSpecConfig,
  isUnsetCommand,
  parseHealthcheck,
  restoredConfig,
  type BaseImageConfig,
} from '../src/index.js';
import { exposedPorts, parseGoDuration } from '../src/image-config.js';
import type { DockerInstructions, ImageSpec } from '../src/image-config.js';

const labels = { werf: 'demo' };

function instructions(partial: Partial<DockerInstructions> = {}): DockerInstructions {
  return { volume: [], expose: [], env: {}, label: {}, ...partial };
}

function spec(config: Partial<ImageSpec['config']> = {}, extra: Partial<ImageSpec> = {}): ImageSpec {
  return {
    clearHistory: false,
    ...extra,
    config: {
      env: {},
      labels: {},
      removeLabels: [],
      removeEnv: [],
      removeVolumes: [],
      expose: [],
      volumes: [],
      clearCmd: false,
      clearEntrypoint: false,
      clearWerfLabels: false,
      removeWerfLabels: false,
      keepEssentialWerfLabels: false,
      ...config,
    },
  };
}

describe('SPEC §4.3 CMD/ENTRYPOINT restoration', () => {
  it('treats null, [], [""] and "" as no command', () => {
    expect(isUnsetCommand(null)).toBe(true);
    expect(isUnsetCommand(undefined)).toBe(true);
    expect(isUnsetCommand([])).toBe(true);
    expect(isUnsetCommand([''])).toBe(true);
    expect(isUnsetCommand('')).toBe(true);
    expect(isUnsetCommand(['/bin/sh'])).toBe(false);
    expect(isUnsetCommand(['', 'x'])).toBe(false);
  });

  it('gives the base values back, or [""] / [] when the base has none', () => {
    expect(restoredConfig({ Cmd: ['/bin/sh'], Entrypoint: null }, labels)).toMatchObject({ Cmd: ['/bin/sh'], Entrypoint: [''] });
    expect(restoredConfig({ Cmd: null, Entrypoint: ['/init'] }, labels)).toMatchObject({ Cmd: [], Entrypoint: ['/init'] });
    expect(restoredConfig({}, labels)).toMatchObject({ Cmd: [], Entrypoint: [''], WorkingDir: undefined, User: undefined });
    expect(restoredConfig({ WorkingDir: '/app', User: 'app' }, labels)).toMatchObject({ WorkingDir: '/app', User: 'app' });
    expect(restoredConfig({}, labels).Labels).toEqual(labels);
  });

  it('docker.CMD resets the base ENTRYPOINT', () => {
    const base: BaseImageConfig = { Entrypoint: ['/entry'], Cmd: ['old'] };
    expect(dockerInstructionsConfig(base, instructions({ cmd: ['run', 'me'] }), labels)).toMatchObject({
      Cmd: ['run', 'me'],
      Entrypoint: [''],
    });
    expect(dockerInstructionsConfig(base, instructions({ cmd: 'echo hi' }), labels)).toMatchObject({
      Cmd: ['/bin/sh', '-c', 'echo hi'],
      Entrypoint: [''],
    });
  });

  it('docker.CMD with docker.ENTRYPOINT sets both', () => {
    expect(dockerInstructionsConfig({ Entrypoint: ['/entry'] }, instructions({ cmd: ['a'], entrypoint: ['/e2'] }), labels)).toMatchObject({
      Cmd: ['a'],
      Entrypoint: ['/e2'],
    });
  });

  it('docker.ENTRYPOINT alone resets the base CMD (Docker rule)', () => {
    expect(dockerInstructionsConfig({ Cmd: ['/bin/sh'] }, instructions({ entrypoint: 'exec /app' }), labels)).toMatchObject({
      Entrypoint: ['/bin/sh', '-c', 'exec /app'],
      Cmd: [],
    });
  });

  it('without CMD/ENTRYPOINT directives the base values come back', () => {
    expect(dockerInstructionsConfig({ Cmd: ['x'], Entrypoint: ['/e'] }, instructions({ env: { A: '1' } }), labels)).toMatchObject({
      Cmd: ['x'],
      Entrypoint: ['/e'],
      Env: ['A=1'],
    });
  });

  it('maps the other directives; stage labels win over docker.LABEL', () => {
    const config = dockerInstructionsConfig(
      { WorkingDir: '/srv', Shell: ['/bin/bash', '-c'] },
      instructions({
        volume: ['/data'],
        expose: ['80', '53/udp', '9000-9001'],
        label: { werf: 'user-value', 'org.example': 'x' },
        workdir: 'app',
        user: '1000:1000',
        healthcheck: '--interval=5s --retries=2 CMD ["/bin/true"]',
        cmd: 'serve',
      }),
      labels,
    );
    expect(config.Volumes).toEqual({ '/data': {} });
    expect(config.ExposedPorts).toEqual({ '80/tcp': {}, '53/udp': {}, '9000/tcp': {}, '9001/tcp': {} });
    expect(config.Labels).toEqual({ werf: 'demo', 'org.example': 'x' });
    expect(config.WorkingDir).toBe('/srv/app');
    expect(config.User).toBe('1000:1000');
    expect(config.Healthcheck).toEqual({ Test: ['CMD', '/bin/true'], Interval: 5e9, Retries: 2 });
    expect(config.Cmd).toEqual(['/bin/bash', '-c', 'serve']);
  });
});

describe('HEALTHCHECK and ports', () => {
  it('parses shell, exec and NONE forms with options', () => {
    expect(parseHealthcheck('NONE')).toEqual({ Test: ['NONE'] });
    expect(parseHealthcheck('CMD curl -f http://localhost/ || exit 1')).toEqual({ Test: ['CMD-SHELL', 'curl -f http://localhost/ || exit 1'] });
    expect(parseHealthcheck('--timeout=1m30s --start-period=500ms CMD ["a", "b"]')).toEqual({
      Test: ['CMD', 'a', 'b'],
      Timeout: 90e9,
      StartPeriod: 500e6,
    });
  });

  it('rejects malformed healthchecks and ports with a typed error', () => {
    expect(() => parseHealthcheck('--interval=soon CMD x')).toThrow(expect.objectContaining({ code: 'DOCKER_INVALID_INSTRUCTION' }));
    expect(() => parseHealthcheck('--bogus=1s CMD x')).toThrow(expect.objectContaining({ code: 'DOCKER_INVALID_INSTRUCTION' }));
    expect(() => parseHealthcheck('curl x')).toThrow(expect.objectContaining({ code: 'DOCKER_INVALID_INSTRUCTION' }));
    expect(() => exposedPorts(['http'])).toThrow(expect.objectContaining({ code: 'DOCKER_INVALID_INSTRUCTION' }));
    expect(() => exposedPorts(['90-80'])).toThrow(expect.objectContaining({ code: 'DOCKER_INVALID_INSTRUCTION' }));
  });

  it('reads Go durations', () => {
    expect(parseGoDuration('1h2m3s')).toBe(3723e9);
    expect(parseGoDuration('0')).toBe(0);
    expect(parseGoDuration('1.5s')).toBe(1.5e9);
    expect(parseGoDuration('5')).toBeUndefined();
    expect(parseGoDuration('5s x')).toBeUndefined();
  });
});

describe('imageSpec', () => {
  it('sets values exactly and clears CMD/ENTRYPOINT on request', () => {
    const config = imageSpecConfig(
      { Cmd: ['/bin/sh'], Entrypoint: ['/e'] },
      spec({ env: { A: 'x=y' }, labels: { l: 'v' }, cmd: ['run'], clearEntrypoint: true, stopSignal: 'SIGINT', healthcheck: { test: ['CMD', 'true'], interval: 3 } }),
      labels,
    );
    expect(config).toMatchObject({
      Cmd: ['run'],
      Entrypoint: [''],
      Env: ['A=x=y'],
      Labels: { l: 'v', werf: 'demo' },
      StopSignal: 'SIGINT',
      Healthcheck: { Test: ['CMD', 'true'], Interval: 3e9 },
    });
  });

  it('refuses removals the engine cannot express', () => {
    expect(() => imageSpecConfig({}, spec({ removeEnv: ['A'] }), labels)).toThrow(
      expect.objectContaining({ code: 'DOCKER_UNSUPPORTED', message: expect.stringContaining('config.removeEnv') as unknown }),
    );
    expect(() => imageSpecConfig({}, spec({}, { clearHistory: true }), labels)).toThrow(expect.objectContaining({ code: 'DOCKER_UNSUPPORTED' }));
  });
});

describe('labels inherited from a werf-built base', () => {
  it('blanks the parent stage id and head commit the stage does not set itself', () => {
    const base: BaseImageConfig = { Labels: { 'werf.io/parent-stage-id': 'x-1', 'werf-project-repo-commit': 'c', other: 'kept by the engine' } };
    expect(restoredConfig(base, { werf: 'demo' }).Labels).toEqual({ werf: 'demo', 'werf.io/parent-stage-id': '', 'werf-project-repo-commit': '' });
    expect(restoredConfig(base, { werf: 'demo', 'werf.io/parent-stage-id': 'p-2' }).Labels).toMatchObject({ 'werf.io/parent-stage-id': 'p-2' });
    expect(restoredConfig({}, { werf: 'demo' }).Labels).toEqual({ werf: 'demo' });
  });
});
