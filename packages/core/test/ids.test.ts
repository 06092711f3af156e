import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  CoreError,
  STAPEL_STAGE_NAMES,
  compareStageIds,
  formatStageId,
  isStageDigest,
  parseStageDigest,
  parseStageId,
  parseStageName,
  stageId,
  tryParseStageId,
} from '@strata/core';

const DIGEST = '3dbd6d44689162ca0ebbdef149f0c467c9ba147c6e9a7759164efc0a';

describe('StageDigest', () => {
  it('accepts 56 lowercase hex characters only', () => {
    expect(parseStageDigest(DIGEST)).toBe(DIGEST);
    expect(isStageDigest(DIGEST)).toBe(true);
    for (const bad of [DIGEST.toUpperCase(), DIGEST.slice(1), `${DIGEST}0`, DIGEST.replace('3', 'g'), '']) {
      expect(isStageDigest(bad)).toBe(false);
      expect(() => parseStageDigest(bad)).toThrow(CoreError);
    }
    try {
      parseStageDigest('nope');
    } catch (error) {
      expect(error).toBeInstanceOf(CoreError);
      expect((error as CoreError).code).toBe('INVALID_STAGE_DIGEST');
      expect((error as CoreError).data).toEqual({ value: 'nope' });
    }
  });
});

describe('StageId', () => {
  it('parses and formats DIGEST-TIMESTAMP_MILLISEC', () => {
    const id = parseStageId(`${DIGEST}-1589714365467`);
    expect(id).toEqual({ digest: DIGEST, timestampMs: 1589714365467 });
    expect(formatStageId(id)).toBe(`${DIGEST}-1589714365467`);
  });

  it('rejects other tags', () => {
    for (const bad of [DIGEST, `${DIGEST}-`, `${DIGEST}-01`, `${DIGEST}--1`, `${DIGEST}-1.5`, 'latest', `${DIGEST}-99999999999999999`]) {
      expect(tryParseStageId(bad)).toBeUndefined();
      expect(() => parseStageId(bad)).toThrow(expect.objectContaining({ code: 'INVALID_STAGE_ID' }));
    }
    expect(() => stageId(parseStageDigest(DIGEST), -1)).toThrow(CoreError);
    expect(() => stageId(parseStageDigest(DIGEST), 1.5)).toThrow(CoreError);
  });

  it('round-trips any valid id', () => {
    const hex = fc.constantFrom(...'0123456789abcdef');
    fc.assert(
      fc.property(fc.array(hex, { minLength: 56, maxLength: 56 }), fc.nat({ max: Number.MAX_SAFE_INTEGER }), (chars, ts) => {
        const id = stageId(parseStageDigest(chars.join('')), ts);
        expect(parseStageId(formatStageId(id))).toEqual(id);
      }),
    );
  });

  it('orders oldest first', () => {
    const d = parseStageDigest(DIGEST);
    const ids = [stageId(d, 3), stageId(d, 1), stageId(d, 2)].sort(compareStageIds);
    expect(ids.map((i) => i.timestampMs)).toEqual([1, 2, 3]);
  });
});

describe('stage names', () => {
  it('lists the stapel conveyor in SPEC order', () => {
    expect(STAPEL_STAGE_NAMES).toEqual([
      'from', 'beforeInstall', 'dependenciesBeforeInstall', 'gitArchive', 'install', 'dependenciesAfterInstall',
      'beforeSetup', 'dependenciesBeforeSetup', 'setup', 'dependenciesAfterSetup', 'gitCache', 'gitLatestPatch',
      'dockerInstructions', 'imageSpec',
    ]);
    expect(parseStageName('setup')).toBe('setup');
    expect(() => parseStageName('ansible')).toThrow(expect.objectContaining({ code: 'INVALID_STAGE_NAME' }));
  });
});
