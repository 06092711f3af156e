/**
 * Property-based tests: mutated real configs and random YAML-ish text never make the parser throw,
 * every problem points inside the file (problems in file order), results are all-or-nothing, and a
 * valid config is plain JSON data.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ParseResult } from '@strata/config';

const CORPUS = join(import.meta.dirname, 'corpus');
const SEEDS = readdirSync(CORPUS, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => readFileSync(join(CORPUS, e.name, 'werf.yaml'), 'utf8'));

const KEYS = ['image', 'artifact', 'from', 'fromImage', 'fromArtifact', 'git', 'add', 'to', 'shell', 'install', 'setup', 'import', 'before', 'after', 'dependencies', 'imports', 'type', 'docker', 'ENV', 'CMD', 'mount', 'dockerfile', 'context', 'args', 'project', 'configVersion', 'build', 'platform', 'staged', 'final', 'imageSpec', 'config', 'cleanup', 'keepPolicies', 'ansible', 'url', 'secrets', 'contextAddFiles', '<<'];
const SCALARS = ['123', '1.10', 'true', 'no', '~', '', '[a, b]', '{x: 1}', '"quoted"', "'single'", '- item', '/abs', '../up', 'scratch', '*alias', '&anchor v', '!!str x', '|', '>-', '{{ .Values.x }}', 'linux/arm64', 'ImageName', 'a'.repeat(60), '\t', '@', '%YAML 1.2', 'null', '0x1F', '-1', 'é中🚀'];
const SPLICE = [':', '-', ' ', '  ', '\t', '\n', '\r\n', '\r', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', "'", '"', '%', '@', '`', ',', '?', '---', '...', '\uFEFF', 'é', '🚀', '\u0000', '\\'];

type Mutation = (lines: string[], r: number[]) => string[];

function pick<T>(items: readonly T[], r: number): T {
  return items[Math.floor(r * items.length) % items.length] as T;
}

const MUTATIONS: Mutation[] = [
  // delete a line
  (lines, [a = 0]) => lines.filter((_, i) => i !== Math.floor(a * lines.length)),
  // duplicate a line (duplicate keys, repeated list items)
  (lines, [a = 0]) => {
    const i = Math.floor(a * lines.length);
    return [...lines.slice(0, i + 1), lines[i] ?? '', ...lines.slice(i + 1)];
  },
  // rename a key
  (lines, [a = 0, b = 0]) => lines.map((line, i) => (i === Math.floor(a * lines.length) ? line.replace(/^(\s*-?\s*)[^\s:#]+:/, `$1${pick(KEYS, b)}:`) : line)),
  // change a value's type
  (lines, [a = 0, b = 0]) => lines.map((line, i) => (i === Math.floor(a * lines.length) ? line.replace(/:(\s.*)?$/, `: ${pick(SCALARS, b)}`) : line)),
  // splice characters at a random position
  (lines, [a = 0, b = 0, c = 0]) => {
    const text = lines.join('\n');
    const at = Math.floor(a * (text.length + 1));
    return (text.slice(0, at) + pick(SPLICE, b) + pick(SPLICE, c) + text.slice(at)).split('\n');
  },
  // swap two documents
  (lines, [a = 0, b = 0]) => {
    const docs = lines.join('\n').split(/^---.*$/m);
    const i = Math.floor(a * docs.length);
    const j = Math.floor(b * docs.length);
    [docs[i], docs[j]] = [docs[j] ?? '', docs[i] ?? ''];
    return docs.join('---').split('\n');
  },
  // change indentation
  (lines, [a = 0, b = 0]) => lines.map((line, i) => (i === Math.floor(a * lines.length) ? ' '.repeat(Math.floor(b * 5)) + line.trimStart() : line)),
  // insert a document separator
  (lines, [a = 0]) => {
    const i = Math.floor(a * lines.length);
    return [...lines.slice(0, i), '---', ...lines.slice(i)];
  },
];

/** The invariants every parse result must satisfy. */
function checkResult(source: string, result: ParseResult): void {
  const body = source.startsWith('\uFEFF') ? source.slice(1) : source;
  const lines = body.split('\n');
  const all = result.ok ? result.warnings : result.problems;
  if (result.ok) {
    expect(result.warnings.every((w) => w.severity === 'warning')).toBe(true);
    expect(typeof result.config.project).toBe('string');
  } else {
    expect(result.problems.some((p) => p.severity === 'error')).toBe(true);
    expect(result).not.toHaveProperty('config');
  }
  if (result.ok) expect(JSON.parse(JSON.stringify(result.config))).toEqual(result.config);
  const order = all.map((p) => [p.line, p.column] as const);
  const sorted = [...order].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  expect(order).toEqual(sorted);
  for (const problem of all) {
    expect(problem.line).toBeGreaterThanOrEqual(1);
    expect(problem.line).toBeLessThanOrEqual(lines.length);
    expect(problem.column).toBeGreaterThanOrEqual(1);
    expect(problem.column).toBeLessThanOrEqual((lines[problem.line - 1] ?? '').length + 1);
    expect(problem.message.length).toBeGreaterThan(0);
    expect(problem.file).toBe('werf.yaml');
    for (const related of problem.related ?? []) {
      expect(related.line).toBeGreaterThanOrEqual(1);
      expect(related.line).toBeLessThanOrEqual(lines.length);
      expect(related.column).toBeGreaterThanOrEqual(1);
      expect(related.column).toBeLessThanOrEqual((lines[related.line - 1] ?? '').length + 1);
    }
  }
}

function parse(source: string): ParseResult {
  return parseConfig(source, { path: 'werf.yaml', allowContextAddFiles: true });
}

describe('parser properties', () => {
  it('mutated real configs never throw and locate every problem inside the file', () => {
    const mutation = fc.record({
      seed: fc.nat({ max: SEEDS.length - 1 }),
      steps: fc.array(fc.tuple(fc.nat({ max: MUTATIONS.length - 1 }), fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 3, maxLength: 3 })), {
        minLength: 1,
        maxLength: 4,
      }),
    });
    fc.assert(
      fc.property(mutation, ({ seed, steps }) => {
        let lines = (SEEDS[seed] ?? '').split('\n');
        for (const [index, randoms] of steps) lines = (MUTATIONS[index] as Mutation)(lines, randoms);
        const source = lines.join('\n');
        const result = parse(source);
        checkResult(source, result);
      }),
      { numRuns: 1600 },
    );
  });

  it('random YAML-ish text never throws and locates every problem inside the file', () => {
    const token = fc.oneof(
      fc.constantFrom(...KEYS.map((k) => `${k}:`), ...SCALARS, ...SPLICE),
      fc.string({ maxLength: 6 }),
      fc.constantFrom('project: demo\nconfigVersion: 1\n', '\n---\nimage: a\nfrom: alpine\n'),
    );
    fc.assert(
      fc.property(fc.array(token, { maxLength: 40 }), (tokens) => {
        const source = tokens.join(' ');
        checkResult(source, parse(source));
      }),
      { numRuns: 800 },
    );
  });

  it('valid corpus configs stay valid and identical when re-parsed', () => {
    for (const seed of SEEDS) {
      const first = parse(seed);
      expect(first.ok).toBe(true);
      expect(parse(seed)).toEqual(first);
    }
  });
});
