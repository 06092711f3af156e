import { describe, expect, it } from 'vitest';
import * as api from '@strata/config';
import { formatProblem, imageKey, NAMELESS_IMAGE_KEY, type ConfigProblem } from '@strata/config';
import { expectOk } from './kit.js';

describe('public API', () => {
  it('exports exactly the documented runtime names', () => {
    expect(Object.keys(api).sort()).toEqual([
      'ConfigError',
      'DEFAULT_CONFIG_FILES',
      'DEFAULT_HOST_PLATFORM',
      'NAMELESS_IMAGE_KEY',
      'WorkingTreeConfigSource',
      'formatProblem',
      'getConfig',
      'hostPlatformOf',
      'imageKey',
      'loadConfig',
      'parseConfig',
      'renderConfig',
      'renderConfigText',
    ]);
  });

  it('formats a problem as file:line:col: code: message (hint)', () => {
    const problem: ConfigProblem = {
      code: 'UNKNOWN_KEY',
      severity: 'error',
      message: 'unknown key "shel"',
      file: 'werf.yaml',
      line: 7,
      column: 1,
      path: 'image "a" → shel',
      pathSegments: ['shel'],
      hint: 'did you mean "shell"?',
    };
    expect(formatProblem(problem)).toBe('werf.yaml:7:1: UNKNOWN_KEY: unknown key "shel" (did you mean "shell"?)');
    const { hint: _hint, ...withoutHint } = problem;
    expect(formatProblem(withoutHint)).toBe('werf.yaml:7:1: UNKNOWN_KEY: unknown key "shel"');
  });

  it('keys the nameless image as ~', () => {
    const config = expectOk('project: demo\nconfigVersion: 1\n---\nimage: ~\nfrom: alpine\n');
    expect(config.images[0]).toMatchObject({ name: null, key: NAMELESS_IMAGE_KEY });
    expect(imageKey({ name: null })).toBe('~');
    expect(imageKey({ name: 'x' })).toBe('x');
  });
});

describe('renderConfigText (the template seam)', () => {
  it('passes plain YAML through with the BOM removed', () => {
    expect(api.renderConfigText('\uFEFFproject: a\n', 'werf.yaml')).toEqual({ ok: true, text: 'project: a\n' });
  });

  it('renders Go templates (no longer rejected) with the given data', () => {
    const result = api.renderConfigText('project: a\n{{- $x := "b" }}\nimage: {{ $x }}-{{ .Env }}-{{ env "N" "d" }}\n', 'werf.yaml', { werfEnv: 'prod', allowedEnv: ['N'] });
    expect(result).toEqual({ ok: true, text: 'project: a\nimage: b-prod-d\n' });
  });

  it('reports a template failure at the template position', () => {
    const result = api.renderConfigText('project: a\n\nimage: {{ required "a name" .Name }}\n', 'werf.yaml');
    expect(!result.ok && result.problems.map((p) => [p.code, p.file, p.line, p.column])).toEqual([['TEMPLATE_ERROR', 'werf.yaml', 3, 11]]);
  });
});
