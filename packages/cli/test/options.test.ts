import { describe, expect, it } from 'vitest';
import { main } from '@strata/cli';
import { UsageError } from '../src/command.js';
import { resolveBuildOptions, resolveStorageOptions } from '../src/options.js';

const REPO = '127.0.0.1:5000/app';

describe('option and environment resolution', () => {
  it('defaults: local storage, :local locks, 5 images at once, no report', () => {
    expect(resolveBuildOptions({}, {})).toEqual({
      repo: undefined,
      secondaryRepos: [],
      cacheRepos: [],
      finalRepo: undefined,
      synchronization: ':local',
      parallelTasksLimit: 5,
      reportPath: undefined,
    });
  });

  it('a flag wins over STRATA_*, which wins over WERF_*', () => {
    const env = { STRATA_REPO: '127.0.0.1:5000/strata', WERF_REPO: '127.0.0.1:5000/werf' };
    expect(resolveBuildOptions({ repo: '127.0.0.1:5000/flag' }, env).repo).toBe('127.0.0.1:5000/flag');
    expect(resolveBuildOptions({}, env).repo).toBe('127.0.0.1:5000/strata');
    expect(resolveBuildOptions({}, { WERF_REPO: '127.0.0.1:5000/werf' }).repo).toBe('127.0.0.1:5000/werf');
    // An empty variable counts as unset.
    expect(resolveBuildOptions({}, { STRATA_REPO: '', WERF_REPO: '127.0.0.1:5000/werf' }).repo).toBe('127.0.0.1:5000/werf');

    const limits = { STRATA_PARALLEL_TASKS_LIMIT: '3', WERF_PARALLEL_TASKS_LIMIT: '7' };
    expect(resolveBuildOptions({ 'parallel-tasks-limit': '0' }, limits).parallelTasksLimit).toBe(0);
    expect(resolveBuildOptions({}, limits).parallelTasksLimit).toBe(3);
    expect(resolveBuildOptions({}, { WERF_PARALLEL_TASKS_LIMIT: '-1' }).parallelTasksLimit).toBe(-1);

    const sync = { STRATA_SYNCHRONIZATION: 'redis://127.0.0.1:6379/2', WERF_SYNCHRONIZATION: ':local' };
    expect(resolveBuildOptions({}, sync).synchronization).toBe('redis://127.0.0.1:6379/2');
    expect(resolveBuildOptions({ synchronization: ':local' }, sync).synchronization).toBe(':local');

    const final = { STRATA_FINAL_REPO: '127.0.0.1:5000/final-s', WERF_FINAL_REPO: '127.0.0.1:5000/final-w', STRATA_REPO: REPO };
    expect(resolveBuildOptions({}, final).finalRepo).toBe('127.0.0.1:5000/final-s');
    expect(resolveBuildOptions({}, { STRATA_REPORT_PATH: 'r.json' }).reportPath).toBe('r.json');
  });

  it('collects WERF_SECONDARY_REPO_<NAME> and WERF_CACHE_REPO_<NAME> ordered by name', () => {
    const env = {
      WERF_REPO: REPO,
      WERF_SECONDARY_REPO_ZETA: '127.0.0.1:5000/zeta',
      WERF_SECONDARY_REPO_ALPHA: '127.0.0.1:5000/alpha',
      WERF_CACHE_REPO_LOCAL: '127.0.0.1:5001/cache',
      WERF_SECONDARY_REPO: '127.0.0.1:5000/not-a-werf-name',
    };
    const resolved = resolveStorageOptions({}, env);
    expect(resolved.secondaryRepos).toEqual(['127.0.0.1:5000/alpha', '127.0.0.1:5000/zeta']);
    expect(resolved.cacheRepos).toEqual(['127.0.0.1:5001/cache']);
  });

  it('STRATA_* lists (comma/space separated, and _<NAME>) replace the WERF_* ones; flags replace both', () => {
    const env = {
      STRATA_REPO: REPO,
      STRATA_SECONDARY_REPO: '127.0.0.1:5000/one, 127.0.0.1:5000/two 127.0.0.1:5000/three',
      STRATA_SECONDARY_REPO_EXTRA: '127.0.0.1:5000/four',
      WERF_SECONDARY_REPO_OLD: '127.0.0.1:5000/werf',
      STRATA_CACHE_REPO_A: '127.0.0.1:5000/cache-a',
    };
    expect(resolveStorageOptions({}, env).secondaryRepos).toEqual(['127.0.0.1:5000/one', '127.0.0.1:5000/two', '127.0.0.1:5000/three', '127.0.0.1:5000/four']);
    expect(resolveStorageOptions({ 'secondary-repo': ['127.0.0.1:5000/flag'] }, env).secondaryRepos).toEqual(['127.0.0.1:5000/flag']);
    expect(resolveStorageOptions({}, env).cacheRepos).toEqual(['127.0.0.1:5000/cache-a']);
  });

  it.each([
    [{ 'parallel-tasks-limit': 'five' }, {}, /not an integer/],
    [{}, { STRATA_PARALLEL_TASKS_LIMIT: '2.5' }, /STRATA_PARALLEL_TASKS_LIMIT/],
    [{ synchronization: 'kubernetes://ns' }, {}, /unsupported synchronization/],
    [{}, { WERF_SYNCHRONIZATION: 'http://sync.example' }, /WERF_SYNCHRONIZATION/],
    [{ repo: 'not a repo' }, {}, /not a registry repository/],
    [{ repo: '127.0.0.1:5000/app:tag' }, {}, /not a registry repository|names an image/],
    [{ 'cache-repo': ['127.0.0.1:5000/cache'] }, {}, /need a primary repository/],
    [{ repo: REPO, 'final-repo': REPO }, {}, /also given as a secondary, cache or final/],
  ] as const)('rejects invalid values as usage errors: %j %j', (flags, env, message) => {
    let error: unknown;
    try {
      resolveBuildOptions(flags, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as UsageError).message).toMatch(message);
  });

  it('never echoes credentials of a repository it rejects', () => {
    expect(() => resolveBuildOptions({ synchronization: 'redis://user:hunter2@host:6379/x/y' }, {})).toThrow(/\*\*\*/);
    try {
      resolveBuildOptions({ synchronization: 'redis://user:hunter2@host:6379/x/y' }, {});
    } catch (error) {
      expect((error as Error).message).not.toContain('hunter2');
    }
  });

  it('strata build exits 2 on an invalid value, from a flag or the environment, before touching anything', async () => {
    const outputs: string[] = [];
    const io = { stdout: (t: string) => outputs.push(t), stderr: (t: string) => outputs.push(t), cwd: '/nonexistent', env: { WERF_PARALLEL_TASKS_LIMIT: 'many' } };
    expect(await main(['build'], io)).toBe(2);
    expect(outputs.join('')).toMatch(/WERF_PARALLEL_TASKS_LIMIT: "many" is not an integer/);
    expect(await main(['build', '--synchronization', 'etcd://x'], { ...io, env: {} })).toBe(2);
    expect(await main(['explain'], { ...io, env: {} })).toBe(2);
  });

  it('build --help documents every variable and the precedence', async () => {
    let out = '';
    expect(await main(['build', '--help'], { stdout: (t) => (out += t), stderr: (t) => (out += t), cwd: '/', env: {} })).toBe(0);
    for (const name of ['STRATA_REPO', 'WERF_REPO', 'WERF_SECONDARY_REPO_<NAME>', 'WERF_CACHE_REPO_<NAME>', 'STRATA_FINAL_REPO', 'WERF_FINAL_REPO', 'STRATA_SYNCHRONIZATION', 'WERF_SYNCHRONIZATION', 'STRATA_PARALLEL_TASKS_LIMIT', 'WERF_PARALLEL_TASKS_LIMIT', 'STRATA_REPORT_PATH']) {
      expect(out).toContain(name);
    }
    expect(out).toMatch(/flag wins over STRATA_\* variables, which win over WERF_\*/);
  });
});
