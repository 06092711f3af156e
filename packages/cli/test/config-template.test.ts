/**
 * Templated configs through the CLI with real git repositories: read from the HEAD commit by
 * default (giterminism), from the working tree with --dev, and problems located in the templates.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '@strata/cli';
import { configRender } from '../src/commands/config-render.js';
import { GitCommitConfigSource } from '../src/wiring/config-source.js';
import { NativeGitRepository } from '@strata/git';
import { describeConfigSourceContract } from '@strata/config/testing';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-cli-template-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const COMMIT_TIME = '1709285400'; // 2024-03-01T09:30:00Z

/** A Deckhouse-style module: root werf.yaml, `.werf` partials, `images/*\/werf.inc.yaml` rendered with tpl. */
const MODULE: Readonly<Record<string, string>> = {
  'werf.yaml': `project: {{ include "module name" . }}
configVersion: 1
{{- $root := . }}
{{- range $path, $content := .Files.Glob "images/*/werf.inc.yaml" }}
{{- $ctx := dict "ImageName" ($path | split "/")._1 "ModuleName" (include "module name" $root) "Root" $root }}
{{ tpl $content $ctx }}
{{- end }}
---
image: release
fromImage: backend
docker:
  LABEL:
    commit: {{ .Commit.Hash | quote }}
    date: {{ .Commit.Date.Unix | quote }}
    edition: {{ env "EDITION" "ce" | quote }}
`,
  '.werf/defines/module.tmpl': '{{ define "module name" }}my-module{{ end }}\n',
  '.werf/defines/base.tmpl': '{{ define "base image" }}alpine:3.19{{ end }}\n',
  'werf-giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [EDITION]\n',
  'images/backend/werf.inc.yaml': `---
image: {{ .ImageName }}
from: {{ include "base image" .Root }}
git:
- add: /images/{{ .ImageName }}/src
  to: /app
shell:
  install:
  - echo {{ .ModuleName }}/{{ .ImageName }}
`,
  'images/backend/src/main.go': 'package main\n',
  'images/frontend/werf.inc.yaml': `---
image: {{ .ImageName }}
from: {{ include "base image" .Root }}
shell:
  setup:
  - echo frontend
`,
};

function write(dir: string, files: Readonly<Record<string, string>>): void {
  for (const [file, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, file)), { recursive: true });
    writeFileSync(path.join(dir, file), content);
  }
}

function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, {
    cwd,
    encoding: 'utf8',
    env: {
      ...process.env,
      GIT_AUTHOR_NAME: 't',
      GIT_AUTHOR_EMAIL: 't@example.com',
      GIT_COMMITTER_NAME: 't',
      GIT_COMMITTER_EMAIL: 't@example.com',
      GIT_AUTHOR_DATE: `${COMMIT_TIME} +0000`,
      GIT_COMMITTER_DATE: `${COMMIT_TIME} +0000`,
      GIT_CONFIG_NOSYSTEM: '1',
      HOME: scratch,
    },
  }).trim();
}

