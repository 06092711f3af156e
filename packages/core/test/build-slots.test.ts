import { describe, expect, it } from 'vitest';
import { BuildSlots } from '../src/build-slots.js';

/** A promise with its resolve handle, to hold work open. */
function gate(): { promise: Promise<void>; open: () => void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('BuildSlots', () => {
  it('runs at most `limit` works at once, in arrival order', async () => {
    const slots = new BuildSlots(2);
    const gates = [gate(), gate(), gate(), gate()];
    const started: number[] = [];
    const done = gates.map((g, i) => slots.run(async () => {
      started.push(i);
      await g.promise;
      return i;
    }));
    await tick();
    expect(started).toEqual([0, 1]);
    gates[1]?.open();
    await tick();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(done)).toEqual([0, 1, 2, 3]);
    expect(started).toEqual([0, 1, 2, 3]);
  });

  it('treats a limit ≤ 0 as unlimited', async () => {
    const slots = new BuildSlots(0);
    const g = gate();
    let started = 0;
    const done = Array.from({ length: 50 }, () => slots.run(async () => {
      started += 1;
      await g.promise;
    }));
    await tick();
    expect(started).toBe(50);
    g.open();
    await Promise.all(done);
  });

  it('lets a waiter leave the queue when its signal aborts, and passes the slot on', async () => {
    const slots = new BuildSlots(1);
    const holder = gate();
    const first = slots.run(() => holder.promise);
    const controller = new AbortController();
    let ran = false;
    const waiting = slots.run(() => {
      ran = true;
      return Promise.resolve();
    }, controller.signal);
    const third = slots.run(() => Promise.resolve('third'));
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    holder.open();
    await first;
    expect(await third).toBe('third');
    expect(ran).toBe(false);
  });

  it('stops on the first failed work: waiters and later calls reject with its error, running work finishes', async () => {
    const slots = new BuildSlots(2);
    const slow = gate();
    const running = slots.run(async () => {
      await slow.promise;
      return 'finished';
    });
    let started = false;
    const failing = slots.run(() => Promise.reject(new Error('exit 1')));
    const queued = slots.run(() => {
      started = true;
      return Promise.resolve();
    });
    await expect(failing).rejects.toThrow('exit 1');
    await expect(queued).rejects.toMatchObject({ code: 'BUILD_STOPPED', cause: { message: 'exit 1' } });
    await expect(slots.run(() => Promise.resolve())).rejects.toMatchObject({ code: 'BUILD_STOPPED' });
    slow.open();
    expect(await running).toBe('finished');
    expect(started).toBe(false);
  });

  it('never starts work granted a slot just before a stop', async () => {
    const slots = new BuildSlots(1);
    const holder = gate();
    const first = slots.run(() => holder.promise);
    let started = false;
    const next = slots.run(() => {
      started = true;
      return Promise.resolve();
    });
    // The slot passes to `next` and the stop comes before `next` resumes.
    holder.open();
    await Promise.resolve();
    slots.stop(new Error('elsewhere'));
    await first;
    await expect(next).rejects.toMatchObject({ code: 'BUILD_STOPPED' });
    expect(started).toBe(false);
  });
});
