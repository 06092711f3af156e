/**
 * Build progress for people and machines. The formatting functions are pure; {@link ProgressPrinter}
 * turns engine events into lines:
 *
 * - `text` (a CI log or a terminal): one ordered line per finished stage,
 *   `[image] stage: status (digest12, 1.23s)`, one per finished image, and while anything is being
 *   obtained a heartbeat line at least every {@link HEARTBEAT_MS} naming what is still running, so a
 *   log is never silent for minutes. On a terminal, started stages are shown too.
 * - `json`: one JSON object per line (`{"type":"stageFinished",…}`), the engine's events plus
 *   `output` lines of build containers and `heartbeat` objects (same period); the plan event carries
 *   its text.
 */
import type { BuildEvent, ImageOutcome, StageStatus } from '@strata/core';
import { redactCredentials } from '@strata/errors';

/** Longest silence of a text log while something is building. */
export const HEARTBEAT_MS = 20_000;

/** `1.23s`, `2m05s`. */
export function formatDuration(ms: number): string {
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)}s`;
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)}m${String(seconds % 60).padStart(2, '0')}s`;
}

/** `[app] install: built (3dbd6d446891, 1.23s)`. */
export function formatStageLine(event: Extract<BuildEvent, { type: 'stageFinished' }>): string {
  return `[${event.image}] ${event.stage}: ${event.status} (${event.digest.slice(0, 12)}, ${formatDuration(event.durationMs)})`;
}

/** Counts per status in a fixed order, e.g. `2 built, 3 reused`. */
export function formatStatusCounts(statuses: readonly StageStatus[]): string {
  const order: StageStatus[] = ['built', 'copied', 'reused', 'discarded'];
  const parts = order.flatMap((status) => {
    const count = statuses.filter((s) => s === status).length;
    return count > 0 ? [`${count} ${status}`] : [];
  });
  return parts.length > 0 ? parts.join(', ') : 'no stages';
}

/**
 * The summary table after a build: per image (plan order when given), its time, how its stages were
 * obtained, and the image name of its last stage.
 */
export function formatSummary(outcomes: readonly ImageOutcome[], order?: readonly string[]): string {
  const sorted = [...outcomes].sort((a, b) => rank(a.image, order) - rank(b.image, order));
  const rows = sorted.map((outcome) => [
    outcome.image,
    formatDuration(outcome.durationMs),
    formatStatusCounts(outcome.stages.map((stage) => stage.status)),
    outcome.final ? redactCredentials(outcome.stages.at(-1)?.stage.imageRef ?? '') : `${redactCredentials(outcome.stages.at(-1)?.stage.imageRef ?? '')} (not final)`,
  ]);
  const header = ['IMAGE', 'TIME', 'STAGES', 'IMAGE NAME'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join('  ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

function rank(image: string, order: readonly string[] | undefined): number {
  const index = order?.indexOf(image) ?? -1;
  return index === -1 ? Number.MAX_SAFE_INTEGER : index;
}

export interface ProgressPrinterOptions {
  mode: 'text' | 'json';
  /** Whether the output is a terminal: started stages are shown too. @default false */
  tty?: boolean | undefined;
  write: (text: string) => void;
  /** @default Date.now */
  now?: () => number;
  /** Heartbeat timer (test seam). @default setInterval / clearInterval */
  setInterval?: (callback: () => void, ms: number) => unknown;
  clearInterval?: (handle: unknown) => void;
  /** @default HEARTBEAT_MS */
  heartbeatMs?: number | undefined;
}

/** Prints engine events as they come; call {@link stop} when the build ends. */
export class ProgressPrinter {
  readonly #options: ProgressPrinterOptions;
  readonly #now: () => number;
  /** `image/stage` → start time, for stages being obtained. */
  readonly #running = new Map<string, number>();
  #timer: unknown;
  #lastWrite: number;

  constructor(options: ProgressPrinterOptions) {
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#lastWrite = this.#now();
  }

  /** Starts the heartbeat. */
  start(): void {
    if (this.#timer !== undefined) return;
    const every = this.#options.heartbeatMs ?? HEARTBEAT_MS;
    const set = this.#options.setInterval ?? ((callback: () => void, ms: number) => setInterval(callback, ms).unref());
    // Ticks at a third of the period so the silence never exceeds it by much.
    this.#timer = set(() => this.heartbeat(), Math.max(1, Math.floor(every / 3)));
  }

  stop(): void {
    if (this.#timer === undefined) return;
    (this.#options.clearInterval ?? ((handle: unknown) => clearInterval(handle as NodeJS.Timeout)))(this.#timer);
    this.#timer = undefined;
  }

  /** Prints a heartbeat when something is running and nothing was written for the period. */
  heartbeat(): void {
    const now = this.#now();
    if (this.#running.size === 0 || now - this.#lastWrite < (this.#options.heartbeatMs ?? HEARTBEAT_MS)) return;
    if (this.#options.mode === 'json') {
      const running = [...this.#running].map(([key, since]) => ({ stage: key, elapsedMs: now - since }));
      this.#write(`${JSON.stringify({ type: 'heartbeat', running })}\n`);
      return;
    }
    const running = [...this.#running].map(([key, since]) => `${key} (${formatDuration(now - since)})`);
    this.#write(`… still working: ${running.join(', ')}\n`);
  }

  /** The engine's event listener. Never throws. */
  readonly onEvent = (event: BuildEvent): void => {
    try {
      this.#handle(event);
    } catch {
      // A listener must not break the build; a failed write is not worth aborting for.
    }
  };

  /** A build container's output line. */
  readonly onOutput = (line: string, source: { image: string; stage: string }): void => {
    if (this.#options.mode === 'json') this.#write(`${JSON.stringify({ type: 'output', image: source.image, stage: source.stage, line })}\n`);
    else this.#write(`[${source.image}] ${source.stage} | ${line}\n`);
  };

  #write(text: string): void {
    this.#lastWrite = this.#now();
    this.#options.write(text);
  }

  #handle(event: BuildEvent): void {
    const key = 'stage' in event ? `${event.image}/${event.stage}` : undefined;
    if (event.type === 'stageStarted' && key !== undefined) this.#running.set(key, this.#now());
    if (event.type === 'stageFinished' && key !== undefined) this.#running.delete(key);
    if (this.#options.mode === 'json') {
      const { plan: _plan, ...rest } = event as BuildEvent & { plan?: unknown };
      this.#write(`${JSON.stringify(rest)}\n`);
      return;
    }
    switch (event.type) {
      case 'plan':
        this.#write(`${event.text.endsWith('\n') ? event.text : `${event.text}\n`}`);
        return;
      case 'imageStarted':
        if (this.#options.tty === true) this.#write(`[${event.image}] started\n`);
        return;
      case 'stageStarted':
        if (this.#options.tty === true) this.#write(`[${event.image}] ${event.stage}: … (${event.digest.slice(0, 12)})\n`);
        return;
      case 'stageFinished':
        this.#write(`${formatStageLine(event)}\n`);
        return;
      case 'imageDone':
        this.#write(`[${event.image}] done in ${formatDuration(event.durationMs)}${event.rebuilt ? '' : ' (nothing rebuilt)'}\n`);
        return;
    }
  }
}
