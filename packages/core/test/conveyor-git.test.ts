/**
 * Stage facts gathered from REAL git repositories (built with the git CLI in temp dirs) through the
 * native `GitRepository` adapter, then turned into digests.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import {
  computeStageDigest,
  currentCommits,
  gatherStageFacts,
  planConveyor,
  type ImageConveyor,
  type PreviousStage,
  type StageDigestResult,
} from '../src/conveyor/index.js';
import type { StageName } from '../src/ids.js';
import { DigestError, EMPTY_SHA256, hashArgs } from '../src/digest/index.js';
import { compareInputs } from '../src/explain/index.js';
import { gitMapping, shell, stapelImage, TempRepo } from './fixtures/digest/kit.js';

let repo: TempRepo;
let repository: GitRepository;

beforeEach(async () => {
  repo = new TempRepo();
  repo.write('README.md', 'hello\n').write('package.json', '{"name":"a"}\n').write('src/main.js', 'console.log(1)\n');
  repo.commit('initial');
  repository = await NativeGitRepository.open(repo.root);
});

afterEach(async () => {
  await repository.close();
  repo.dispose();
});

function digestOf(result: StageDigestResult): string {
  if (result.kind !== 'digest') throw new Error(`stage ${result.stage} is empty: ${result.reason}`);
  return result.digest;
}

async function installDigest(conveyor: ImageConveyor, commit: string): Promise<StageDigestResult> {
  const facts = await gatherStageFacts(conveyor, 'install', { repository, commit });
  return computeStageDigest(conveyor, 'install', { prev: { digest: 'a'.repeat(56), gitRelated: true, commits: [commit] }, facts });
}

describe('stageDependencies (install)', () => {
  const conveyor = planConveyor(
    stapelImage({
      git: [gitMapping({ stageDependencies: { install: ['package.json', 'src/**/*.js'], beforeSetup: [], setup: [] } })],
      shell: shell({ install: ['npm ci'] }),
    }),
  );

  it('feeds each glob checksum, in order, into one running SHA-256', async () => {
    const commit = repo.git('rev-parse', 'HEAD');
    const facts = await gatherStageFacts(conveyor, 'install', { repository, commit });
    const [mapping] = facts.stageDependencies ?? [];
    expect(mapping?.globs.map((entry) => entry.glob)).toEqual(['package.json', 'src/**/*.js']);
    const running = createHash('sha256');
    for (const entry of mapping?.globs ?? []) running.update(entry.checksum);
    expect(mapping?.checksum).toBe(running.digest('hex'));
    const result = await installDigest(conveyor, commit);
    expect(result.kind === 'digest' && result.dependencies).toBe(hashArgs(hashArgs('npm ci'), hashArgs(mapping?.checksum ?? '')));
  });

  it('changes when a dependency file changes, not when another file does', async () => {
    const first = repo.git('rev-parse', 'HEAD');
    const before = digestOf(await installDigest(conveyor, first));
    repo.write('README.md', 'changed\n');
    const readmeOnly = repo.commit('docs');
    // the previous stage's commits are part of the digest: keep them fixed to isolate the dependency
    const sameDeps = await gatherStageFacts(conveyor, 'install', { repository, commit: readmeOnly });
    const firstDeps = await gatherStageFacts(conveyor, 'install', { repository, commit: first });
    expect(sameDeps.stageDependencies).toEqual(firstDeps.stageDependencies);

    repo.write('src/main.js', 'console.log(2)\n');
    const codeChange = repo.commit('code');
    const changed = await gatherStageFacts(conveyor, 'install', { repository, commit: codeChange });
    expect(changed.stageDependencies?.[0]?.checksum).not.toBe(firstDeps.stageDependencies?.[0]?.checksum);
    const prev = { digest: 'a'.repeat(56), gitRelated: true, commits: [first] };
    const after = computeStageDigest(conveyor, 'install', { prev, facts: changed });
    expect(digestOf(after)).not.toBe(before);
    // explain names the mapping's stageDependencies and the glob that changed
    const was = computeStageDigest(conveyor, 'install', { prev, facts: firstDeps });
    if (after.kind !== 'digest' || was.kind !== 'digest') throw new Error('expected digests');
    expect(compareInputs(after.inputs, was.inputs)?.path).toEqual([
      'stage dependencies',
      'stageDependencies',
      'stageDependencies install (mapping[0] /app)',
      'glob src/**/*.js',
    ]);
  });

  it('skips globs that match nothing', async () => {
    const image = stapelImage({
      git: [gitMapping({ stageDependencies: { install: ['nothing/**'], beforeSetup: [], setup: [] } })],
      shell: shell({ install: ['x'] }),
    });
    const facts = await gatherStageFacts(planConveyor(image), 'install', { repository, commit: repo.git('rev-parse', 'HEAD') });
    expect(facts.stageDependencies?.[0]).toMatchObject({ checksum: EMPTY_SHA256, globs: [{ glob: 'nothing/**', checksum: '' }] });
  });

  it('hashes "" for a mapping without globs for the stage, without asking git', async () => {
    const image = stapelImage({ git: [gitMapping()], shell: shell({ setup: ['x'] }) });
    const facts = await gatherStageFacts(planConveyor(image), 'setup', { repository, commit: 'f'.repeat(40) });
    expect(facts.stageDependencies).toEqual([{ to: '/app', checksum: '', globs: [] }]);
  });
});

