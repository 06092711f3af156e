/**
 * Templated configs end to end through `loadConfig`/`renderConfig` with real files in temp dirs:
 * partials, `.Files`, `tpl`, `env` and giterminism, and where problems are reported.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MemoryTemplateFiles, renderWerfConfig } from '@strata/gotemplate';
import { formatProblem, loadConfig, renderConfig, WorkingTreeConfigSource, type ConfigProblem, type ConfigSource, type LoadConfigOptions } from '@strata/config';

const COMMIT = { hash: 'a'.repeat(40), date: new Date('2024-03-01T09:30:00Z') };

/** A Deckhouse-style module: root werf.yaml, `.werf` partials, one `werf.inc.yaml` per image. */
export const DECKHOUSE_MODULE: Readonly<Record<string, string>> = {
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
    edition: {{ env "EDITION" "ce" | quote }}
`,
  '.werf/defines/module.tmpl': '{{ define "module name" }}my-module{{ end }}\n',
  '.werf/defines/base.tmpl': '{{ define "base image" }}alpine:3.19{{ end }}\n',
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
  - echo {{ .Root.Commit.Hash | trunc 7 }}
`,
  'docs/unrelated.md': '# not read by the config\n',
};

async function writeTree(dir: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
}

/** A source that records which files were read (to check that only what the template asks for is). */
class RecordingSource implements ConfigSource {
  readonly read: string[] = [];
  readonly listed: string[] = [];
  readonly description: string;
  constructor(private readonly inner: ConfigSource) {
    this.description = inner.description;
  }
  findFile(path: string): Promise<string | undefined> {
    this.read.push(path);
    return this.inner.findFile(path);
  }
  listFiles(dir: string): Promise<string[]> {
    this.listed.push(dir);
    return this.inner.listFiles(dir);
  }
  findCommit() {
    return this.inner.findCommit();
  }
}

