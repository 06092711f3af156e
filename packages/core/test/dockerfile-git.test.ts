/**
 * The `dockerfile` stage over REAL git repositories: sources come from the commit, filtered by
 * `.dockerignore`; `contextAddFiles` from the working tree only when allowed.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { NativeGitRepository, type GitRepository } from '@strata/git';
import { computeStageDigest, gatherStageFacts, planConveyor } from '../src/conveyor/index.js';
import { hashArgs } from '../src/digest/index.js';
import { gatherDockerfileFacts, type GatherDockerfileOptions } from '../src/dockerfile/index.js';
import { dockerfileImage, TempRepo } from './fixtures/digest/kit.js';
import type { DockerfileImage } from '@strata/config';

let repo: TempRepo;
let repository: GitRepository;

const DOCKERFILE = `FROM alpine:3.18
COPY src/ /app/
RUN cat /app/a.txt
`;

beforeEach(async () => {
  repo = new TempRepo();
  repo
    .write('Dockerfile', DOCKERFILE)
    .write('.dockerignore', '# secrets stay out\nsrc/secret.txt\n')
    .write('src/a.txt', 'a\n')
    .write('src/secret.txt', 's\n')
    .write('README.md', 'readme\n');
  repo.commit('initial');
  repository = await NativeGitRepository.open(repo.root);
});

afterEach(async () => {
  await repository.close();
  repo.dispose();
});

async function digestAt(commit: string, image: DockerfileImage = dockerfileImage(), options: Partial<GatherDockerfileOptions> = {}): Promise<string> {
  const facts = await gatherDockerfileFacts(image, { repository, commit, ...options });
  return hashArgs(...facts.inputs.map((entry) => entry.value));
}

const head = (): string => repo.git('rev-parse', 'HEAD');

describe('dockerfile stage from git', () => {
  it('checksums COPY sources from the commit with .dockerignore applied', async () => {
    const facts = await gatherDockerfileFacts(dockerfileImage(), { repository, commit: head() });
    const expected = await repository.lsTreeChecksum({
      commit: head(),
      basePath: '.',
      includePaths: ['src'],
      dockerignore: ['src/secret.txt'],
    });
    expect(facts.sourceChecksums).toEqual({ '0:0': hashArgs(expected) });
  });

  it('changes with copied files only', async () => {
    const initial = await digestAt(head());
    repo.write('README.md', 'other\n').write('src/secret.txt', 'other secret\n');
    expect(await digestAt(repo.commit('not copied'))).toBe(initial);
    repo.write('Dockerfile', `# a comment\n\n${DOCKERFILE.replace('COPY src/ /app/', 'COPY   src/    /app/')}`);
    expect(await digestAt(repo.commit('cosmetic'))).toBe(initial);
    repo.write('src/a.txt', 'changed\n');
    expect(await digestAt(repo.commit('copied'))).not.toBe(initial);
  });

  it('ignores uncommitted working-tree changes (giterminism)', async () => {
    const initial = await digestAt(head());
    repo.write('src/a.txt', 'dirty\n');
    expect(await digestAt(head())).toBe(initial);
  });

  it('with COPY . and no .dockerignore entry, any committed file matters', async () => {
    repo.write('Dockerfile', 'FROM alpine:3.18\nCOPY . /app\n');
    const before = await digestAt(repo.commit('copy all'));
    repo.write('README.md', 'other\n');
    expect(await digestAt(repo.commit('readme'))).not.toBe(before);
  });

  it('reads contextAddFiles from the working tree only when allowed', async () => {
    repo.write('src/extra.txt', 'one\n');
    const image = dockerfileImage({ contextAddFiles: ['src/extra.txt'] });
    await expect(digestAt(head(), image)).rejects.toMatchObject({ code: 'CONTEXT_ADD_FILES_FORBIDDEN' });
    const first = await digestAt(head(), image, { allowContextAddFiles: true });
    expect(first).not.toBe(await digestAt(head()));
    repo.write('src/extra.txt', 'two\n');
    expect(await digestAt(head(), image, { allowContextAddFiles: true })).not.toBe(first);
    const missing = dockerfileImage({ contextAddFiles: ['src/none.txt'] });
    await expect(digestAt(head(), missing, { allowContextAddFiles: true })).rejects.toMatchObject({ code: 'CONTEXT_ADD_FILE_NOT_FOUND' });
  });

  it('hashes added files as project-relative path then content, directories walked in order', async () => {
    repo.write('src/gen/b.txt', 'B\n').write('src/gen/a.txt', 'A\n').write('other/x.txt', 'not copied\n');
    const image = dockerfileImage({ contextAddFiles: ['src/gen', 'other/x.txt'] });
    const facts = await gatherDockerfileFacts(image, { repository, commit: head(), allowContextAddFiles: true });
    const lsTree = await repository.lsTreeChecksum({ commit: head(), basePath: '.', includePaths: ['src'], dockerignore: ['src/secret.txt'] });
    // independent route: the bytes werf feeds, written out by hand
    const added = createHash('sha256').update('src/gen/a.txt').update('A\n').update('src/gen/b.txt').update('B\n').digest('hex');
    expect(facts.sourceChecksums['0:0']).toBe(hashArgs(hashArgs(lsTree), added));
  });

  it('fails with typed errors for a missing Dockerfile or target', async () => {
    await expect(digestAt(head(), dockerfileImage({ dockerfile: 'nope/Dockerfile' }))).rejects.toMatchObject({
      code: 'DOCKERFILE_NOT_FOUND',
    });
    await expect(digestAt(head(), dockerfileImage({ target: 'release' }))).rejects.toMatchObject({
      code: 'DOCKERFILE_TARGET_NOT_FOUND',
      data: { dockerfile: 'Dockerfile', target: 'release' },
    });
  });

  it('flows through the conveyor with the image cache version and build args', async () => {
    repo.write('Dockerfile', 'FROM alpine:3.18\nARG MODE=dev\nRUN echo $MODE\n');
    const commit = repo.commit('args');
    const digestFor = async (image: DockerfileImage, cacheVersion?: string): Promise<string> => {
      const conveyor = planConveyor(image, { build: { cacheVersion } });
      const facts = await gatherStageFacts(conveyor, 'dockerfile', { repository, commit });
      const result = computeStageDigest(conveyor, 'dockerfile', { facts });
      if (result.kind !== 'digest') throw new Error('expected a digest');
      return result.digest;
    };
    const plain = await digestFor(dockerfileImage());
    expect(await digestFor(dockerfileImage(), 'v2')).not.toBe(plain);
    expect(await digestFor(dockerfileImage({ args: { MODE: 'prod' } }))).not.toBe(plain);
    expect(await digestFor(dockerfileImage({ args: { OTHER: 'x' } }))).toBe(plain);
  });
});
