/**
 * Test kit for config tests. Fixtures mark the expected problem position with `«` (removed before
 * parsing), so each test states exactly where the problem must be reported.
 */
import { expect } from 'vitest';
import { parseConfig, type ConfigProblem, type ConfigProblemCode, type ParseConfigOptions, type ResolvedConfig } from '@strata/config';

export const MARK = '«';

/** Removes a leading newline (template literal convenience). */
export function text(source: string): string {
  return source.startsWith('\n') ? source.slice(1) : source;
}

/** The 1-based line/column of every marker, and the text without markers. */
export function unmark(source: string): { text: string; marks: { line: number; column: number }[] } {
  const marks: { line: number; column: number }[] = [];
  let out = '';
  let line = 1;
  let column = 1;
  for (const char of source) {
    if (char === MARK) {
      marks.push({ line, column });
      continue;
    }
    out += char;
    if (char === '\n') {
      line++;
      column = 1;
    } else {
      column += char.length;
    }
  }
  return { text: out, marks };
}

/** A meta document to start fixtures with. */
export const META = 'project: demo\nconfigVersion: 1\n';

export function parse(source: string, options: Partial<ParseConfigOptions> = {}) {
  return parseConfig(source, { path: 'werf.yaml', ...options });
}

export function expectOk(source: string, options: Partial<ParseConfigOptions> = {}): ResolvedConfig {
  const result = parse(source, options);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.problems.map((p) => `${p.line}:${p.column} ${p.code} ${p.message}`).join('\n')}`);
  return result.config;
}

export function problemsOf(source: string, options: Partial<ParseConfigOptions> = {}): ConfigProblem[] {
  const result = parse(source, options);
  if (result.ok) throw new Error('expected problems, but the config is valid');
  return result.problems;
}

/**
 * Parses a fixture with one `«` marker and asserts a problem with `code` exactly at the marker.
 * Returns that problem for further assertions.
 */
export function expectProblemAt(
  fixture: string,
  code: ConfigProblemCode,
  expected: { path?: string; pathSegments?: (string | number)[]; hint?: string | RegExp; message?: RegExp } = {},
  options: Partial<ParseConfigOptions> = {},
): ConfigProblem {
  const { text: source, marks } = unmark(text(fixture));
  expect(marks, 'fixture needs exactly one « marker').toHaveLength(1);
  const mark = marks[0] as { line: number; column: number };
  const problems = problemsOf(source, options);
  const found = problems.find((p) => p.code === code && p.line === mark.line && p.column === mark.column);
  if (!found) {
    throw new Error(
      `no ${code} at ${mark.line}:${mark.column}; got:\n${problems.map((p) => `  ${p.line}:${p.column} ${p.code} ${p.message} [${p.path}]`).join('\n')}`,
    );
  }
  expect(found.file).toBe('werf.yaml');
  expect(found.severity).toBe('error');
  if (expected.path !== undefined) expect(found.path).toBe(expected.path);
  if (expected.pathSegments !== undefined) expect(found.pathSegments).toEqual(expected.pathSegments);
  if (expected.hint instanceof RegExp) expect(found.hint).toMatch(expected.hint);
  else if (expected.hint !== undefined) expect(found.hint).toBe(expected.hint);
  if (expected.message !== undefined) expect(found.message).toMatch(expected.message);
  return found;
}
