import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CoreError, planBuild, runSchedule, type ImageNode } from '@strata/core';
import { ManualClock } from '@strata/core/testing';

const node = (name: string, dependsOn: string[] = []): ImageNode => ({ name, dependsOn, isArtifact: false });

/** Runs a schedule where image `name` takes `durations[name]` clock units; records start/end times. */
async function timed(nodes: ImageNode[], durations: Record<string, number>, limit?: number) {
  const clock = new ManualClock(0);
  const starts: Record<string, number> = {};
  const ends: Record<string, number> = {};
  let running = 0;
  let maxRunning = 0;
  const occupancy: number[] = [];
  const run = async (image: ImageNode, signal: AbortSignal): Promise<string> => {
    starts[image.name] = clock.now();
    running += 1;
    maxRunning = Math.max(maxRunning, running);
    await clock.sleep(durations[image.name] ?? 1, { signal });
    running -= 1;
    ends[image.name] = clock.now();
    return `built ${image.name}`;
  };
  const done = runSchedule(planBuild(nodes), {
    run,
    parallelTasksLimit: limit,
    onStart: () => occupancy.push(running + 1),
  });
  const results = await clock.runUntilSettled(done);
  return { results, starts, ends, elapsed: clock.now(), maxRunning, occupancy };
}

describe('runSchedule', () => {
  it('keeps the limit full: 20 unit images at limit 5 take 4 units', async () => {
    const nodes = Array.from({ length: 20 }, (_, i) => node(`img${i}`));
    const { elapsed, maxRunning, results } = await timed(nodes, {});
    expect(elapsed).toBe(4);
    expect(maxRunning).toBe(5);
    expect(results.size).toBe(20);
    expect(results.get('img7')).toBe('built img7');
  });

  it('never exceeds the limit', async () => {
    const nodes = Array.from({ length: 13 }, (_, i) => node(`img${i}`, i >= 5 ? [`img${i - 5}`] : []));
    const durations = Object.fromEntries(nodes.map((n, i) => [n.name, 1 + (i % 3)]));
    for (const limit of [1, 2, 3]) {
      const { maxRunning } = await timed(nodes, durations, limit);
      expect(maxRunning).toBe(limit);
    }
  });

  it('treats a limit ≤ 0 as unlimited', async () => {
    const nodes = Array.from({ length: 12 }, (_, i) => node(`img${i}`));
    const { elapsed, maxRunning } = await timed(nodes, {}, 0);
    expect(maxRunning).toBe(12);
    expect(elapsed).toBe(1);
  });

  it('starts an image the moment its last dependency finishes, not when its set does', async () => {
    // Sets: [slow, fast], [afterFast, afterSlow]; afterFast must not wait for slow.
    const nodes = [node('slow'), node('fast'), node('afterFast', ['fast']), node('afterSlow', ['slow']), node('both', ['afterFast', 'slow'])];
    const { starts, elapsed } = await timed(nodes, { slow: 5, fast: 1, afterFast: 1, afterSlow: 1, both: 1 });
    expect(starts).toEqual({ slow: 0, fast: 0, afterFast: 1, afterSlow: 5, both: 5 });
    expect(elapsed).toBe(6);
  });

  it('stops starting new work after the first failure and names the image and stage', async () => {
    const clock = new ManualClock(0);
    const started: string[] = [];
    const nodes = [node('bad'), node('ok'), node('later', ['ok']), node('child', ['bad'])];
    const done = runSchedule(planBuild(nodes), {
      parallelTasksLimit: 2,
      run: async (image, signal) => {
        started.push(image.name);
        if (image.name === 'bad') {
          await clock.sleep(1, { signal });
          throw new CoreError('STAGE_BUILD_FAILED', 'exit 1', { data: { image: 'bad', stage: 'install' } });
        }
        await clock.sleep(3, { signal });
        return image.name;
      },
    });
    const outcome = clock.runUntilSettled(done);
    await expect(outcome).rejects.toMatchObject({ code: 'BUILD_FAILED', data: { image: 'bad', stage: 'install' } });
    await expect(outcome).rejects.toThrow('image bad failed at stage install: exit 1');
    expect(started).toEqual(['bad', 'ok']);
    // The running image was allowed to finish (its stages are useful), nothing else started.
    expect(clock.now()).toBe(3);
  });

  it('cancels every running image when the signal aborts', async () => {
    const clock = new ManualClock(0);
    const controller = new AbortController();
    const aborted: string[] = [];
    const done = runSchedule(planBuild([node('a'), node('b'), node('c', ['a'])]), {
      signal: controller.signal,
      run: async (image, signal) => {
        try {
          await clock.sleep(10, { signal });
        } catch (error) {
          aborted.push(image.name);
          throw error;
        }
        return image.name;
      },
    });
    await clock.advance(2);
    const reason = new Error('user cancelled');
    controller.abort(reason);
    await expect(done).rejects.toBe(reason);
    expect(aborted.sort()).toEqual(['a', 'b']);
  });

  it('reports progress in order', async () => {
    const events: string[] = [];
    await runSchedule(planBuild([node('a'), node('b', ['a'])]), {
      run: (image) => Promise.resolve(image.name),
      onStart: (image) => events.push(`start ${image.name}`),
      onDone: (image, result) => events.push(`done ${image.name} ${result}`),
    });
    expect(events).toEqual(['start a', 'done a a', 'start b', 'done b b']);
  });
});

