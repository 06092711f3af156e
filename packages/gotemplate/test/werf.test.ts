/** werf's template functions and `renderWerfConfig`, with an in-memory file snapshot. */
import { describe, expect, it } from 'vitest';
import { MemoryTemplateFiles, TemplateError, goTimeString, renderWerfConfig, type RenderWerfConfigOptions } from '@strata/gotemplate';

const COMMIT = { hash: '0123456789abcdef0123456789abcdef01234567', date: new Date('2024-03-01T09:30:00Z') };

/** A Deckhouse-style module: root werf.yaml, shared partials in .werf, one werf.inc.yaml per image. */
function deckhouseModule(): RenderWerfConfigOptions {
  const files = new MemoryTemplateFiles({
    'images/controller/werf.inc.yaml': [
      '---',
      'image: {{ .ModuleName }}/{{ .ImageName }}',
      'from: {{ include "base image" . }}',
      'shell:',
      '  install:',
      '  - echo {{ .ImageName | upper }}',
    ].join('\n'),
    'images/webhook/werf.inc.yaml': ['---', 'image: {{ .ModuleName }}/{{ .ImageName }}', 'from: {{ include "base image" . }}'].join('\n'),
    'images/webhook/main.go': 'package main',
    'base_images.yml': 'alpine: registry.example/alpine:3.19@sha256:abc\n',
  });
  const werfYaml = [
    'project: {{ .ModuleName | default "my-module" }}',
    'configVersion: 1',
    '{{- $root := . }}',
    '{{- range $path, $content := .Files.Glob "images/*/werf.inc.yaml" }}',
    '{{- $ctx := dict "ImageName" ($path | split "/")._1 "ModuleName" "my-module" "Root" $root }}',
    '{{ tpl $content $ctx }}',
    '{{- end }}',
    '---',
    'image: release',
    'from: {{ include "base image" . }}',
    'git:',
    '- add: /',
    '  to: /src',
    '  stageDependencies:',
    '    install: ["go.mod"]',
    '# commit {{ .Commit.Hash | trunc 8 }} at {{ .Commit.Date.Unix }} ({{ .Commit.Date.Human }}) env={{ .Env | default "none" }}',
  ].join('\n');
  return {
    mainFile: { path: 'werf.yaml', text: werfYaml },
    extraTemplates: [
      {
        path: '.werf/defines/base.tmpl',
        text: '{{- define "base image" }}{{ (fromYaml (($.Root | default $).Files.Get "base_images.yml")).alpine | default "scratch" }}{{- end }}',
      },
      { path: '.werf/defines/helpers.tmpl', text: '{{ define "unused" }}x{{ end }}' },
    ],
    files,
    commit: COMMIT,
  };
}

describe('renderWerfConfig', () => {
  it('renders a Deckhouse-style config: .werf partials, .Files.Glob over werf.inc.yaml, tpl, include', () => {
    const result = renderWerfConfig(deckhouseModule());
    if ('error' in result) throw result.error;
    expect(result.text).toBe(
      [
        'project: my-module',
        'configVersion: 1',
        '---',
        'image: my-module/controller',
        'from: registry.example/alpine:3.19@sha256:abc',
        'shell:',
        '  install:',
        '  - echo CONTROLLER',
        '---',
        'image: my-module/webhook',
        'from: registry.example/alpine:3.19@sha256:abc',
        '---',
        'image: release',
        'from: registry.example/alpine:3.19@sha256:abc',
        'git:',
        '- add: /',
        '  to: /src',
        '  stageDependencies:',
        '    install: ["go.mod"]',
        '# commit 01234567 at 1709285400 (2024-03-01 09:30:00 +0000 UTC) env=none',
      ].join('\n'),
    );
  });

  it('names partials by their path inside the templates directory', () => {
    const result = renderWerfConfig({
      mainFile: { path: 'werf.yaml', text: '{{ include "a/b.tmpl" "x" }}|{{ include "c.tmpl" . | trim }}' },
      extraTemplates: [
        { path: '.werf/a/b.tmpl', text: 'B({{ . }})' },
        { path: '.werf/c.tmpl', text: ' C ' },
      ],
      files: new MemoryTemplateFiles({}),
      commit: COMMIT,
    });
    expect(result).toEqual({ text: 'B(x)|C' });
  });

  it('passes .Env (werf --env) and prints .Commit.Date.Human in the committer zone', () => {
    const result = renderWerfConfig({
      mainFile: { path: 'werf.yaml', text: '{{ .Env }} {{ .Commit.Date.Human }}' },
      files: new MemoryTemplateFiles({}),
      werfEnv: 'production',
      commit: { ...COMMIT, timezoneOffsetMinutes: 180 },
    });
    expect(result).toEqual({ text: 'production 2024-03-01 12:30:00 +0300 +0300' });
    expect(goTimeString(new Date('2024-01-02T03:04:05.250Z'))).toBe('2024-01-02 03:04:05.25 +0000 UTC');
  });

  it('reports a failure inside a partial at the partial file, line and column', () => {
    const result = renderWerfConfig({
      mainFile: { path: 'werf.yaml', text: 'project: x\n---\n{{ include "p.tmpl" . }}\n' },
      extraTemplates: [{ path: '.werf/p.tmpl', text: 'line one\n  {{ .Nope.Deeper.Value | required "value is required" }}' }],
      files: new MemoryTemplateFiles({}),
      commit: COMMIT,
    });
    expect('error' in result).toBe(true);
    if (!('error' in result)) return;
    const e = result.error;
    expect(e).toBeInstanceOf(TemplateError);
    expect(e.code).toBe('TEMPLATE_EXEC');
    expect(e.file).toBe('.werf/p.tmpl');
    expect(e.line).toBe(2);
    expect(e.column).toBe(27);
    expect(e.message).toContain('template: werf.yaml:3:3: executing "werf.yaml" at <include "p.tmpl" .>: error calling include:');
    expect(e.message).toContain('template: p.tmpl:2:26: executing "p.tmpl" at <required "value is required">: error calling required: value is required');
  });

  it('reports a parse error with the file and line', () => {
    const result = renderWerfConfig({
      mainFile: { path: 'werf.yaml', text: 'a: 1\nb: {{ if .x }}\n' },
      files: new MemoryTemplateFiles({}),
      commit: COMMIT,
    });
    if (!('error' in result)) throw new Error('expected an error');
    expect(result.error.code).toBe('TEMPLATE_PARSE');
    expect(result.error.file).toBe('werf.yaml');
    expect(result.error.line).toBe(3);
    expect(result.error.message).toBe('template: werf.yaml:3: unexpected EOF');
  });
});