describe('gitLatestPatch and gitCache', () => {
  const conveyor = planConveyor(stapelImage({ git: [gitMapping({ add: '/src', to: '/app' })] }));

  it('gitLatestPatch hashes the patch text from the previous built stage commit', async () => {
    const first = repo.git('rev-parse', 'HEAD');
    repo.write('src/main.js', 'console.log(3)\n').write('README.md', 'outside the mapping\n');
    const second = repo.commit('change');
    const facts = await gatherStageFacts(conveyor, 'gitLatestPatch', { repository, commit: second, prevBuiltStageCommits: [first] });
    const text = Buffer.from(facts.patches?.[0]?.bytes ?? new Uint8Array()).toString('utf8');
    expect(text).toContain('+console.log(3)');
    expect(text).not.toContain('README');
    const result = computeStageDigest(conveyor, 'gitLatestPatch', { prev: { digest: 'b'.repeat(56), gitRelated: true, commits: [first] }, facts });
    expect(result.kind === 'digest' && result.dependencies).toBe(hashArgs(facts.patches?.[0]?.bytes ?? ''));

    const same = await gatherStageFacts(conveyor, 'gitLatestPatch', { repository, commit: second, prevBuiltStageCommits: [second] });
    expect(computeStageDigest(conveyor, 'gitLatestPatch', { facts: same }).kind).toBe('empty');
  });

  it('gitLatestPatch fails clearly when the recorded commit is gone', async () => {
    const head = repo.git('rev-parse', 'HEAD');
    await expect(
      gatherStageFacts(conveyor, 'gitLatestPatch', { repository, commit: head, prevBuiltStageCommits: ['0123456789012345678901234567890123456789'] }),
    ).rejects.toMatchObject({ code: 'GIT_COMMIT_MISSING' });
    await expect(gatherStageFacts(conveyor, 'gitLatestPatch', { repository, commit: head })).rejects.toBeInstanceOf(DigestError);
  });

  it('gitCache appears once the accumulated patch reaches 1 MiB', async () => {
    const first = repo.git('rev-parse', 'HEAD');
    repo.write('src/small.txt', 'x\n');
    const small = repo.commit('small');
    const smallFacts = await gatherStageFacts(conveyor, 'gitCache', { repository, commit: small, prevBuiltStageCommits: [first] });
    expect(computeStageDigest(conveyor, 'gitCache', { facts: smallFacts }).kind).toBe('empty');

    const lines = Array.from({ length: 40_000 }, (_, index) => `line ${index} ${'y'.repeat(30)}`).join('\n');
    repo.write('src/big.txt', `${lines}\n`);
    const big = repo.commit('big');
    const bigFacts = await gatherStageFacts(conveyor, 'gitCache', { repository, commit: big, prevBuiltStageCommits: [first] });
    const size = bigFacts.patchSizes?.[0] ?? 0;
    expect(size).toBeGreaterThanOrEqual(1024 * 1024);
    const result = computeStageDigest(conveyor, 'gitCache', { prev: { digest: 'c'.repeat(56), gitRelated: true, commits: [first] }, facts: bigFacts });
    expect(result.kind === 'digest' && result.dependencies).toBe(hashArgs(String(Math.floor(size / (1024 * 1024)))));
  });

  it('hashes exactly what git diff prints without --binary, binary files included (independent route: git CLI)', async () => {
    const binary = (seed: number): Buffer => Buffer.from(Array.from({ length: 600 }, (_, index) => (index * seed) % 256));
    repo.write('src/logo.bin', binary(7)).write('src/old.bin', binary(3));
    const first = repo.commit('binaries');
    repo.write('src/main.js', 'console.log(4)\n').write('src/new.js', 'new\n').write('src/logo.bin', binary(11)).write('src/added file.bin', binary(5));
    repo.remove('src/old.bin');
    const second = repo.commit('text and binary changes');
    const expected = execFileSync(
      'git',
      ['-c', 'core.quotePath=false', 'diff', '--full-index', '--no-renames', '--relative=src/', first, second, '--', 'src'],
      { cwd: repo.root },
    );
    expect(expected.toString('latin1')).toContain('Binary files a/logo.bin and b/logo.bin differ');
    const facts = await gatherStageFacts(conveyor, 'gitLatestPatch', { repository, commit: second, prevBuiltStageCommits: [first] });
    expect(Buffer.from(facts.patches?.[0]?.bytes ?? new Uint8Array()).toString('latin1')).toBe(expected.toString('latin1'));
    const result = computeStageDigest(conveyor, 'gitLatestPatch', { facts });
    expect(result.kind === 'digest' && result.dependencies).toBe(createHash('sha256').update(expected).digest('hex'));
  });
});

