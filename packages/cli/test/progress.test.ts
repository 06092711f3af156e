import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildEvent, BuildReport, ImageOutcome, StageDigest, StageName } from '@strata/core';
import { formatDuration, formatStageLine, formatStatusCounts, formatSummary, ProgressPrinter } from '../src/progress.js';
import { writeReportFile } from '../src/report-file.js';

const digest = (char: string): StageDigest => char.repeat(56) as StageDigest;

function finished(image: string, stage: string, status: 'built' | 'reused' | 'copied' | 'discarded', durationMs: number): BuildEvent {
  return { type: 'stageFinished', image, stage: stage as StageName, digest: digest('a'), stageId: `${digest('a')}-1`, status, durationMs };
}

/** A printer on a manual clock and timer. */
function manualPrinter(mode: 'text' | 'json', tty = false) {
  let now = 0;
  let tick: (() => void) | undefined;
  const lines: string[] = [];
  const printer = new ProgressPrinter({
    mode,
    tty,
    write: (text) => lines.push(...text.split('\n').filter((line) => line !== '')),
    now: () => now,
    setInterval: (callback) => {
      tick = callback;
      return 1;
    },
    clearInterval: () => {
      tick = undefined;
    },
    heartbeatMs: 30_000,
  });
  return {
    printer,
    lines,
    advance: (ms: number): void => {
      // The timer ticks every 10 s (a third of the period).
      for (let elapsed = 0; elapsed < ms; elapsed += 10_000) {
        now += 10_000;
        tick?.();
      }
    },
  };
}

describe('progress formatting', () => {
  it('formats durations and stage lines as [image] stage: status (digest12, time)', () => {
    expect(formatDuration(420)).toBe('0.42s');
    expect(formatDuration(125_000)).toBe('2m05s');
    expect(formatStageLine(finished('app', 'install', 'built', 1234) as Extract<BuildEvent, { type: 'stageFinished' }>)).toBe('[app] install: built (aaaaaaaaaaaa, 1.23s)');
    expect(formatStatusCounts(['reused', 'built', 'reused', 'copied'])).toBe('1 built, 1 copied, 2 reused');
    expect(formatStatusCounts([])).toBe('no stages');
  });

  it('summarises per image in plan order: time, stage statuses, final image name', () => {
    const outcome = (image: string, final: boolean, statuses: ('built' | 'reused')[]): ImageOutcome => ({
      image,
      final,
      commit: 'c',
      durationMs: 1500,
      stages: statuses.map((status, index) => ({
        name: 'from',
        status,
        durationMs: 1,
        stage: { imageRef: `demo:${image}-${index}` } as ImageOutcome['stages'][number]['stage'],
      })),
    });
    const text = formatSummary([outcome('app', true, ['reused', 'built']), outcome('base', false, ['reused'])], ['base', 'app']);
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^IMAGE\s+TIME\s+STAGES\s+IMAGE NAME$/);
    expect(lines[1]).toMatch(/^base\s+1\.50s\s+1 reused\s+demo:base-0 \(not final\)$/);
    expect(lines[2]).toMatch(/^app\s+1\.50s\s+1 built, 1 reused\s+demo:app-1$/);
  });

  it('prints ordered stage lines on a non-TTY, and a heartbeat at least every period while a stage runs', () => {
    const { printer, lines, advance } = manualPrinter('text');
    printer.start();
    printer.onEvent({ type: 'imageStarted', image: 'app' });
    printer.onEvent({ type: 'stageStarted', image: 'app', stage: 'install' as StageName, digest: digest('b') });
    expect(lines).toEqual([]); // started stages are not shown in a CI log
    advance(30_000);
    expect(lines).toEqual(['… still working: app/install (30.00s)']);
    advance(20_000);
    expect(lines).toHaveLength(1); // quiet for less than the period since the last line
    advance(10_000);
    expect(lines[1]).toBe('… still working: app/install (1m00s)');
    printer.onOutput('compiling', { image: 'app', stage: 'install' });
    advance(20_000);
    expect(lines).toHaveLength(3); // output counts as a sign of life
    printer.onEvent(finished('app', 'install', 'built', 90_000));
    advance(120_000);
    expect(lines.slice(2)).toEqual(['[app] install | compiling', '[app] install: built (aaaaaaaaaaaa, 1m30s)']); // nothing runs: no heartbeat
    printer.onEvent({ type: 'imageDone', image: 'app', rebuilt: true, durationMs: 90_000 });
    expect(lines.at(-1)).toBe('[app] done in 1m30s');
    printer.stop();
  });

  it('shows started stages on a terminal', () => {
    const { printer, lines } = manualPrinter('text', true);
    printer.onEvent({ type: 'stageStarted', image: 'app', stage: 'setup' as StageName, digest: digest('c') });
    expect(lines).toEqual(['[app] setup: … (cccccccccccc)']);
  });

  it('prints newline-delimited JSON events with --json, heartbeats included', () => {
    const { printer, lines, advance } = manualPrinter('json');
    printer.start();
    printer.onEvent({ type: 'plan', plan: { sets: [], images: [] }, text: '┌ plan' });
    printer.onEvent({ type: 'stageStarted', image: 'app', stage: 'from' as StageName, digest: digest('d') });
    advance(60_000);
    printer.onEvent(finished('app', 'from', 'reused', 5));
    printer.onOutput('hello', { image: 'app', stage: 'from' });
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(events.map((event) => event.type)).toEqual(['plan', 'stageStarted', 'heartbeat', 'heartbeat', 'stageFinished', 'output']);
    expect(events[2]).toEqual({ type: 'heartbeat', running: [{ stage: 'app/from', elapsedMs: 30_000 }] });
    expect(events[0]).toEqual({ type: 'plan', text: '┌ plan' });
    expect(events[4]).toMatchObject({ image: 'app', stage: 'from', status: 'reused', durationMs: 5 });
    expect(events[5]).toEqual({ type: 'output', image: 'app', stage: 'from', line: 'hello' });
  });
});

describe('report file', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-cli-report-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const report: BuildReport = { Images: {} };

  it('writes pretty JSON through a temporary file and a rename, creating the directory', async () => {
    const file = path.join(dir, 'nested', 'report.json');
    await writeReportFile(file, { Images: { '~': { WerfImageName: '~' } as BuildReport['Images'][string] } });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ Images: { '~': { WerfImageName: '~' } } });
    expect(readdirSync(path.dirname(file))).toEqual(['report.json']); // no temporary file left
  });

  it('replaces an existing report whole, and leaves it intact when the write fails', async () => {
    const file = path.join(dir, 'report.json');
    writeFileSync(file, 'old');
    await writeReportFile(file, report);
    expect(readFileSync(file, 'utf8')).toBe('{\n  "Images": {}\n}\n');
    const aborted = AbortSignal.abort(new Error('stop'));
    await expect(writeReportFile(file, { Images: { x: {} as BuildReport['Images'][string] } }, { signal: aborted })).rejects.toThrow();
    expect(readFileSync(file, 'utf8')).toBe('{\n  "Images": {}\n}\n');
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });
});
