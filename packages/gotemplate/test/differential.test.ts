/**
 * Differential tests: every case renders here and in real Go (text/template + sprig, via the
 * oracle in ../oracle) and must give the same output or both fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TemplateError, TemplateSet, createWerfFunctions, toGoValue } from '@strata/gotemplate';
import { CASES, DATA } from './cases.js';
import { Oracle, buildOracle, encodeData, oracleUnavailableReason } from './support/oracle.js';

const unavailable = oracleUnavailableReason();
if (unavailable !== undefined && process.env.CI === 'true') {
  throw new Error(`differential tests need Go and sprig in CI: ${unavailable}`);
}

/**
 * Cases where Debian's Go (1.19) is older than the Go werf is built with: documented behaviour of
 * newer Go that this engine follows (covered by unit tests instead).
 */
export const NEWER_GO: ReadonlySet<string> = new Set(['{{ range .n }}{{ . }}{{ end }}']);

export type Outcome = { ok: true; out: string } | { ok: false; err: string };

/** Renders like the oracle does: sprig + include/tpl/required/fromYaml, template named "t". */
export function renderHere(template: string, data: unknown, definitions: { name: string; text: string }[] = []): Outcome {
  try {
    const set = new TemplateSet();
    set.addFuncs(createWerfFunctions(set, {}));
    for (const d of definitions) set.parse(d.name, d.text);
    set.parse('t', template);
    return { ok: true, out: set.execute('t', toGoValue(data)) };
  } catch (e) {
    if (e instanceof TemplateError) return { ok: false, err: e.message };
    throw e;
  }
}

describe.skipIf(unavailable !== undefined)(`differential against Go text/template + sprig${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let oracle: Oracle;
  const dataJson = encodeData(DATA);
  beforeAll(() => {
    oracle = new Oracle(buildOracle());
  });
  afterAll(() => oracle.close());

  const cases = CASES.filter((c) => !NEWER_GO.has(c));
  it.each(cases.map((c, i) => [i, c] as const))('case %i: %s', async (_i, template) => {
    const go = await oracle.render({ template, dataJson });
    const here = renderHere(template, DATA);
    if (go.ok) {
      expect(here).toEqual({ ok: true, out: go.out });
    } else {
      expect(here.ok, `Go failed with: ${go.err}; we rendered ${JSON.stringify(here)}`).toBe(false);
    }
  });
});