describe('env (giterminism)', () => {
  const render = (text: string, env: Record<string, string | undefined>, allowedEnv?: RenderWerfConfigOptions['allowedEnv'], loose = false) =>
    renderWerfConfig({ mainFile: { path: 'werf.yaml', text }, files: new MemoryTemplateFiles({}), commit: COMMIT, env, allowedEnv, looseGiterminism: loose });

  it('reads allowed variables, with defaults for unset or empty ones', () => {
    expect(render('{{ env "A" }}|{{ env "B" "dflt" }}|{{ env "E" "dflt" }}', { A: 'a', E: '' }, ['A', 'B', 'E'])).toEqual({ text: 'a|dflt|dflt' });
    expect(render('{{ env "CI_COMMIT_TAG" }}', { CI_COMMIT_TAG: 'v1' }, ['/CI_.*/'])).toEqual({ text: 'v1' });
    expect(render('{{ env "X" }}', { X: 'x' }, (n) => n === 'X')).toEqual({ text: 'x' });
  });

  it('fails for an unset variable without default (unless giterminism is loose)', () => {
    const r = render('{{ env "MISSING" }}', {}, ['MISSING']);
    if (!('error' in r)) throw new Error('expected an error');
    expect(r.error.code).toBe('TEMPLATE_EXEC');
    expect(r.error.message).toContain('the environment variable "MISSING" must be set or default must be provided');
    expect(render('{{ env "MISSING" }}|', {}, ['MISSING'], true)).toEqual({ text: '|' });
  });

  it('refuses variables the caller did not allow', () => {
    const r = render('x\n {{ env "SECRET" "d" }}', { SECRET: 's' }, ['OTHER']);
    if (!('error' in r)) throw new Error('expected an error');
    expect(r.error.code).toBe('TEMPLATE_FORBIDDEN');
    expect(r.error.file).toBe('werf.yaml');
    expect(r.error.line).toBe(2);
    expect(r.error.message).toContain('env name "SECRET" not allowed');
    expect(r.error.hint).toMatch(/allowEnvVariables/);
  });

  it('rejects more than one default', () => {
    const r = render('{{ env "A" "b" "c" }}', { A: 'a' }, ['A']);
    expect('error' in r && r.error.message).toContain('more than 1 optional argument prohibited');
  });
});

describe('.Files', () => {
  const files = new MemoryTemplateFiles({ 'a/x.txt': 'X', 'a/b/y.txt': 'Y', 'top.md': 'T' });
  const render = (text: string) => renderWerfConfig({ mainFile: { path: 'werf.yaml', text }, files, commit: COMMIT });

  it('gets, globs (path → content, sorted when ranged), and checks existence', () => {
    expect(render('{{ .Files.Get "a/x.txt" }}{{ .Files.Get "./top.md" }}')).toEqual({ text: 'XT' });
    expect(render('{{ range $p, $c := .Files.Glob "a/**/*.txt" }}{{ $p }}={{ $c }};{{ end }}')).toEqual({ text: 'a/b/y.txt=Y;a/x.txt=X;' });
    expect(render('{{ .Files.Glob "a/*.txt" }}')).toEqual({ text: 'map[a/x.txt:X]' });
    expect(render('{{ .Files.Exists "a/x.txt" }} {{ .Files.Exists "a" }} {{ .Files.Exists "nope" }} {{ .Files.IsDir "a/b" }} {{ .Files.IsDir "a/x.txt" }}')).toEqual({
      text: 'true true false true false',
    });
  });

  it('fails on a missing file and on a glob without matches', () => {
    const get = render('{{ .Files.Get "nope.txt" }}');
    expect('error' in get && get.error.message).toContain('{{ .Files.Get "nope.txt" }}');
    const glob = render('{{ .Files.Glob "*.none" }}');
    expect('error' in glob && glob.error.message).toContain('{{ .Files.Glob "*.none" }}: no matches found');
  });
});

describe('toYaml / fromYaml', () => {
  const render = (text: string) => renderWerfConfig({ mainFile: { path: 'werf.yaml', text }, files: new MemoryTemplateFiles({}), commit: COMMIT });
  it('round-trips maps and keeps YAML ints as ints', () => {
    expect(render('{{ $v := fromYaml "b: 1\\na: [x, 2.5]\\nc: {d: true}" }}{{ toYaml $v }}|{{ printf "%T %T" $v.b (index $v.a 1) }}')).toEqual({
      text: 'a:\n  - x\n  - 2.5\nb: 1\nc:\n  d: true|int float64',
    });
    expect(render('{{ toYaml (list 1 "two") | nindent 2 }}')).toEqual({ text: '\n  - 1\n  - two' });
  });
});
