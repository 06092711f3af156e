/**
 * The build scheduler (SPEC §4.4, "going beyond werf"): an image starts as soon as everything it depends
 * on is done, with at most `parallelTasksLimit` images at once. The printed sets are for humans; the
 * scheduler follows the graph.
 */
import { setMaxListeners } from 'node:events';
import { abortReason, isStrataError } from '@strata/errors';
import type { CallOptions } from './clock.js';
import { CoreError } from './errors.js';
import type { BuildPlan, ImageNode } from './planner.js';

/** The default `parallelTasksLimit` (werf's). */
export const DEFAULT_PARALLEL_TASKS_LIMIT = 5;

export interface ScheduleOptions<R> extends CallOptions {
  /** Builds one image; its dependencies are done. `signal` aborts when the whole schedule is cancelled. */
  run: (image: ImageNode, signal: AbortSignal) => Promise<R>;
  /** At most this many images at once; ≤ 0 means unlimited. @default 5 */
  parallelTasksLimit?: number | undefined;
  /** Told when an image starts. */
  onStart?: ((image: ImageNode) => void) | undefined;
  /** Told when an image finished successfully. */
  onDone?: ((image: ImageNode, result: R) => void) | undefined;
}

/** Data of a `BUILD_FAILED` error: which image failed and, when known, at which stage. */
export interface BuildFailureData {
  image: string;
  stage?: string | undefined;
}

function failure(image: ImageNode, error: unknown): CoreError<BuildFailureData> {
  if (error instanceof CoreError && error.code === 'BUILD_FAILED') return error as CoreError<BuildFailureData>;
  const data = isStrataError(error) ? (error.data as { stage?: unknown } | undefined) : undefined;
  const stage = typeof data?.stage === 'string' ? data.stage : undefined;
  const cause = error instanceof Error ? error.message : String(error);
  return new CoreError<BuildFailureData>(
    'BUILD_FAILED',
    `image ${image.name} failed${stage === undefined ? '' : ` at stage ${stage}`}: ${cause}`,
    { hint: isStrataError(error) ? error.hint : undefined, data: { image: image.name, stage }, cause: error },
  );
}

/** Whether `error` (or a cause of it) is a `BUILD_STOPPED`: work refused after another failure. */
function stoppedOnly(error: unknown): boolean {
  for (let current: unknown = error, depth = 0; current instanceof Error && depth < 10; current = current.cause, depth++) {
    if (current instanceof CoreError && current.code === 'BUILD_STOPPED') return true;
  }
  return false;
}

/**
 * Runs every image of `plan`, each once its dependencies are done, keeping up to the limit busy.
 * Results are keyed by image name.
 *
 * On the first failure no new image starts; images already running finish (their stages are saved and
 * useful to the next build); then it rejects with `BUILD_FAILED` naming the image, the stage when the
 * cause says which, and the cause. When `signal` aborts, running images are aborted and it rejects with
 * the signal's reason.
 */
export async function runSchedule<R>(plan: BuildPlan, options: ScheduleOptions<R>): Promise<Map<string, R>> {
  const limit = options.parallelTasksLimit ?? DEFAULT_PARALLEL_TASKS_LIMIT;
  const capacity = limit > 0 ? limit : Number.POSITIVE_INFINITY;
  const { signal } = options;
  signal?.throwIfAborted();

  const results = new Map<string, R>();
  const planned = new Set(plan.images.map((image) => image.name));
  const waiting = [...plan.images];
  const running = new Set<string>();
  const cancel = new AbortController();
  // Every running image (unlimited when lookups run at once) listens on this signal in several calls.
  setMaxListeners(0, cancel.signal);
  const onAbort = (): void => cancel.abort(abortReason(signal as AbortSignal));
  signal?.addEventListener('abort', onAbort, { once: true });

  let firstError: Error | undefined;
  let finish: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => {
    finish = resolve;
  });

  const ready = (image: ImageNode): boolean =>
    image.dependsOn.every((dep) => results.has(dep) || !planned.has(dep));

  const pump = (): void => {
    const stopped = firstError !== undefined || cancel.signal.aborted;
    while (!stopped && running.size < capacity) {
      const index = waiting.findIndex(ready);
      if (index < 0) break;
      const [image] = waiting.splice(index, 1) as [ImageNode];
      running.add(image.name);
      options.onStart?.(image);
      options
        .run(image, cancel.signal)
        .then(
          (result) => {
            results.set(image.name, result);
            options.onDone?.(image, result);
          },
          (error: unknown) => {
            // An image that only stopped because of another's failure never hides that failure.
            if (firstError !== undefined && !(stoppedOnly(firstError) && !stoppedOnly(error))) return;
            firstError = cancel.signal.aborted && signal?.aborted ? abortReason(signal) : failure(image, error);
          },
        )
        .finally(() => {
          running.delete(image.name);
          pump();
        })
        .catch(() => undefined);
    }
    if (running.size === 0 && (stopped || firstError !== undefined || waiting.length === 0 || !waiting.some(ready))) finish();
  };

  try {
    pump();
    await finished;
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw abortReason(signal);
  if (firstError !== undefined) throw firstError;
  if (waiting.length > 0) {
    // Unreachable for a plan made by planBuild (it rejects cycles); guards hand-made plans.
    throw new CoreError('DEPENDENCY_CYCLE', `images never became ready: ${waiting.map((image) => image.name).join(', ')}`, {
      data: { cycle: waiting.map((image) => image.name) },
    });
  }
  return results;
}
