/** Generated differential tests: random templates × random data, Go vs this engine. */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Oracle, buildOracle, encodeData, oracleUnavailableReason } from './support/oracle.js';
import { dataArb, templateArb } from './support/generate.js';
import { isNewerGoOnly, renderHere } from './support/render.js';

const unavailable = oracleUnavailableReason();
if (unavailable !== undefined && process.env.CI === 'true') {
  throw new Error(`generated differential tests need Go and sprig in CI: ${unavailable}`);
}

const RUNS = Number(process.env.GOTEMPLATE_FUZZ_RUNS ?? 3000);

describe.skipIf(unavailable !== undefined)(`generated templates against Go${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let oracle: Oracle;
  beforeAll(() => {
    oracle = new Oracle(buildOracle());
  });
  afterAll(() => oracle.close());

  it(`renders ${RUNS} random templates like Go`, async () => {
    let goFailures = 0;
    let sameMessage = 0;
    await fc.assert(
      fc.asyncProperty(templateArb, dataArb, async (template, data) => {
        const go = await oracle.render({ template, dataJson: encodeData(data) });
        const here = renderHere(template, data);
        if (go.ok) {
          expect(here).toEqual({ ok: true, out: go.out });
        } else if (!isNewerGoOnly(go.err)) {
          goFailures++;
          expect(here.ok, `Go failed with: ${go.err}; we rendered ${JSON.stringify(here)}`).toBe(false);
          if (!here.ok && here.err === go.err) sameMessage++;
          else if (process.env.GOTEMPLATE_FUZZ_VERBOSE && !here.ok) console.log(`message differs: ${JSON.stringify(template)}\n  go:   ${go.err}\n  here: ${here.err}`);
        }
      }),
      // A fixed seed keeps CI deterministic; set GOTEMPLATE_FUZZ_SEED to explore other inputs.
      { numRuns: RUNS, seed: Number(process.env.GOTEMPLATE_FUZZ_SEED ?? 20261122) },
    );
    console.log(`generated: ${RUNS} runs, ${RUNS - goFailures} rendered identically, ${goFailures} failed in both (${sameMessage} with the identical message)`);
    // The generator must exercise successful renders, not only errors.
    expect(goFailures).toBeLessThan(RUNS * 0.8);
    // Failures must carry Go's message, not just fail.
    expect(sameMessage).toBeGreaterThanOrEqual(goFailures * 0.95);
  }, 300_000);
});
