/**
 * One Strata build of a project directory as a user embedding the library would run it: load
 * werf.yaml while git opens, make the local Docker stage store and start its listing, make the Docker
 * executor, build everything,
 * close. Timed end to end (config load and git work included).
 */
import { performance } from 'node:perf_hooks';
import Dockerode from 'dockerode';
import { loadConfig, formatProblem } from '@strata/config';
import { createEngine, MemoryStageLock, type BuildEventListener } from '@strata/core';
import { DockerExecutor, DockerStageStore } from '@strata/docker';
import { NativeGitRepository } from '@strata/git';

export interface StrataBuildResult {
  ms: number;
  images: number;
  stages: number;
  /** Stages the executor built in this run. */
  built: number;
}

export async function strataBuild(dir: string, options: { events?: BuildEventListener | undefined } = {}): Promise<StrataBuildResult> {
  const start = performance.now();
  // git opens while werf.yaml loads; a failure is raised by the `await` below (the catch only marks it handled).
  const opening = NativeGitRepository.open(dir);
  opening.catch(() => undefined);
  const loaded = await loadConfig(dir);
  if (!loaded.ok) {
    await (await opening).close();
    throw new Error(loaded.problems.map(formatProblem).join('\n'));
  }
  const docker = new Dockerode({ socketPath: '/var/run/docker.sock' });
  const primary = new DockerStageStore({ docker, project: loaded.config.project });
  // The store's listing runs while git opens (StageStore.prefetch; a failure surfaces in the build).
  primary.prefetch({}).catch(() => undefined);
  const repository = await opening;
  try {
    const engine = createEngine({
      config: loaded.config,
      repository,
      stores: { primary },
      lock: new MemoryStageLock(),
      executor: new DockerExecutor({ docker, git: repository, pullMissingBase: false }),
      events: options.events,
    });
    const result = await engine.build();
    const ms = performance.now() - start;
    const stages = result.images.flatMap((image) => image.stages);
    return { ms, images: result.images.length, stages: stages.length, built: stages.filter((s) => s.status === 'built').length };
  } finally {
    await repository.close();
  }
}
