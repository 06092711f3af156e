import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeStageDigest, planConveyor, type StageDigestResult } from '../src/conveyor/index.js';
import {
  compareInputs,
  decodeInputsRecord,
  DIGEST_INPUTS_LABEL,
  encodeInputsRecord,
  findRecordedInputs,
  formatDifference,
  formatInputs,
  inputsRecord,
} from '../src/explain/index.js';
import { shell, stapelImage } from './fixtures/digest/kit.js';

function beforeInstall(commands: string[], prevDigest = 'f'.repeat(56)): Extract<StageDigestResult, { kind: 'digest' }> {
  const conveyor = planConveyor(stapelImage({ shell: shell({ beforeInstall: commands }) }));
  const result = computeStageDigest(conveyor, 'beforeInstall', { prev: { digest: prevDigest, gitRelated: false } });
  if (result.kind !== 'digest') throw new Error('expected a digest');
  return result;
}

describe('compareInputs', () => {
  it('is undefined for identical inputs', () => {
    const a = beforeInstall(['apk add curl']);
    expect(compareInputs(a.inputs, beforeInstall(['apk add curl']).inputs)).toBeUndefined();
  });

  it('names the first changed leaf with both values', () => {
    const now = beforeInstall(['apk add curl', 'apk add git']);
    const before = beforeInstall(['apk add wget', 'apk add jq']);
    const difference = compareInputs(now.inputs, before.inputs);
    expect(difference).toEqual({
      path: ['stage dependencies', 'command[0]'],
      kind: 'changed',
      current: '"apk add curl"',
      previous: '"apk add wget"',
    });
    expect(formatDifference(difference ?? { path: [], kind: 'changed' })).toBe(
      'stage dependencies › command[0]: "apk add wget" → "apk add curl"',
    );
  });

  it('reports an added command', () => {
    const difference = compareInputs(beforeInstall(['a', 'b']).inputs, beforeInstall(['a']).inputs);
    expect(difference).toMatchObject({ path: ['stage dependencies', 'command[1]'], kind: 'added', current: '"b"' });
  });

  it('blames the previous stage when only it changed', () => {
    const difference = compareInputs(beforeInstall(['a'], '1'.repeat(56)).inputs, beforeInstall(['a'], '2'.repeat(56)).inputs);
    expect(difference?.path).toEqual(['previous stage digest']);
  });

  it('works against a stored record, which survives a round trip through a label', () => {
    const before = beforeInstall(['apk add wget']);
    const label = encodeInputsRecord(before.inputs);
    const record = decodeInputsRecord(label);
    expect(record).toEqual(inputsRecord(before.inputs));
    if (!record) return;
    expect(compareInputs(beforeInstall(['apk add wget']).inputs, record)).toBeUndefined();
    expect(compareInputs(beforeInstall(['apk add curl']).inputs, record)).toMatchObject({
      path: ['stage dependencies', 'command[0]'],
      previous: '"apk add wget"',
    });
  });

  it('keeps long and binary values as fingerprints only', () => {
    const long = 'x'.repeat(500);
    const record = inputsRecord([
      { label: 'long', value: long },
      { label: 'bytes', value: Uint8Array.from([1, 2, 3]) },
    ]);
    expect(record.inputs[0]?.v).toBeUndefined();
    expect(record.inputs[1]?.v).toBeUndefined();
    const difference = compareInputs([{ label: 'long', value: `${long}y` }, { label: 'bytes', value: Uint8Array.from([1, 2, 3]) }], record);
    expect(difference?.path).toEqual(['long']);
    expect(difference?.previous).toMatch(/^<sha256 [0-9a-f]{16}…>$/);
  });

  it('finds the record among a stored stage\'s labels', () => {
    const before = beforeInstall(['make']);
    const labels = { werf: 'project', [DIGEST_INPUTS_LABEL]: encodeInputsRecord(before.inputs) };
    expect(findRecordedInputs(labels)).toEqual(inputsRecord(before.inputs));
    expect(findRecordedInputs({ werf: 'project' })).toBeUndefined();
  });

  it('rejects text that is not a record', () => {
    expect(decodeInputsRecord('{"version":2,"inputs":[]}')).toBeUndefined();
    expect(decodeInputsRecord('not json')).toBeUndefined();
  });
});

describe('formatInputs', () => {
  it('prints labels, values and parts', () => {
    const lines = formatInputs(beforeInstall(['apk add curl']).inputs);
    expect(lines[0]).toBe('build cache version = "1.2"');
    expect(lines).toContain('  command[0] = "apk add curl"');
  });
});

describe('compareInputs properties', () => {
  const leaves = fc.uniqueArray(fc.record({ label: fc.string({ minLength: 1 }), value: fc.string() }), {
    minLength: 1,
    maxLength: 8,
    selector: (entry) => entry.label,
  });

  it('finds exactly the changed input, live or from a stored record', () => {
    fc.assert(
      fc.property(leaves, fc.nat(), fc.string(), (inputs, at, replacement) => {
        const index = at % inputs.length;
        const target = inputs[index];
        if (!target || target.value === replacement) return;
        const changed = inputs.map((entry, position) => (position === index ? { ...entry, value: replacement } : entry));
        const record = decodeInputsRecord(encodeInputsRecord(inputs));
        expect(record).toBeDefined();
        if (!record) return;
        expect(compareInputs(inputs, record)).toBeUndefined();
        const live = compareInputs(changed, inputs);
        const stored = compareInputs(changed, record);
        expect(live).toMatchObject({ path: [target.label], kind: 'changed' });
        expect(stored).toMatchObject({ path: [target.label], kind: 'changed' });
      }),
    );
  });
});
