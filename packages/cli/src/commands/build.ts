import path from 'node:path';
import { redactCredentials, StrataError } from '@strata/errors';
import { defineCommand } from '../command.js';
import { ExitCode } from '../io.js';
import { BUILD_OPTION_HELP, PRECEDENCE_NOTE, resolveBuildOptions } from '../options.js';
import { formatSummary, ProgressPrinter } from '../progress.js';
import { writeReportFile } from '../report-file.js';
import { compose } from '../wiring/compose.js';
import { loadOrReport, projectOptionHelp, projectOptions, reportFailure, storageOptions } from './shared.js';

/** What a `--json` consumer needs of a failure: the code, the message, and for a failed build the image and stage. */
function failureFields(error: unknown): Record<string, unknown> {
  if (!(error instanceof StrataError)) return { message: redactCredentials(error instanceof Error ? error.message : String(error)) };
  const data = error.data as { image?: unknown; stage?: unknown } | undefined;
  return {
    code: error.code,
    message: error.message,
    image: typeof data?.image === 'string' ? data.image : undefined,
    stage: typeof data?.stage === 'string' ? data.stage : undefined,
  };
}

export const build = defineCommand({
  path: ['build'],
  summary:
    'Build the images of werf.yaml (all, or the IMAGEs given, with what they depend on), reusing every stage already stored. ' +
    'Prints the plan, then progress, then a summary. Exit 0 when built, 1 when a build step fails, 2 for usage or config errors, 130 when interrupted.',
  positionals: '[IMAGE...]',
  options: {
    ...projectOptions,
    ...storageOptions,
    synchronization: { type: 'string' },
    'parallel-tasks-limit': { type: 'string' },
    'report-path': { type: 'string' },
  },
  optionHelp: {
    ...projectOptionHelp,
    json: 'Print newline-delimited JSON events instead of text (plan, stageStarted, stageFinished, imageDone, output, heartbeat, then summary or failure)',
    ...BUILD_OPTION_HELP,
  },
  examples: [
    'strata build',
    'strata build --repo 127.0.0.1:5000/myproject --report-path report.json backend',
    'STRATA_REPO=registry.example.com/app WERF_CACHE_REPO_LOCAL=127.0.0.1:5000/app-cache strata build',
    PRECEDENCE_NOTE,
  ],
  async run({ values, positionals }, io) {
    const options = resolveBuildOptions(values, io.env);
    const project = await loadOrReport(values, io);
    if (project === undefined) return ExitCode.usage;
    const json = values.json === true;
    const printer = new ProgressPrinter({ mode: json ? 'json' : 'text', tty: io.isTTY, write: io.stdout });
    const reportPath = options.reportPath === undefined ? undefined : path.resolve(io.cwd, options.reportPath);
    let composition;
    try {
      composition = await compose({
        project,
        storage: options,
        env: io.env,
        synchronization: options.synchronization,
        parallelTasksLimit: options.parallelTasksLimit,
        allowContextAddFiles: values['allow-context-add-files'],
        events: printer.onEvent,
        onOutput: printer.onOutput,
        signal: io.signal,
      });
    } catch (error) {
      return reportFailure('strata build', error, io);
    }
    const storage = options.repo === undefined ? `local Docker storage (project ${project.config.project})` : `repository ${redactCredentials(composition.primaryName)}`;
    if (!json) io.stdout(`Stages storage: ${storage}\n`);
    printer.start();
    try {
      const result = await composition.engine.build(positionals.length > 0 ? positionals : undefined, { signal: io.signal });
      printer.stop();
      if (reportPath !== undefined) await writeReportFile(reportPath, result.report, { signal: io.signal });
      const order = result.plan.images.map((image) => image.name);
      if (json) {
        io.stdout(`${JSON.stringify({ type: 'summary', commit: result.commit, report: result.report, reportPath })}\n`);
      } else {
        io.stdout(`\n${formatSummary(result.images, order)}`);
        if (reportPath !== undefined) io.stdout(`Report: ${reportPath}\n`);
      }
      return ExitCode.ok;
    } catch (error) {
      printer.stop();
      const code = reportFailure('strata build', error, io);
      if (json) io.stdout(`${JSON.stringify({ type: 'failure', exitCode: code, ...failureFields(error) })}\n`);
      return code;
    } finally {
      await composition.close();
    }
  },
});
