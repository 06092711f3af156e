/**
 * The async edge of digest calculation: reads the git facts a stage depends on through the
 * `GitRepository` port. Everything else (other images' content digests, import checksums) comes from
 * the engine, which merges them into the same `StageFacts`.
 */
import type { GitRepository, ObjectId, StageDependenciesChecksum, StageDependenciesRequest } from '@strata/git';
import type { StageName } from '../ids.js';
import { DigestError } from '../digest/errors.js';
import { withoutBinaryData } from '../digest/patch.js';
import type { MappingPatch, MappingStageDependencies } from '../digest/stages.js';
import { gatherDockerfileFacts, type GatherDockerfileOptions } from '../dockerfile/gather.js';
import type { StageFacts } from './compute.js';
import type { ConveyorGitMapping, ImageConveyor } from './plan.js';

export interface GatherStageFactsOptions {
  repository: GitRepository;
  /** The commit being built (every mapping of the project's own repository is at it). */
  commit: ObjectId;
  /**
   * `gitCache`/`gitLatestPatch`: the commits recorded on the previous BUILT stage (the stage image the
   * patch is applied on), in mapping order — see `recordedCommits`. werf reads them from that image's
   * labels, which it inherits from its parent, so for a non-git previous stage pass the commits of the
   * nearest git-related stage below it.
   */
  prevBuiltStageCommits?: readonly (string | undefined)[] | undefined;
  /** `dockerfile`: options for reading the Dockerfile and its context. */
  dockerfile?: Omit<GatherDockerfileOptions, 'repository' | 'commit' | 'signal' | 'cacheVersion' | 'platform'> | undefined;
  signal?: AbortSignal | undefined;
  /**
   * Answers shared by the stages gathered with the same cache (one build): many images map the same
   * directories with the same globs, and an answer depends only on its request (the commit included).
   * A failed answer is forgotten, so a later stage asks again. @default no sharing
   */
  cache?: GitFactsCache | undefined;
}

/** See {@link GatherStageFactsOptions.cache}. Create one per build; never share it across repositories. */
export class GitFactsCache {
  readonly #stageDependencies = new Map<string, Promise<StageDependenciesChecksum>>();

  /** `repository.stageDependenciesChecksum(request)`, asked once per distinct request. */
  stageDependenciesChecksum(
    repository: GitRepository,
    request: StageDependenciesRequest,
    signal: AbortSignal | undefined,
  ): Promise<StageDependenciesChecksum> {
    const key = JSON.stringify([request.commit, request.basePath, request.includePaths, request.excludePaths, request.globs]);
    const known = this.#stageDependencies.get(key);
    if (known) return known;
    const answer = repository.stageDependenciesChecksum(request, { signal });
    this.#stageDependencies.set(key, answer);
    answer.catch(() => {
      if (this.#stageDependencies.get(key) === answer) this.#stageDependencies.delete(key);
    });
    return answer;
  }
}

function filterOf(mapping: ConveyorGitMapping): { basePath: string; includePaths: readonly string[]; excludePaths: readonly string[] } {
  return { basePath: mapping.config.add, includePaths: mapping.config.includePaths, excludePaths: mapping.config.excludePaths };
}

function baseCommit(conveyor: ImageConveyor, stage: StageName, options: GatherStageFactsOptions, mapping: ConveyorGitMapping): string {
  const commit = options.prevBuiltStageCommits?.[mapping.index];
  if (commit !== undefined) return commit;
  throw new DigestError('MISSING_STAGE_FACTS', `stage ${stage} of image ${conveyor.imageKey} needs the commit of the previous built stage for git mapping ${mapping.config.to}`, {
    hint: 'Pass prevBuiltStageCommits, read from the labels of the previous built stage (recordedCommits).',
    data: { image: conveyor.imageKey, stage, missing: 'prevBuiltStageCommits' },
  });
}

/**
 * Gathers the git facts of one stage. Stages without git facts resolve to `{}`. Read-only; safe to call
 * concurrently for different stages.
 *
 * - `install`/`beforeSetup`/`setup`: per mapping, the `stageDependencies` checksum at `commit` (`""`
 *   without globs for that stage, as werf does without asking git).
 * - `gitCache`: per mapping, the full-context binary patch size from the previous built stage's commit
 *   (`0` when equal). When that commit is no longer in the repository werf treats the total as 0 (the
 *   stage is then empty); so does this.
 * - `gitLatestPatch`: per mapping, the patch bytes from the previous built stage's commit (empty when
 *   equal), in werf's non-`--binary` form. A missing commit fails with `GIT_COMMIT_MISSING`, as in werf.
 * - `dockerfile`: see `gatherDockerfileFacts`.
 */
export async function gatherStageFacts(
  conveyor: ImageConveyor,
  stage: StageName,
  options: GatherStageFactsOptions,
): Promise<StageFacts> {
  const { repository, commit, signal } = options;
  signal?.throwIfAborted();
  switch (stage) {
    case 'install':
    case 'beforeSetup':
    case 'setup': {
      const stageDependencies = await Promise.all(
        conveyor.gitMappings.map(async (mapping): Promise<MappingStageDependencies> => {
          const globs = mapping.config.stageDependencies[stage];
          if (globs.length === 0) return { to: mapping.config.to, checksum: '', globs: [] };
          const request = { ...filterOf(mapping), commit, globs };
          const result = options.cache
            ? await options.cache.stageDependenciesChecksum(repository, request, signal)
            : await repository.stageDependenciesChecksum(request, { signal });
          return { to: mapping.config.to, checksum: result.checksum, globs: result.globs };
        }),
      );
      return { stageDependencies };
    }
    case 'gitCache': {
      const sizes: number[] = [];
      for (const mapping of conveyor.gitMappings) {
        const from = baseCommit(conveyor, stage, options, mapping);
        if (from === commit) {
          sizes.push(0);
          continue;
        }
        if ((await repository.findCommit(from, { signal })) === undefined) return { patchSizes: [0] };
        sizes.push(await repository.patchSize({ ...filterOf(mapping), from, to: commit, variant: 'fullContext' }, { signal }));
      }
      return { patchSizes: sizes };
    }
    case 'gitLatestPatch': {
      const patches: MappingPatch[] = [];
      for (const mapping of conveyor.gitMappings) {
        const from = baseCommit(conveyor, stage, options, mapping);
        if (from === commit) {
          patches.push({ to: mapping.config.to, bytes: new Uint8Array() });
          continue;
        }
        if ((await repository.findCommit(from, { signal })) === undefined) {
          throw new DigestError('GIT_COMMIT_MISSING', `commit ${from} recorded on the previous stage of ${conveyor.imageKey} is not in the repository`, {
            hint: 'Fetch the full history (the stage was built from a commit this clone does not have).',
            data: { image: conveyor.imageKey, stage, commit: from },
          });
        }
        const patch = await repository.patch({ ...filterOf(mapping), from, to: commit, variant: 'standard' }, { signal });
        // werf hashes the patch without `--binary` data (see withoutBinaryData).
        patches.push({ to: mapping.config.to, bytes: withoutBinaryData(patch.bytes) });
      }
      return { patches };
    }
    case 'dockerfile': {
      if (conveyor.image.kind !== 'dockerfile') return {};
      const facts = await gatherDockerfileFacts(conveyor.image, {
        ...options.dockerfile,
        cacheVersion: conveyor.cacheVersion,
        platform: conveyor.platform,
        repository,
        commit,
        signal,
      });
      return { dockerfile: facts.inputs };
    }
    default:
      return {};
  }
}