describe('a whole conveyor across commits', () => {
  /**
   * Runs the conveyor the way the engine does: stage by stage, gathering facts, selecting a stored stage
   * with the same digest when there is one (its recorded commits then feed the next digest), otherwise
   * "building" it at the current commit. `store` maps digest → recorded commits.
   */
  async function run(conveyor: ImageConveyor, commit: string, store: Map<string, string[]>): Promise<Map<StageName, string>> {
    const digests = new Map<StageName, string>();
    let prev: PreviousStage | undefined;
    let gitBase: string[] | undefined;
    for (const stage of conveyor.stages) {
      const facts = await gatherStageFacts(conveyor, stage.name, { repository, commit, prevBuiltStageCommits: gitBase });
      const result = computeStageDigest(conveyor, stage, { prev, facts });
      if (result.kind === 'empty') continue;
      const commits = store.get(result.digest) ?? currentCommits(conveyor, commit);
      store.set(result.digest, commits);
      digests.set(stage.name, result.digest);
      prev = { digest: result.digest, gitRelated: stage.gitRelated, commits };
      if (stage.gitRelated) gitBase = commits;
    }
    return digests;
  }

  it('reuses everything up to install for a change outside stageDependencies; gitLatestPatch carries it', async () => {
    const conveyor = planConveyor(
      stapelImage({
        git: [gitMapping({ stageDependencies: { install: ['package.json'], beforeSetup: [], setup: [] } })],
        shell: shell({ install: ['npm ci'] }),
      }),
    );
    const store = new Map<string, string[]>();
    const first = await run(conveyor, repo.git('rev-parse', 'HEAD'), store);
    expect([...first.keys()]).toEqual(['from', 'gitArchive', 'install']);

    repo.write('src/main.js', 'console.log("changed")\n');
    const second = await run(conveyor, repo.commit('code'), store);
    expect([...second.keys()]).toEqual(['from', 'gitArchive', 'install', 'gitLatestPatch']);
    for (const stage of ['from', 'gitArchive', 'install'] as const) expect(second.get(stage)).toBe(first.get(stage));

    repo.write('package.json', '{"name":"b"}\n');
    const third = await run(conveyor, repo.commit('deps'), store);
    expect(third.get('gitArchive')).toBe(first.get('gitArchive'));
    expect(third.get('install')).not.toBe(first.get('install'));
    // install was rebuilt at the new commit, so nothing is left for gitLatestPatch
    expect(third.has('gitLatestPatch')).toBe(false);
  });
});
