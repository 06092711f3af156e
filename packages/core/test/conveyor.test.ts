import { describe, expect, it } from 'vitest';
import {
  computeContentDigest,
  computeStageDigest,
  currentCommits,
  findStagePlan,
  gitCommitLabels,
  planConveyor,
  recordedCommits,
  type ImageConveyor,
  type PreviousStage,
  type StageFacts,
} from '../src/conveyor/index.js';
import { DigestError, hashArgs, stageContentDigest, stageDigest } from '../src/digest/index.js';
import type { StageName } from '../src/ids.js';
import { dockerfileImage, gitMapping, shell, stapelImage } from './fixtures/digest/kit.js';

const names = (conveyor: ImageConveyor): StageName[] => conveyor.stages.map((stage) => stage.name);

describe('planConveyor', () => {
  it('shrinks a bare stapel image to from', () => {
    expect(names(planConveyor(stapelImage()))).toEqual(['from']);
  });

  it('orders every stage of a full stapel image as SPEC §2.1', () => {
    const image = stapelImage({
      git: [gitMapping()],
      shell: shell({ beforeInstall: ['a'], install: ['b'], beforeSetup: ['c'], setup: ['d'] }),
      imports: [
        { image: 'x', via: 'image', add: '/x', to: '/x', includePaths: [], excludePaths: [], stage: { before: 'install' } },
        { image: 'x', via: 'image', add: '/y', to: '/y', includePaths: [], excludePaths: [], stage: { after: 'install' } },
        { image: 'x', via: 'image', add: '/z', to: '/z', includePaths: [], excludePaths: [], stage: { before: 'setup' } },
      ],
      dependencies: [{ image: 'x', stage: { after: 'setup' }, imports: [{ type: 'ImageName', targetEnv: 'X' }] }],
      docker: { volume: [], expose: ['80'], env: {}, label: {} },
      imageSpec: {
        clearHistory: false,
        config: {
          env: {}, labels: {}, removeLabels: [], removeEnv: [], removeVolumes: [], expose: [], volumes: [],
          clearCmd: false, clearEntrypoint: false, clearWerfLabels: false, removeWerfLabels: false, keepEssentialWerfLabels: false,
        },
      },
    });
    const conveyor = planConveyor(image);
    expect(names(conveyor)).toEqual([
      'from', 'beforeInstall', 'dependenciesBeforeInstall', 'gitArchive', 'install', 'dependenciesAfterInstall',
      'beforeSetup', 'dependenciesBeforeSetup', 'setup', 'dependenciesAfterSetup', 'gitCache', 'gitLatestPatch',
      'dockerInstructions', 'imageSpec',
    ]);
    const related = conveyor.stages.filter((stage) => stage.gitRelated).map((stage) => stage.name);
    expect(related).toEqual(['gitArchive', 'install', 'beforeSetup', 'setup', 'gitCache', 'gitLatestPatch']);
    expect(conveyor.stages.filter((stage) => stage.conditional).map((stage) => stage.name)).toEqual(['gitCache', 'gitLatestPatch']);
  });

  it('has no gitCache, gitLatestPatch or dockerInstructions for artifacts', () => {
    const artifact = stapelImage({
      isArtifact: true,
      final: false,
      git: [gitMapping()],
      shell: shell({ install: ['make'] }),
      docker: { volume: ['/v'], expose: [], env: {}, label: {} },
    });
    expect(names(planConveyor(artifact))).toEqual(['from', 'gitArchive', 'install']);
  });

  it('has no gitCache, gitLatestPatch or dockerInstructions with disableGitAfterPatch', () => {
    const docker = { volume: [], expose: ['80'], env: {}, label: {} };
    const image = stapelImage({ git: [gitMapping()], disableGitAfterPatch: true, docker });
    expect(names(planConveyor(image))).toEqual(['from', 'gitArchive']);
    expect(names(planConveyor(stapelImage({ git: [gitMapping()], docker })))).toEqual([
      'from', 'gitArchive', 'gitCache', 'gitLatestPatch', 'dockerInstructions',
    ]);
  });

  it('install is not git-related without git mappings', () => {
    const conveyor = planConveyor(stapelImage({ shell: shell({ install: ['make'] }) }));
    expect(findStagePlan(conveyor, 'install')?.gitRelated).toBe(false);
  });

  it('plans dockerfile [+ imageSpec] for Dockerfile images, with the global spec for final images', () => {
    expect(names(planConveyor(dockerfileImage()))).toEqual(['dockerfile']);
    const spec = {
      author: 'me',
      clearHistory: false,
      config: {
        env: {}, labels: {}, removeLabels: [], removeEnv: [], removeVolumes: [], expose: [], volumes: [],
        clearCmd: false, clearEntrypoint: false, clearWerfLabels: false, removeWerfLabels: false, keepEssentialWerfLabels: false,
      },
    };
    expect(names(planConveyor(dockerfileImage(), { build: { imageSpec: spec } }))).toEqual(['dockerfile', 'imageSpec']);
    expect(names(planConveyor(dockerfileImage({ final: false }), { build: { imageSpec: spec } }))).toEqual(['dockerfile']);
  });

  it('takes the platform from the config, else the host', () => {
    expect(planConveyor(stapelImage()).platform).toBeUndefined();
    expect(planConveyor(stapelImage(), { hostPlatform: 'linux/arm64' }).platform).toBe('linux/arm64');
    expect(planConveyor(stapelImage(), { build: { platform: ['linux/amd64'] }, hostPlatform: 'linux/arm64' }).platform).toBe('linux/amd64');
    const arm = computeStageDigest(planConveyor(stapelImage(), { hostPlatform: 'linux/arm64' }), 'from');
    // s3 "linux/arm64:::1.2:::from:::$(s256 alpine:3.18)"
    expect(arm.kind === 'digest' && arm.digest).toBe('88970e8ae133a58fdd339ae79a46677657d2a6db8c35e20d70ecb914');
  });

  it('uses the image cacheVersion over build.cacheVersion', () => {
    expect(planConveyor(stapelImage(), { build: { cacheVersion: 'g' } }).cacheVersion).toBe('g');
    expect(planConveyor(stapelImage({ cacheVersion: 'i' }), { build: { cacheVersion: 'g' } }).cacheVersion).toBe('i');
  });
});

