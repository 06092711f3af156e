import { describe, expect, it } from 'vitest';
import { parseConfig } from '@strata/config';
import { CoreError, formatPlan, imageGraph, planBuild, type ImageNode } from '@strata/core';

const node = (name: string, dependsOn: string[] = [], isArtifact = false): ImageNode => ({ name, dependsOn, isArtifact });

describe('planBuild', () => {
  it('groups images into sets of independent images, config order inside a set', () => {
    const plan = planBuild([node('app', ['common-base', 'jq']), node('common-base'), node('jq', [], true), node('tool', ['common-base'])]);
    expect(plan.sets.map((set) => set.map((n) => n.name))).toEqual([['common-base', 'jq'], ['app', 'tool']]);
    expect(plan.images.map((n) => n.name)).toEqual(['common-base', 'jq', 'app', 'tool']);
  });

  it('places an image one set after its deepest dependency', () => {
    const plan = planBuild([node('d', ['a', 'c']), node('c', ['b']), node('b', ['a']), node('a')]);
    expect(plan.sets.map((set) => set.map((n) => n.name))).toEqual([['a'], ['b'], ['c'], ['d']]);
  });

  it('restricts to requested images and their transitive dependencies', () => {
    const plan = planBuild([node('a'), node('b', ['a']), node('c', ['b']), node('x')], { only: ['c'] });
    expect(plan.images.map((n) => n.name)).toEqual(['a', 'b', 'c']);
  });

  it('reports a cycle with its full path', () => {
    const attempt = (): unknown => planBuild([node('a', ['b']), node('b', ['c']), node('c', ['a']), node('x')]);
    expect(attempt).toThrow(CoreError);
    expect(attempt).toThrow('image dependency cycle: a -> b -> c -> a');
    try {
      attempt();
    } catch (error) {
      expect((error as CoreError).code).toBe('DEPENDENCY_CYCLE');
      expect((error as CoreError).data).toEqual({ cycle: ['a', 'b', 'c', 'a'] });
    }
    expect(() => planBuild([node('self', ['self'])])).toThrow('self -> self');
  });

  it('rejects unknown images', () => {
    expect(() => planBuild([node('a', ['ghost'])])).toThrow(expect.objectContaining({ code: 'UNKNOWN_IMAGE', data: { image: 'ghost', neededBy: 'a' } }));
    expect(() => planBuild([node('a')], { only: ['b'] })).toThrow(expect.objectContaining({ code: 'UNKNOWN_IMAGE' }));
  });
});

describe('formatPlan', () => {
  it('prints the SPEC §4.4 shape', () => {
    const plan = planBuild([node('common-base'), node('jq', [], true), node('app', ['common-base', 'jq'])]);
    expect(formatPlan(plan, { parallelTasksLimit: 5 })).toBe(
      [
        '┌ Concurrent builds plan (no more than 5 images at the same time)',
        '│ Set #0:',
        '│ - ⛵ image common-base',
        '│ - 🛸 artifact jq',
        '│',
        '│ Set #1:',
        '│ - ⛵ image app',
        '└ Concurrent builds plan (no more than 5 images at the same time)',
      ].join('\n'),
    );
    expect(formatPlan(plan, { parallelTasksLimit: 0 })).toContain('(no limit on images at the same time)');
    expect(formatPlan(plan, { parallelTasksLimit: 1 })).toContain('(no more than 1 image at the same time)');
  });
});

describe('imageGraph', () => {
  it('follows from/fromImage/fromArtifact, imports and dependencies of a real config', () => {
    const text = [
      'project: demo',
      'configVersion: 1',
      '---',
      'artifact: jq',
      'from: alpine:3.18',
      '---',
      'image: common-base',
      'from: alpine:3.18',
      '---',
      'image: app',
      'fromImage: common-base',
      'import:',
      '- artifact: jq',
      '  add: /usr/bin/jq',
      '  after: install',
      '---',
      'image: web',
      'from: app',
      'dependencies:',
      '- image: common-base',
      '  after: setup',
      '  imports:',
      '  - type: ImageName',
      '    targetEnv: BASE',
      '',
    ].join('\n');
    const result = parseConfig(text, { path: 'werf.yaml' });
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    expect(imageGraph(result.config)).toEqual([
      { name: 'jq', isArtifact: true, dependsOn: [] },
      { name: 'common-base', isArtifact: false, dependsOn: [] },
      { name: 'app', isArtifact: false, dependsOn: ['common-base', 'jq'] },
      { name: 'web', isArtifact: false, dependsOn: ['app', 'common-base'] },
    ]);
  });
});
