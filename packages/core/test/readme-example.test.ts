/** The README's embedding example, run as written (with a temp project). */
import { afterEach, expect, it } from 'vitest';
import { getConfig } from '@strata/config';
import { NativeGitRepository } from '@strata/git';
import { MemoryStageLock, MemoryStageStore, createEngine, type BuildEvent } from '@strata/core';
import { FakeExecutor } from '@strata/core/testing';
import { ScratchRepo } from './support/git-repo.js';

let project: ScratchRepo | undefined;
afterEach(() => project?.dispose());

it('embeds the engine as the README shows', async () => {
  project = new ScratchRepo();
  project.write('werf.yaml', 'project: readme\nconfigVersion: 1\n---\nimage: app\nfrom: alpine:3.18\ngit:\n- add: /\n  to: /app\n');
  project.commit('init');

  const repository = await NativeGitRepository.open(project.root);
  const { config } = await getConfig(repository.root);
  const events: BuildEvent[] = [];
  const engine = createEngine({
    config,
    repository,
    stores: { primary: new MemoryStageStore({ name: 'primary' }), secondaries: [], caches: [] },
    lock: new MemoryStageLock(),
    executor: new FakeExecutor(),
    parallelTasksLimit: 5,
    events: (event) => events.push(event),
  });
  const controller = new AbortController();
  const result = await engine.build(undefined, { signal: controller.signal });
  await repository.close();

  expect(Object.keys(result.report.Images)).toEqual(['app']);
  expect(result.report.Images.app?.Stages.map((s) => s.Name)).toEqual(['from', 'gitArchive']);
  expect(events.filter((e) => e.type === 'stageFinished')).toHaveLength(2);
});