/** Runs a conveyor stage by stage the way the engine does, selecting nothing (everything is built). */
function buildChain(
  conveyor: ImageConveyor,
  factsFor: (stage: StageName) => StageFacts,
  commit: string,
  selected: Partial<Record<StageName, string[]>> = {},
): Map<StageName, string> {
  const digests = new Map<StageName, string>();
  let prev: PreviousStage | undefined;
  for (const stage of conveyor.stages) {
    const result = computeStageDigest(conveyor, stage, { prev, facts: factsFor(stage.name) });
    if (result.kind === 'empty') continue;
    digests.set(stage.name, result.digest);
    prev = { digest: result.digest, gitRelated: stage.gitRelated, commits: selected[stage.name] ?? currentCommits(conveyor, commit) };
  }
  return digests;
}

describe('computeStageDigest', () => {
  it('matches the SPEC vectors through the conveyor', () => {
    const conveyor = planConveyor(stapelImage({ shell: shell({ beforeInstall: ['apk add curl'] }) }));
    const digests = buildChain(conveyor, () => ({}), 'c'.repeat(40));
    expect(digests.get('from')).toBe('3dbd6d44689162ca0ebbdef149f0c467c9ba147c6e9a7759164efc0a');
    expect(digests.get('beforeInstall')).toBe('c5d227c3a88e1180c887beeeb91af88865af7e6e05c014b4ae9fd959');
  });

  it('after a git-related stage hashes the commits recorded on the SELECTED stage, not HEAD', () => {
    const conveyor = planConveyor(stapelImage({ git: [gitMapping()], shell: shell({ install: ['make'] }) }));
    const head = 'b'.repeat(40);
    const older = 'a'.repeat(40);
    const facts = (stage: StageName): StageFacts => ({
      stageDependencies: stage === 'install' ? [{ to: '/app', checksum: '', globs: [] }] : undefined,
      patchSizes: [0],
      patches: [{ to: '/app', bytes: new Uint8Array() }],
    });
    const built = buildChain(conveyor, facts, head);
    const reused = buildChain(conveyor, facts, head, { gitArchive: [older] });
    expect(reused.get('gitArchive')).toBe(built.get('gitArchive'));
    expect(reused.get('install')).not.toBe(built.get('install'));

    // by hand: install digest = sha3('1.2', 'install', deps, gitArchiveDigest, H(older))
    const gitArchive = reused.get('gitArchive') ?? '';
    const deps = hashArgs(hashArgs('make'), hashArgs(''));
    expect(reused.get('install')).toBe(
      stageDigest({ stageName: 'install', dependencies: deps, prev: { digest: gitArchive, nextDeps: hashArgs(older) } }),
    );
  });

  it('reports empty stages instead of digests', () => {
    const conveyor = planConveyor(stapelImage({ git: [gitMapping()] }));
    const cache = computeStageDigest(conveyor, 'gitCache', { facts: { patchSizes: [10] } });
    expect(cache).toMatchObject({ kind: 'empty', stage: 'gitCache' });
    const patch = computeStageDigest(conveyor, 'gitLatestPatch', { facts: { patches: [{ to: '/app', bytes: new Uint8Array() }] } });
    expect(patch.kind).toBe('empty');
  });

  it('fails with MISSING_STAGE_FACTS when facts were not gathered', () => {
    const conveyor = planConveyor(stapelImage({ from: { kind: 'image', name: 'base', via: 'fromImage' } }));
    expect(() => computeStageDigest(conveyor, 'from')).toThrow(DigestError);
    const result = computeStageDigest(conveyor, 'from', { facts: { baseImageContentDigest: 'd'.repeat(56) } });
    expect(result.kind === 'digest' && result.dependencies).toBe(hashArgs('d'.repeat(56)));
  });

  it('labels every input, including the previous stage', () => {
    const conveyor = planConveyor(stapelImage({ shell: shell({ beforeInstall: ['apk add curl'] }) }));
    const result = computeStageDigest(conveyor, 'beforeInstall', { prev: { digest: 'f'.repeat(56), gitRelated: false } });
    expect(result.kind).toBe('digest');
    if (result.kind !== 'digest') return;
    expect(result.inputs.map((entry) => entry.label)).toEqual([
      'build cache version', 'stage name', 'stage dependencies', 'previous stage digest', 'previous stage next dependencies',
    ]);
    expect(result.inputs[2]?.parts?.map((entry) => entry.label)).toEqual(['command[0]']);
  });

  it('content digest of a built git stage embodies its commits', () => {
    const conveyor = planConveyor(stapelImage({ git: [gitMapping()] }));
    const stage = findStagePlan(conveyor, 'gitArchive');
    if (!stage) throw new Error('no gitArchive');
    const a = computeContentDigest(conveyor, { stage, digest: 'e'.repeat(56), commits: ['1'.repeat(40)] });
    const b = computeContentDigest(conveyor, { stage, digest: 'e'.repeat(56), commits: ['2'.repeat(40)] });
    expect(a).not.toBe(b);
    expect(a).toBe(stageContentDigest({ stageName: 'gitArchive', digest: 'e'.repeat(56), nextDeps: hashArgs('1'.repeat(40)) }));
    const from = findStagePlan(conveyor, 'from');
    if (!from) throw new Error('no from');
    expect(computeContentDigest(conveyor, { stage: from, digest: 'e'.repeat(56), commits: ['1'.repeat(40)] })).toBe(
      stageContentDigest({ stageName: 'from', digest: 'e'.repeat(56), nextDeps: '' }),
    );
  });

  it('records and reads commit labels per mapping', () => {
    const conveyor = planConveyor(stapelImage({ git: [gitMapping(), gitMapping({ to: '/b', add: '/b' })] }));
    const gitArchive = findStagePlan(conveyor, 'gitArchive');
    const from = findStagePlan(conveyor, 'from');
    if (!gitArchive || !from) throw new Error('missing stages');
    const labels = gitCommitLabels(conveyor, { stage: gitArchive, commit: 'c'.repeat(40) });
    expect(Object.keys(labels)).toHaveLength(2);
    expect(recordedCommits(conveyor, labels)).toEqual(['c'.repeat(40), 'c'.repeat(40)]);
    expect(gitCommitLabels(conveyor, { stage: from, commit: 'c'.repeat(40) })).toEqual({});
  });
});
