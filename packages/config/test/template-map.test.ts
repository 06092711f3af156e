/**
 * Properties of tracing problems in rendered YAML back to template lines: templating a config so
 * that it renders to exactly the original text must leave every problem where it was (when its
 * template line is known at all), and never move it to a wrong line.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig, type ConfigProblem } from '@strata/config';

const CORPUS = join(import.meta.dirname, 'corpus');
// Seeds without templates, and without merge keys: a mutation can make a merge key refer to its own
// anchor, whose outcome ("nested too deeply", or thousands of problems) depends on the stack depth
// left at the time, so the two parses compared here could disagree for reasons unrelated to mapping.
const SEEDS = readdirSync(CORPUS, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !/\{\{|<<:/.test(readFileSync(join(CORPUS, e.name, 'werf.yaml'), 'utf8')))
  .map((e) => readFileSync(join(CORPUS, e.name, 'werf.yaml'), 'utf8').replace(/^\uFEFF/, '').replace(/\r\n/g, '\n'));

const TYPOS = ['shel', 'fromm', 'imag', 'dockerfil', 'gti', 'too', 'ad', 'instal', 'stup', 'ENVV'];

/** A corpus config with a few lines broken: a key misspelled, a line dropped or duplicated, a path made relative. */
const brokenConfig = fc
  .tuple(fc.constantFrom(...SEEDS), fc.array(fc.tuple(fc.nat(), fc.nat(3), fc.nat()), { minLength: 1, maxLength: 4 }))
  .map(([seed, edits]) => {
    let lines = seed.split('\n');
    for (const [at, kind, pick] of edits) {
      const i = at % Math.max(1, lines.length);
      const line = lines[i] ?? '';
      if (kind === 0) lines[i] = line.replace(/^(\s*-?\s*)[A-Za-z]+:/, `$1${TYPOS[pick % TYPOS.length] ?? 'x'}:`);
      else if (kind === 1) lines = [...lines.slice(0, i), ...lines.slice(i + 1)];
      else if (kind === 2) lines = [...lines.slice(0, i + 1), line, ...lines.slice(i + 1)];
      else lines[i] = line.replace(/: \/(\S)/, ': $1');
    }
    return lines.join('\n');
  });

function problemsOf(text: string): ConfigProblem[] {
  const result = parseConfig(text, { path: 'werf.yaml' });
  return result.ok ? result.warnings : result.problems;
}

/** Every simple scalar value written as a template action that renders it back: `to: {{ "/app" }}`. */
function templateValues(text: string): string {
  return text
    .split('\n')
    .map((line) => line.replace(/^(\s*(?:- )?[A-Za-z][\w-]*: )([\w./:-]+)$/, (_, key: string, value: string) => `${key}{{ ${JSON.stringify(value)} }}`))
    .join('\n');
}

describe('rendered-to-template positions', () => {
  it('a template action on the first line keeps every problem at its place, and unique lines are always traced', () => {
    const prefix = '{{/* templated */}}';
    fc.assert(
      fc.property(brokenConfig, (text) => {
        const plain = problemsOf(text);
        const templated = problemsOf(prefix + text);
        expect(templated.map((p) => [p.code, p.rendered?.line, p.rendered?.column])).toEqual(plain.map((p) => [p.code, p.line, p.column]));
        const lines = text.split('\n');
        templated.forEach((problem, i) => {
          const original = plain[i] as ConfigProblem;
          const lineText = lines[original.line - 1] ?? '';
          const unique = lineText.trim() !== '' && lineText.trim() !== '---' && lines.filter((l) => l.trim() === lineText.trim()).length === 1;
          if (unique) expect(problem.rendered?.mapped, `line ${original.line} "${lineText}" is unique`).toBe(true);
          if (problem.rendered?.mapped) {
            expect([problem.file, problem.line, problem.column]).toEqual(['werf.yaml', original.line, original.column + (original.line === 1 ? prefix.length : 0)]);
          }
        });
      }),
      { numRuns: 50 },
    );
  });

  it('values written as actions never move a problem to another line or column', () => {
    let mapped = 0;
    let total = 0;
    fc.assert(
      fc.property(brokenConfig, (text) => {
        const plain = problemsOf(text);
        const source = templateValues(text);
        const templated = problemsOf(source);
        expect(templated.map((p) => [p.code, p.rendered?.line, p.rendered?.column])).toEqual(
          plain.map((p) => [p.code, ...(source.includes('{{') ? [p.line, p.column] : [undefined, undefined])]),
        );
        templated.forEach((problem, i) => {
          const original = plain[i] as ConfigProblem;
          total++;
          if (!problem.rendered?.mapped) return;
          mapped++;
          expect([problem.line, problem.column], `${original.code} at ${original.line}:${original.column}`).toEqual([original.line, original.column]);
        });
      }),
      { numRuns: 50 },
    );
    expect(mapped / total).toBeGreaterThan(0.5);
  });
});