describe('templated configs', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'strata-config-template-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  const load = (options: LoadConfigOptions = {}) => loadConfig(dir, { source: new WorkingTreeConfigSource(dir, { commit: COMMIT }), allowedEnv: ['EDITION'], ...options });
  const problems = async (options: LoadConfigOptions = {}): Promise<ConfigProblem[]> => {
    const result = await load(options);
    if (result.ok) throw new Error('expected problems');
    return result.problems;
  };

  it('renders and validates a Deckhouse-style module (partials, .Files.Glob + tpl, .Commit, env)', async () => {
    await writeTree(dir, DECKHOUSE_MODULE);
    const result = await load({ env: { EDITION: 'ee' }, allowedEnv: ['EDITION'] });
    if (!result.ok) throw new Error(result.problems.map(formatProblem).join('\n'));
    const { config } = result;
    expect(config.project).toBe('my-module');
    expect(config.images.map((image) => image.name)).toEqual(['backend', 'frontend', 'release']);
    const backend = config.images.find((image) => image.name === 'backend');
    expect(backend).toMatchObject({ kind: 'stapel', from: { kind: 'external', ref: 'alpine:3.19' }, git: [{ add: '/images/backend/src', to: '/app' }] });
    expect(backend?.kind === 'stapel' && backend.shell?.install).toEqual(['echo my-module/backend']);
    const frontend = config.images.find((image) => image.name === 'frontend');
    expect(frontend?.kind === 'stapel' && frontend.shell?.setup).toEqual(['echo aaaaaaa']);
    const release = config.images.find((image) => image.name === 'release');
    expect(release?.kind === 'stapel' && release.docker.label).toEqual({ commit: COMMIT.hash, edition: 'ee' });

    const rendered = await renderConfig(dir, { source: new WorkingTreeConfigSource(dir, { commit: COMMIT }), allowedEnv: ['EDITION'] });
    expect(rendered.ok && rendered.templated).toBe(true);
    expect(rendered.ok && rendered.text).toContain('edition: "ce"'); // the default: EDITION not set
    expect(rendered.ok && rendered.text).toContain('image: frontend\nfrom: alpine:3.19\n');
  });

  it('loads only the files the template reads', async () => {
    await writeTree(dir, DECKHOUSE_MODULE);
    const source = new RecordingSource(new WorkingTreeConfigSource(dir, { commit: COMMIT }));
    const result = await loadConfig(dir, { source, allowedEnv: ['EDITION'] });
    expect(result.ok).toBe(true);
    expect(source.read).not.toContain('docs/unrelated.md');
    expect(source.read).not.toContain('images/backend/src/main.go');
    expect(source.read).toContain('images/frontend/werf.inc.yaml');
    expect(source.listed.sort()).toEqual(['', '.werf']);
  });

  it('reads werf-giterminism.yaml for the variables env may read', async () => {
    await writeTree(dir, {
      'werf.yaml': 'project: {{ env "PROJECT" }}\nconfigVersion: 1\n---\nimage: a\nfrom: {{ env "BASE_IMAGE" }}\n',
      'werf-giterminism.yaml': 'giterminismConfigVersion: 1\nconfig:\n  goTemplateRendering:\n    allowEnvVariables: [PROJECT, /^BASE_.*/]\n',
    });
    const result = await load({ env: { PROJECT: 'from-env', BASE_IMAGE: 'debian:12' } });
    expect(result.ok && [result.config.project, result.config.images[0]?.kind === 'stapel' && result.config.images[0].from]).toEqual([
      'from-env',
      { kind: 'external', ref: 'debian:12' },
    ]);
  });

  it('reports env of a variable giterminism does not allow, at the call', async () => {
    await writeTree(dir, { 'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: {{ env "SECRET_BASE" "alpine" }}\n' });
    const [problem, ...rest] = await problems({ env: { SECRET_BASE: 'x' }, allowedEnv: ['OTHER'] });
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ code: 'TEMPLATE_ENV_FORBIDDEN', file: join(dir, 'werf.yaml'), line: 5, column: 10 });
    expect(problem?.message).toContain('"SECRET_BASE"');
    expect(problem?.hint).toMatch(/allowEnvVariables|--allow-env/);
  });

  it('reports an unset variable without a default', async () => {
    await writeTree(dir, { 'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: {{ env "BASE" }}\n' });
    const [problem] = await problems({ allowedEnv: ['BASE'] });
    expect(problem).toMatchObject({ code: 'TEMPLATE_ERROR', line: 5, column: 10 });
    expect(problem?.message).toContain('must be set or default must be provided');
  });

  it('names the partial, line and column of a template error inside an include', async () => {
    await writeTree(dir, {
      'werf.yaml': 'project: demo\nconfigVersion: 1\n---\n{{ include "image.tmpl" . }}\n',
      '.werf/image.tmpl': 'image: a\nfrom: {{ required "the base image is required" .Base }}\n',
    });
    const [problem] = await problems();
    expect(problem).toMatchObject({ code: 'TEMPLATE_ERROR', file: join(dir, '.werf/image.tmpl'), line: 2, column: 10 });
    expect(problem?.message).toContain('the base image is required');
    expect(formatProblem(problem as ConfigProblem)).toMatch(new RegExp(`^${escape(join(dir, '.werf/image.tmpl'))}:2:10: TEMPLATE_ERROR: `));
  });

  it('locates include of an undefined template at the include call', async () => {
    await writeTree(dir, {
      'werf.yaml': 'project: demo\nconfigVersion: 1\n---\n{{ include "image.tmpl" . }}\n',
      '.werf/image.tmpl': 'image: a\nfrom: {{ include "no such define" . }}\n',
    });
    const [problem] = await problems();
    expect(problem).toMatchObject({ code: 'TEMPLATE_ERROR', file: join(dir, '.werf/image.tmpl'), line: 2, column: 10 });
    expect(problem?.message).toContain('no template "no such define"');
  });

  it('gotemplate locates include of an undefined template at the call site itself', () => {
    const result = renderWerfConfig({ mainFile: { path: 'werf.yaml', text: 'a: 1\n{{ include "x" . }}\n' }, files: new MemoryTemplateFiles({}), commit: COMMIT });
    expect('error' in result && [result.error.file, result.error.line, result.error.column]).toEqual(['werf.yaml', 2, 4]);
  });

  it('names the .Files file of a template error inside tpl text', async () => {
    await writeTree(dir, {
      ...DECKHOUSE_MODULE,
      'images/frontend/werf.inc.yaml': '---\nimage: {{ .ImageName }}\nfrom: {{ required "frontend needs a base" .Root.Nope }}\n',
    });
    const [problem] = await problems();
    expect(problem).toMatchObject({ code: 'TEMPLATE_ERROR', file: join(dir, 'images/frontend/werf.inc.yaml'), line: 3, column: 10 });
    expect(problem?.message).toContain('frontend needs a base');
  });

  it('reports a parse error in the main file with its line', async () => {
    await writeTree(dir, { 'werf.yaml': 'project: demo\nconfigVersion: 1\n{{ if }}\n{{ end }}\n' });
    const [problem] = await problems();
    expect(problem).toMatchObject({ code: 'TEMPLATE_ERROR', file: join(dir, 'werf.yaml'), line: 3 });
  });

  it('points a YAML problem of the rendered output at the template line that produced it', async () => {
    await writeTree(dir, {
      ...DECKHOUSE_MODULE,
      'images/frontend/werf.inc.yaml': '---\nimage: {{ .ImageName }}\nfrom: {{ include "base image" .Root }}\nshel:\n  setup: [true]\n',
    });
    const [problem, ...rest] = await problems();
    expect(rest).toEqual([]);
    expect(problem).toMatchObject({ code: 'UNKNOWN_KEY', file: join(dir, 'images/frontend/werf.inc.yaml'), line: 4, column: 1 });
    expect(problem?.rendered?.mapped).toBe(true);
    const rendered = await renderConfig(dir, { source: new WorkingTreeConfigSource(dir, { commit: COMMIT }), allowedEnv: ['EDITION'] });
    const renderedLines = rendered.ok ? rendered.text.split('\n') : [];
    expect(renderedLines[(problem?.rendered?.line ?? 0) - 1]).toBe('shel:');
    expect(formatProblem(problem as ConfigProblem)).toContain(`[rendered config line ${problem?.rendered?.line}]`);
  });

  it('maps a problem on a templated line of the main file, keeping literal columns', async () => {
    await writeTree(dir, { 'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: {{ "a" }}\nfrom: alpine\ngit:\n- add: /\n  to: {{ "app" }}\n' });
    const [problem] = await problems();
    expect(problem).toMatchObject({ code: 'PATH_NOT_ABSOLUTE', file: join(dir, 'werf.yaml'), line: 8, column: 7, rendered: { line: 8, column: 7, mapped: true } });
  });

  it('marks a problem whose template line is unknown as a rendered-config position', async () => {
    await writeTree(dir, {
      'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: alpine\n{{ .Files.Get "extra.txt" }}\n',
      'extra.txt': 'unknwn: 1\n',
    });
    // the line comes from a file read with .Files.Get: its text is still found there
    const [fromFile] = await problems();
    expect(fromFile).toMatchObject({ code: 'UNKNOWN_KEY', file: join(dir, 'extra.txt'), line: 1 });

    await writeTree(dir, { 'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: alpine\n{{ printf "%s: 1" "unknwn" }}\n' });
    const [unknown] = await problems();
    expect(unknown).toMatchObject({ code: 'UNKNOWN_KEY', file: join(dir, 'werf.yaml'), line: 6, column: 1, rendered: { line: 6, column: 1, mapped: false } });
    expect(formatProblem(unknown as ConfigProblem)).toContain(`${join(dir, 'werf.yaml')}: in the rendered config at line 6, column 1 (see \`strata config render\`): UNKNOWN_KEY:`);
  });

  it('still reports the unsupported werf features in a templated config', async () => {
    await writeTree(dir, {
      'werf.yaml': `project: demo
configVersion: 1
build:
  staged: {{ "true" }}
  platform: [{{ "linux/s390x" }}]
---
{{ include "images.tmpl" . }}
`,
      '.werf/images.tmpl': `image: a
from: alpine
ansible:
  install: []
git:
- url: https://example.com/{{ "repo" }}.git
  add: /
  to: /src
---
image: b
dockerfile: Dockerfile
secrets:
- id: x
  src: x
`,
    });
    const found = await problems({ hostPlatform: 'linux/amd64' });
    const byCode = new Map(found.map((p) => [p.code, p]));
    expect([...byCode.keys()].sort()).toEqual(['UNSUPPORTED_ANSIBLE', 'UNSUPPORTED_GIT_URL', 'UNSUPPORTED_PLATFORM', 'UNSUPPORTED_SECRETS', 'UNSUPPORTED_STAGED']);
    expect(byCode.get('UNSUPPORTED_STAGED')).toMatchObject({ file: join(dir, 'werf.yaml'), line: 4 });
    expect(byCode.get('UNSUPPORTED_ANSIBLE')).toMatchObject({ file: join(dir, '.werf/images.tmpl'), line: 3, column: 1 });
    expect(byCode.get('UNSUPPORTED_GIT_URL')).toMatchObject({ file: join(dir, '.werf/images.tmpl'), line: 6 });
  });

  it('rejects with the abort reason when aborted while loading a template', async () => {
    await writeTree(dir, { ...DECKHOUSE_MODULE, 'werf.yaml': `${DECKHOUSE_MODULE['werf.yaml'] ?? ''}{{- range until 1000 }}{{ end }}\n` });
    const controller = new AbortController();
    const pending = load({ signal: controller.signal });
    controller.abort(new Error('stop rendering'));
    await expect(pending).rejects.toThrow('stop rendering');
  });

  it('leaves a plain config untouched (no template options, same positions)', async () => {
    await writeTree(dir, { 'werf.yaml': 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: alpine\nshel: []\n' });
    const [problem] = await problems();
    expect(problem).toMatchObject({ code: 'UNKNOWN_KEY', line: 6, column: 1 });
    expect(problem?.rendered).toBeUndefined();
    const rendered = await renderConfig(dir);
    expect(rendered).toEqual({ ok: true, file: join(dir, 'werf.yaml'), text: 'project: demo\nconfigVersion: 1\n---\nimage: a\nfrom: alpine\nshel: []\n', templated: false });
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
