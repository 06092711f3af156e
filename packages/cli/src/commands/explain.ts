import { formatInputs, type ImageExplanation } from '@strata/core';
import { redactCredentials } from '@strata/errors';
import { defineCommand, UsageError } from '../command.js';
import { ExitCode } from '../io.js';
import { PRECEDENCE_NOTE, STORAGE_OPTION_HELP, resolveStorageOptions } from '../options.js';
import { compose } from '../wiring/compose.js';
import { decisionJson, describeDecision, loadOrReport, projectOptionHelp, projectOptions, reportFailure, storageOptions } from './shared.js';

/** The text form: per stage its digest, what a build would do (and why), then its labelled inputs. */
export function formatExplanation(image: ImageExplanation, stage?: string): string {
  const lines = [`image ${image.image}`];
  for (const explained of image.stages) {
    if (stage !== undefined && explained.name !== stage) continue;
    lines.push('', `stage ${explained.name}  ${explained.digest}`, `  ${describeDecision(explained.decision)}`, '  inputs:');
    lines.push(...formatInputs(explained.inputs).map((line) => `    ${redactCredentials(line)}`));
  }
  if (image.pending !== undefined && (stage === undefined || stage === image.pending.stage)) {
    lines.push('', `stage ${image.pending.stage}: not computable without building (${image.incomplete ?? image.pending.reason.kind})`);
  }
  return `${lines.join('\n')}\n`;
}

export const explain = defineCommand({
  path: ['explain'],
  summary:
    "Explain an image's stage digests: each stage's labelled inputs, and why it would be rebuilt " +
    '(the first input that differs from the stored stage built last time on the same previous stage). Builds nothing.',
  positionals: 'IMAGE',
  options: { ...projectOptions, ...storageOptions, stage: { type: 'string' } },
  optionHelp: { ...projectOptionHelp, ...STORAGE_OPTION_HELP, stage: 'Only this stage (e.g. install)' },
  examples: ['strata explain app', 'strata explain app --stage setup --repo 127.0.0.1:5000/myproject', PRECEDENCE_NOTE],
  async run({ values, positionals }, io) {
    if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'missing IMAGE' : 'explain takes one IMAGE', 'see strata explain --help');
    const image = positionals[0] as string;
    const storage = resolveStorageOptions(values, io.env);
    const project = await loadOrReport(values, io);
    if (project === undefined) return ExitCode.usage;
    let composition;
    try {
      composition = await compose({ project, storage, env: io.env, allowContextAddFiles: values['allow-context-add-files'], signal: io.signal });
    } catch (error) {
      return reportFailure('strata explain', error, io);
    }
    try {
      const explained = (await composition.engine.explain([image], { signal: io.signal })).find((entry) => entry.image === image);
      if (explained === undefined) throw new UsageError(`no image ${JSON.stringify(image)} in the plan`);
      const stage = values.stage;
      if (stage !== undefined && !explained.stages.some((s) => s.name === stage) && explained.pending?.stage !== stage) {
        const known = explained.stages.map((s) => s.name).join(', ');
        throw new UsageError(`image ${image} has no computable stage ${JSON.stringify(stage)}`, `its stages: ${known}`);
      }
      if (values.json === true) {
        const stages = explained.stages
          .filter((s) => stage === undefined || s.name === stage)
          .map((s) => ({ name: s.name, digest: s.digest, decision: decisionJson(s.decision), inputs: s.inputs }));
        io.stdout(`${JSON.stringify({ image, stages, pending: explained.pending, incomplete: explained.incomplete }, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value), 2)}\n`);
      } else {
        io.stdout(formatExplanation(explained, stage));
      }
      return ExitCode.ok;
    } catch (error) {
      if (error instanceof UsageError) throw error;
      return reportFailure('strata explain', error, io);
    } finally {
      await composition.close();
    }
  },
});
