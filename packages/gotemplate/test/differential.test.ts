/**
 * Differential tests: every case renders here and in real Go (text/template + sprig, via the
 * oracle in ../oracle) and must give the same output or both fail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CASES, DATA } from './cases.js';
import { Oracle, buildOracle, encodeData, oracleUnavailableReason } from './support/oracle.js';
import { isNewerGoOnly, renderHere } from './support/render.js';

const unavailable = oracleUnavailableReason();
if (unavailable !== undefined && process.env.CI === 'true') {
  throw new Error(`differential tests need Go and sprig in CI: ${unavailable}`);
}

describe.skipIf(unavailable !== undefined)(`differential against Go text/template + sprig${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let oracle: Oracle;
  const dataJson = encodeData(DATA);
  beforeAll(() => {
    oracle = new Oracle(buildOracle());
  });
  let failures = 0;
  let sameMessage = 0;
  afterAll(() => {
    oracle.close();
    console.log(`hand-written: ${CASES.length} cases, ${failures} failing in both (${sameMessage} with Go's exact message)`);
  });

  it.each(CASES.map((c, i) => [i, c] as const))('case %i: %s', async (_i, template) => {
    const go = await oracle.render({ template, dataJson });
    const here = renderHere(template, DATA);
    if (go.ok) {
      expect(here).toEqual({ ok: true, out: go.out });
    } else if (!isNewerGoOnly(go.err)) {
      expect(here.ok, `Go failed with: ${go.err}; we rendered ${JSON.stringify(here)}`).toBe(false);
      failures++;
      if (!here.ok && here.err === go.err) sameMessage++;
      else if (process.env.GOTEMPLATE_FUZZ_VERBOSE && !here.ok) console.log(`message differs: ${template}\n  go:   ${go.err}\n  here: ${here.err}`);
    }
  });
});