describe('runSchedule (property)', () => {
  it('respects dependencies and the limit, and never leaves a slot idle while an image is ready', async () => {
    const graph = fc
      .integer({ min: 1, max: 12 })
      .chain((size) =>
        fc.record({
          durations: fc.array(fc.integer({ min: 1, max: 4 }), { minLength: size, maxLength: size }),
          // Edges only to earlier images: always acyclic.
          deps: fc.array(fc.array(fc.nat({ max: 11 }), { maxLength: 3 }), { minLength: size, maxLength: size }),
          limit: fc.integer({ min: 0, max: 4 }),
        }),
      );
    await fc.assert(
      fc.asyncProperty(graph, async ({ durations, deps, limit }) => {
        const nodes = durations.map((_, i) => node(`i${i}`, [...new Set(deps[i]?.filter((d) => d < i).map((d) => `i${d}`))]));
        const byName = Object.fromEntries(durations.map((d, i) => [`i${i}`, d]));
        const { starts, ends, maxRunning } = await timed(nodes, byName, limit);
        const capacity = limit > 0 ? limit : Number.POSITIVE_INFINITY;
        expect(maxRunning).toBeLessThanOrEqual(capacity);
        const runningAt = (t: number): number => nodes.filter((n) => (starts[n.name] ?? 0) <= t && t < (ends[n.name] ?? 0)).length;
        for (const n of nodes) {
          const start = starts[n.name] ?? -1;
          const ready = Math.max(0, ...n.dependsOn.map((d) => ends[d] ?? Number.POSITIVE_INFINITY));
          expect(start).toBeGreaterThanOrEqual(ready);
          // Work conservation: between becoming ready and starting, every slot was busy.
          for (let t = ready; t < start; t += 1) expect(runningAt(t)).toBe(capacity);
        }
      }),
      { numRuns: 60 },
    );
  });
});

describe('runSchedule failure attribution', () => {
  it('reports the real failure, not an image that only stopped because of it', async () => {
    const clock = new ManualClock(0);
    const cause = new Error('exit status 7');
    const done = runSchedule(planBuild([node('victim'), node('culprit')]), {
      parallelTasksLimit: 0,
      run: async (image, signal) => {
        if (image.name === 'victim') {
          // Rejected first: its work was refused because the build was stopping.
          throw new CoreError('BUILD_STOPPED', 'not started', { cause });
        }
        await clock.sleep(1, { signal });
        throw new CoreError('STAGE_BUILD_FAILED', 'exit status 7', { data: { image: 'culprit', stage: 'install' }, cause });
      },
    });
    await expect(clock.runUntilSettled(done)).rejects.toMatchObject({ code: 'BUILD_FAILED', data: { image: 'culprit', stage: 'install' } });
  });
});
