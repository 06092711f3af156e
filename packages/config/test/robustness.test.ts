import { describe, expect, it } from 'vitest';
import { expectOk, problemsOf } from './kit.js';

/** The same small config, written the ways real files vary. */
const LINES = ['project: demo', 'configVersion: 1', '---', 'image: app', 'from: alpine:3.18', 'shell:', '  install:', '  - make'];

function expectTheConfig(source: string): void {
  const config = expectOk(source);
  expect(config.project).toBe('demo');
  expect(config.images).toHaveLength(1);
  expect(config.images[0]).toMatchObject({ name: 'app', kind: 'stapel', from: { kind: 'external', ref: 'alpine:3.18' }, shell: { install: ['make'] } });
}

describe('real-file variations', () => {
  it('parses LF with a final newline (baseline)', () => {
    expectTheConfig(`${LINES.join('\n')}\n`);
  });

  it('parses CRLF line endings, and reports positions in the original file', () => {
    expectTheConfig(`${LINES.join('\r\n')}\r\n`);
    const broken = ['project: demo', 'configVersion: 1', '---', 'image: app', 'from: alpine', 'shel: {}'].join('\r\n');
    const [problem] = problemsOf(broken);
    expect(problem).toMatchObject({ code: 'UNKNOWN_KEY', line: 6, column: 1 });
    const value = ['project: demo', 'configVersion: 1', '---', 'image: app', 'from: alpine', 'git:', '- add: src', '  to: /app'].join('\r\n');
    expect(problemsOf(value)[0]).toMatchObject({ code: 'PATH_NOT_ABSOLUTE', line: 7, column: 8 });
  });

  it('parses a file without a final newline', () => {
    expectTheConfig(LINES.join('\n'));
  });

  it('parses leading and trailing document markers', () => {
    expectTheConfig(`---\n${LINES.join('\n')}\n---\n`);
    expectTheConfig(`---\n${LINES.join('\n')}\n---`);
  });

  it('parses `--- ` markers with trailing spaces and tabs', () => {
    expectTheConfig(LINES.join('\n').replace('---', '---   ') + '\n--- \t\n');
  });

  it('ignores comment-only and empty documents', () => {
    const source = ['# werf config', '---', ...LINES.slice(0, 2), '---', '# just a comment', '# another', '---', '', '---', ...LINES.slice(3), '---', '---'].join('\n');
    expectTheConfig(source);
  });

  it('parses one-space indentation', () => {
    expectTheConfig(['project: demo', 'configVersion: 1', '---', 'image: app', 'from: alpine:3.18', 'shell:', ' install:', ' - make'].join('\n'));
  });

  it('parses non-ASCII comments and keeps columns after them', () => {
    const source = ['# Конфигурация проекта — 配置 🚀', 'project: demo # имя', 'configVersion: 1', '---', 'image: app # приложение', 'from: alpine:3.18', 'shell:', '  install:', '  - make # собрать'].join('\n');
    expectTheConfig(source);
    const broken = ['project: demo # имя 🚀', 'configVersion: 1', '---', 'image: app', 'from: alpine', 'shel: {} # ошибка'].join('\n');
    expect(problemsOf(broken)[0]).toMatchObject({ code: 'UNKNOWN_KEY', line: 6, column: 1 });
  });

  it('parses a file starting with a byte order mark, with columns not counting it', () => {
    expectTheConfig(`\uFEFF${LINES.join('\n')}\n`);
    expect(problemsOf('\uFEFFproject: Demo\nconfigVersion: 1\n')[0]).toMatchObject({ code: 'INVALID_PROJECT_NAME', line: 1, column: 10 });
  });

  it('parses an empty file as a config without meta', () => {
    expect(problemsOf('')).toMatchObject([{ code: 'META_MISSING', line: 1, column: 1 }]);
    expect(problemsOf('# nothing here\n')).toMatchObject([{ code: 'META_MISSING', line: 1, column: 1 }]);
  });

  it('accepts a meta-only config (deploy-only projects)', () => {
    expect(expectOk('project: demo\nconfigVersion: 1\n').images).toEqual([]);
  });

  it('expands anchors, aliases and merge keys within a document', () => {
    const config = expectOk(
      [
        'project: demo',
        'configVersion: 1',
        '---',
        'image: a',
        'from: alpine',
        'shell:',
        '  install: &build [make, make install]',
        '  setup: *build',
        'docker:',
        '  LABEL: &labels',
        '    LANG: C.UTF-8',
        '    TZ: UTC',
        '  ENV:',
        '    <<: *labels',
        '    TZ: Europe/Berlin',
      ].join('\n'),
    );
    expect(config.images[0]).toMatchObject({
      shell: { install: ['make', 'make install'], setup: ['make', 'make install'] },
      docker: { env: { LANG: 'C.UTF-8', TZ: 'Europe/Berlin' } },
    });
  });

  it('reports an alias to an anchor of another document (anchors are per document)', () => {
    const problems = problemsOf(['project: demo', 'configVersion: 1', 'build: {cacheVersion: &v "1"}', '---', 'image: a', 'from: alpine', 'cacheVersion: *v'].join('\n'));
    expect(problems).toMatchObject([{ code: 'YAML_SYNTAX', line: 7, column: 15, message: 'alias *v refers to an unknown anchor' }]);
  });

  it('keeps the source spelling of numbers and booleans where werf expects strings', () => {
    const config = expectOk(
      ['project: demo', 'configVersion: 1', '---', 'image: a', 'from: alpine', 'fromCacheVersion: 1.10', 'docker:', '  ENV: {A: 010, B: yes, C: 0x1F}', '  EXPOSE: [8080]'].join('\n'),
    );
    expect(config.images[0]).toMatchObject({ fromCacheVersion: '1.10', docker: { env: { A: '010', B: 'yes', C: '0x1F' }, expose: ['8080'] } });
  });

  it('stops runaway alias expansion with a problem instead of hanging', () => {
    const lines = ['project: demo', 'configVersion: 1', '---', 'image: a', 'from: alpine', 'cacheVersion: &c x', 'shell:'];
    lines.push(`  install: [${Array.from({ length: 2500 }, () => '*c').join(', ')}]`);
    expect(problemsOf(lines.join('\n'))).toMatchObject([{ code: 'TOO_MANY_ALIASES', line: 8 }]);
  });

  it('survives deeply nested input', () => {
    const deep = `project: demo\nconfigVersion: 1\nbuild: ${'['.repeat(20000)}${']'.repeat(20000)}\n`;
    const problems = problemsOf(deep);
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) expect(p.line).toBeGreaterThanOrEqual(1);
  });
});