/** A repository whose module lives in `modules/my-module`, committed; returns the module dir and HEAD. */
function repositoryWith(name: string, files: Readonly<Record<string, string>>): { repo: string; dir: string; head: string } {
  const repo = path.join(scratch, name);
  const dir = path.join(repo, 'modules', 'my-module');
  rmSync(repo, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  git(repo, 'init', '-q', '-b', 'main');
  write(repo, { 'README.md': 'outside the module\n' });
  write(dir, files);
  git(repo, 'add', '-A');
  git(repo, 'commit', '-q', '-m', 'module');
  return { repo, dir, head: git(repo, 'rev-parse', 'HEAD') };
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function io(env: Record<string, string> = {}) {
  const out = { stdout: '', stderr: '' };
  return { out, io: { stdout: (t: string) => (out.stdout += t), stderr: (t: string) => (out.stderr += t), cwd: scratch, env } };
}

async function run(argv: string[], env: Record<string, string> = {}): Promise<Run> {
  const { out, io: sink } = io(env);
  const code = await main(argv, sink);
  return { code, ...out };
}

/** `strata config render` (called directly: registering it in main.ts is the integrator's step). */
async function render(values: Parameters<typeof configRender.run>[0]['values'], env: Record<string, string> = {}): Promise<Run> {
  const { out, io: sink } = io(env);
  const code = await configRender.run({ values, positionals: [] }, sink);
  return { code, ...out };
}

describe('templated configs from a git commit', () => {
  let module: { repo: string; dir: string; head: string };
  beforeAll(() => {
    module = repositoryWith('module', MODULE);
  });

  it('renders a Deckhouse-style module from HEAD: partials, .Files.Glob + tpl, .Commit, env default', async () => {
    const result = await render({ dir: module.dir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('project: my-module\n');
    expect(result.stdout).toContain('image: backend\nfrom: alpine:3.19\ngit:\n- add: /images/backend/src\n');
    expect(result.stdout).toContain('  - echo my-module/backend\n');
    expect(result.stdout).toContain('image: frontend\n');
    expect(result.stdout).toContain(`commit: "${module.head}"`);
    expect(result.stdout).toContain(`date: "${COMMIT_TIME}"`);
    expect(result.stdout).toContain('edition: "ce"');
  });

  it('validates it and shows the resolved images', async () => {
    const validate = await run(['config', 'validate', '--dir', module.dir]);
    expect(validate.stderr).toBe('');
    expect(validate.code).toBe(0);
    expect(validate.stdout).toContain('valid (project "my-module", 3 images)');
    const show = await run(['config', 'show', '--json', '--dir', module.dir], { EDITION: 'ee' });
    expect(show.code).toBe(0);
    const config = JSON.parse(show.stdout) as { images: { name: string; docker?: { label: Record<string, string> } }[] };
    expect(config.images.map((image) => image.name)).toEqual(['backend', 'frontend', 'release']);
    expect(config.images[2]?.docker?.label).toEqual({ commit: module.head, date: COMMIT_TIME, edition: 'ee' });
  });

  it('ignores uncommitted changes by default and uses them with --dev', async () => {
    const { dir } = repositoryWith('dev-mode', MODULE);
    write(dir, {
      'images/frontend/werf.inc.yaml': MODULE['images/frontend/werf.inc.yaml']!.replace('echo frontend', 'echo changed'),
      'images/worker/werf.inc.yaml': '---\nimage: {{ .ImageName }}\nfrom: debian:12\n',
      '.werf/defines/base.tmpl': '{{ define "base image" }}alpine:3.20{{ end }}\n',
    });
    const committed = await render({ dir });
    expect(committed.code).toBe(0);
    expect(committed.stdout).toContain('echo frontend');
    expect(committed.stdout).not.toContain('worker');
    expect(committed.stdout).not.toContain('alpine:3.20');

    const dev = await render({ dir, dev: true });
    expect(dev.code).toBe(0);
    expect(dev.stdout).toContain('echo changed');
    expect(dev.stdout).toContain('image: worker');
    expect(dev.stdout).toContain('from: alpine:3.20');
    expect(dev.stdout).toContain(`commit: "${git(dir, 'rev-parse', 'HEAD')}"`); // .Commit is still HEAD

    const validate = await run(['config', 'validate', '--dir', dir, '--dev']);
    expect(validate.stdout).toContain('4 images');
  });

  it('reads only committed files: an uncommitted werf.yaml is not found without --dev', async () => {
    const { dir } = repositoryWith('uncommitted', { 'README.md': 'no config committed\n' });
    write(dir, { 'werf.yaml': 'project: demo\nconfigVersion: 1\n' });
    const committed = await run(['config', 'validate', '--dir', dir]);
    expect(committed.code).toBe(1);
    expect(committed.stderr).toMatch(/CONFIG_NOT_FOUND: no config file found in commit [0-9a-f]{12}/);
    expect((await run(['config', 'validate', '--dir', dir, '--dev'])).code).toBe(0);
  });

  it('reports env of a variable that is not allowed at the call, and --allow-env allows it', async () => {
    const { dir } = repositoryWith('env', { 'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: {{ env "BASE" }}\n' });
    const denied = await run(['config', 'validate', '--dir', dir], { BASE: 'debian:12' });
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain(`${path.join(dir, 'werf.yaml')}:5:10: TEMPLATE_ENV_FORBIDDEN:`);
    expect(denied.stderr).toContain('--allow-env');
    const allowed = await render({ dir, 'allow-env': ['BASE'] }, { BASE: 'debian:12' });
    expect(allowed.stdout).toContain('from: debian:12');
    const unset = await render({ dir, 'allow-env': ['BASE'] });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/werf\.yaml:5:10: TEMPLATE_ERROR: .*"BASE" must be set or default must be provided/);
  });

  it('allows the variables werf-giterminism.yaml lists (from the commit)', async () => {
    const { dir } = repositoryWith('giterminism', {
      'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: {{ env "BASE" }}\n',
      'werf-giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [BASE]\n',
    });
    const result = await render({ dir }, { BASE: 'debian:12' });
    expect(result.stderr).toBe('');
    expect(result.stdout).toContain('from: debian:12');
  });

  it('names the template file, line and column of a template error', async () => {
    const { dir } = repositoryWith('template-error', {
      ...MODULE,
      '.werf/defines/base.tmpl': '{{ define "base image" }}\n{{- fail "pick a base image" }}{{ end }}\n',
    });
    const result = await run(['config', 'validate', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${path.join(dir, '.werf/defines/base.tmpl')}:2:5: TEMPLATE_ERROR:`);
    expect(result.stderr).toContain('pick a base image');
  });

  it('points a YAML problem of the rendered config at the template line', async () => {
    const { dir } = repositoryWith('yaml-error', {
      ...MODULE,
      'images/frontend/werf.inc.yaml': '---\nimage: {{ .ImageName }}\nfrom: {{ include "base image" .Root }}\nshel:\n  setup: [echo]\n',
    });
    const result = await run(['config', 'validate', '--dir', dir]);
    expect(result.code).toBe(1);
    const rendered = (await render({ dir })).stdout.split('\n');
    const renderedLine = rendered.indexOf('shel:') + 1;
    expect(renderedLine).toBeGreaterThan(0);
    expect(result.stderr).toContain(`${path.join(dir, 'images/frontend/werf.inc.yaml')}:4:1: UNKNOWN_KEY:`);
    expect(result.stderr).toContain(`[rendered config line ${renderedLine}]`);
  });
});

describe('outside git', () => {
  it('renders the working tree with a one-line notice', async () => {
    const dir = path.join(scratch, 'plain');
    write(dir, { 'werf.yaml': 'project: {{ "demo" }}\nconfigVersion: 1\n' });
    const result = await render({ dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('project: demo\nconfigVersion: 1\n');
    expect(result.stderr).toMatch(/^note: .* is not inside a git repository: reading the config from the working tree/);
    expect(result.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

describe('GitCommitConfigSource', () => {
  it('lists and reads the project subtree of one commit, and gives its commit info', async () => {
    const { repo, dir, head } = repositoryWith('source', MODULE);
    const repository = await NativeGitRepository.open(repo);
    try {
      const source = new GitCommitConfigSource(repository, { commit: head, projectPath: 'modules/my-module' });
      expect(await source.listFiles('.werf')).toEqual(['.werf/defines/base.tmpl', '.werf/defines/module.tmpl']);
      expect(await source.listFiles('')).toContain('images/backend/src/main.go');
      expect(await source.listFiles('')).not.toContain('README.md'); // outside the project
      expect(await source.listFiles('missing')).toEqual([]);
      expect(await source.findFile('images/backend/src/main.go')).toBe('package main\n');
      expect(await source.findFile('nope.txt')).toBeUndefined();
      expect(await source.findFile('../../README.md')).toBe('outside the module\n'); // inside the repository
      expect(await source.findFile('../../../escape')).toBeUndefined();
      expect(await source.findCommit()).toEqual({ hash: head, date: new Date(Number(COMMIT_TIME) * 1000) });
      write(dir, { 'images/backend/src/main.go': 'changed\n' });
      expect(await source.findFile('images/backend/src/main.go')).toBe('package main\n');
    } finally {
      await repository.close();
    }
  });
});

let contractRuns = 0;
describeConfigSourceContract('GitCommitConfigSource (project in a subdirectory)', async (files) => {
  const { repo, head } = repositoryWith(`contract-${++contractRuns}`, files);
  write(path.join(repo, 'modules', 'my-module'), { 'werf.yaml': 'uncommitted: change\n', 'untracked.txt': 'x\n' }); // not in the commit
  const repository = await NativeGitRepository.open(repo);
  return {
    source: new GitCommitConfigSource(repository, { commit: head, projectPath: 'modules/my-module' }),
    commit: { hash: head, date: new Date(Number(COMMIT_TIME) * 1000) },
    dispose: () => repository.close(),
  };
});
