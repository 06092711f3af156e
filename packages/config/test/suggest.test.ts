import { describe, expect, it } from 'vitest';
import { closestMatch, editDistance } from '../src/suggest.js';

describe('editDistance', () => {
  it('counts insertions, deletions, substitutions and adjacent transpositions', () => {
    expect(editDistance('shell', 'shell')).toBe(0);
    expect(editDistance('shel', 'shell')).toBe(1);
    expect(editDistance('shelll', 'shell')).toBe(1);
    expect(editDistance('shall', 'shell')).toBe(1);
    expect(editDistance('sehll', 'shell')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('closestMatch', () => {
  const keys = ['from', 'fromImage', 'fromCacheVersion', 'git', 'shell', 'import', 'VOLUME', 'includePaths'];
  it('prefers a case-insensitive match, then a prefix, then the nearest key', () => {
    expect(closestMatch('volume', keys)).toBe('VOLUME');
    expect(closestMatch('fromCache', keys)).toBe('fromCacheVersion');
    expect(closestMatch('imprt', keys)).toBe('import');
    expect(closestMatch('inlcudePaths', keys)).toBe('includePaths');
  });
  it('suggests nothing for unrelated words', () => {
    expect(closestMatch('banana', keys)).toBeUndefined();
    expect(closestMatch('x', keys)).toBeUndefined();
  });
});
