import type { ImageExplanation, PlanResult } from '@strata/core';
import { defineCommand } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { PRECEDENCE_NOTE, STORAGE_OPTION_HELP, resolveParallelTasksLimit, resolveStorageOptions } from '../options.js';
import { compose } from '../wiring/compose.js';
import { decisionJson, describeDecision, loadOrReport, projectOptionHelp, projectOptions, reportFailure, storageOptions } from './shared.js';

/** The text form of a plan: the SPEC §4.4 box, then per image each knowable digest and what a build would do. */
export function formatPlanResult(result: PlanResult): string {
  const lines = [result.text.replace(/\n$/, ''), ''];
  for (const image of result.images) lines.push(...formatImageStages(image), '');
  return `${lines.join('\n')}`;
}

function formatImageStages(image: ImageExplanation): string[] {
  const lines = [`${image.image}:`];
  const width = Math.max(0, ...image.stages.map((stage) => stage.name.length));
  for (const stage of image.stages) lines.push(`  ${stage.name.padEnd(width)}  ${stage.digest}  ${describeDecision(stage.decision)}`);
  if (image.pending !== undefined) lines.push(`  ${image.pending.stage.padEnd(width)}  (digest known only during the build: ${image.incomplete ?? image.pending.reason.kind})`);
  return lines;
}

/** The JSON form of a plan. */
export function planJson(result: PlanResult): Record<string, unknown> {
  return {
    sets: result.plan.sets.map((set) => set.map((node) => ({ image: node.name, artifact: node.isArtifact, dependsOn: node.dependsOn }))),
    images: result.images.map((image) => ({
      image: image.image,
      stages: image.stages.map((stage) => ({ name: stage.name, digest: stage.digest, decision: decisionJson(stage.decision) })),
      pending: image.pending === undefined ? undefined : { stage: image.pending.stage, reason: image.pending.reason, text: image.incomplete },
    })),
  };
}

async function runPlan(
  values: Parameters<typeof resolveStorageOptions>[0] & { dir?: string; config?: string; 'allow-context-add-files'?: boolean; json?: boolean; 'parallel-tasks-limit'?: string },
  images: readonly string[],
  io: CliIo,
): Promise<ExitCode> {
  const storage = resolveStorageOptions(values, io.env);
  const parallelTasksLimit = resolveParallelTasksLimit(values['parallel-tasks-limit'], io.env);
  const project = await loadOrReport(values, io);
  if (project === undefined) return ExitCode.usage;
  let composition;
  try {
    composition = await compose({ project, storage, env: io.env, parallelTasksLimit, allowContextAddFiles: values['allow-context-add-files'], signal: io.signal });
  } catch (error) {
    return reportFailure('strata plan', error, io);
  }
  try {
    const result = await composition.engine.plan(images.length > 0 ? images : undefined, { signal: io.signal });
    io.stdout(values.json === true ? `${JSON.stringify(planJson(result), null, 2)}\n` : formatPlanResult(result));
    return ExitCode.ok;
  } catch (error) {
    return reportFailure('strata plan', error, io);
  } finally {
    await composition.close();
  }
}

export const plan = defineCommand({
  path: ['plan'],
  summary:
    'Print the build plan (the sets of images built concurrently) and, per image, every stage digest known without building ' +
    'and what a build would do with it (reuse, copy, build and why). Builds nothing.',
  positionals: '[IMAGE...]',
  options: { ...projectOptions, ...storageOptions, 'parallel-tasks-limit': { type: 'string' } },
  optionHelp: {
    ...projectOptionHelp,
    ...STORAGE_OPTION_HELP,
    'parallel-tasks-limit': 'The limit the plan is printed for (default 5; env STRATA_PARALLEL_TASKS_LIMIT, WERF_PARALLEL_TASKS_LIMIT)',
  },
  examples: ['strata plan', 'strata plan --json --repo 127.0.0.1:5000/myproject app', PRECEDENCE_NOTE],
  run: ({ values, positionals }, io) => runPlan(values, positionals, io),
});
