import { ExitCode } from '../io.js';
import { defineCommand } from '../command.js';
import { configOptionHelp, configOptions, printProblems, render } from './config.js';

/**
 * `strata config render`: prints the YAML werf.yaml renders to (the file as is when it has no
 * templates), read from the HEAD commit, or the working tree with `--dev`. Line numbers of this
 * output are the "rendered config" lines problems refer to. Exits 1 on a template error.
 */
export const configRender = defineCommand({
  path: ['config', 'render'],
  summary: 'Print the rendered werf.yaml (Go templates executed). Reads the HEAD commit; --dev reads the working tree. Exits 1 on template errors.',
  options: configOptions,
  optionHelp: configOptionHelp,
  examples: ['strata config render', 'strata config render --dir modules/my-module --dev', 'strata config render --allow-env CI_COMMIT_TAG'],
  async run({ values }, io) {
    const result = await render(values, io);
    if (!result.ok) {
      printProblems(result.problems, io);
      return ExitCode.failure;
    }
    io.stdout(result.text.endsWith('\n') || result.text === '' ? result.text : `${result.text}\n`);
    return ExitCode.ok;
  },
});
