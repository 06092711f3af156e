import { describe, expect, it } from 'vitest';
import { SingleFlight } from '@strata/core';

function deferred<T>(): { promise: Promise<T>; resolve: (v: T) => void; reject: (e: Error) => void } {
  let resolve!: (v: T) => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('SingleFlight', () => {
  it('runs identical concurrent work once and shares the result', async () => {
    const flight = new SingleFlight<string, number>();
    const gate = deferred<number>();
    let runs = 0;
    const work = (): Promise<number> => {
      runs += 1;
      return gate.promise;
    };
    const a = flight.run('k', work);
    const b = flight.run('k', work);
    const other = flight.run('other', () => Promise.resolve(7));
    await Promise.resolve();
    gate.resolve(42);
    expect(await Promise.all([a, b, other])).toEqual([42, 42, 7]);
    expect(runs).toBe(1);
    expect(flight.size).toBe(0);
    expect(await flight.run('k', () => Promise.resolve(43))).toBe(43);
  });

  it('shares failures', async () => {
    const flight = new SingleFlight<string, number>();
    const boom = new Error('boom');
    const gate = deferred<number>();
    const a = flight.run('k', () => gate.promise);
    const b = flight.run('k', () => gate.promise);
    gate.reject(boom);
    await expect(a).rejects.toBe(boom);
    await expect(b).rejects.toBe(boom);
  });

  it('cancels shared work only when its last waiter gives up', async () => {
    const flight = new SingleFlight<string, number>();
    let workSignal: AbortSignal | undefined;
    const gate = deferred<number>();
    const work = (signal: AbortSignal): Promise<number> => {
      workSignal = signal;
      return gate.promise;
    };
    const first = new AbortController();
    const second = new AbortController();
    const a = flight.run('k', work, { signal: first.signal });
    const b = flight.run('k', work, { signal: second.signal });
    await Promise.resolve();
    await Promise.resolve();
    first.abort(new Error('first gave up'));
    await expect(a).rejects.toThrow('first gave up');
    expect(workSignal?.aborted).toBe(false);
    second.abort(new Error('second gave up'));
    await expect(b).rejects.toThrow('second gave up');
    expect(workSignal?.aborted).toBe(true);
    // A new caller after cancellation starts fresh work instead of joining the cancelled one.
    expect(await flight.run('k', () => Promise.resolve(5))).toBe(5);
    gate.resolve(1);
  });

  it('rejects at once for an already aborted caller without starting work', async () => {
    const flight = new SingleFlight<string, number>();
    const controller = new AbortController();
    controller.abort(new Error('no'));
    let runs = 0;
    await expect(flight.run('k', () => Promise.resolve(++runs), { signal: controller.signal })).rejects.toThrow('no');
    expect(runs).toBe(0);
  });
});
