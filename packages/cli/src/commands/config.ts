import path from 'node:path';
import { formatProblem, loadConfig, type ParseResult } from '@strata/config';
import { defineCommand } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';

const sharedOptions = {
  dir: { type: 'string' },
  config: { type: 'string' },
  'allow-context-add-files': { type: 'boolean' },
} as const;

const sharedHelp = {
  dir: 'Project directory (default: the current directory)',
  config: 'Config file, relative to --dir (default: werf.yaml, then werf.yml)',
  'allow-context-add-files': 'Permit contextAddFiles (files outside git; breaks giterminism)',
} as const;

async function load(values: { dir?: string; config?: string; 'allow-context-add-files'?: boolean }, io: CliIo): Promise<ParseResult> {
  const projectDir = path.resolve(io.cwd, values.dir ?? '.');
  return loadConfig(projectDir, {
    configPath: values.config,
    allowContextAddFiles: values['allow-context-add-files'] === true,
    signal: io.signal,
  });
}

function printProblems(result: ParseResult, io: CliIo): void {
  const problems = result.ok ? result.warnings : result.problems;
  for (const problem of problems) io.stderr(`${formatProblem(problem)}\n`);
}

export const configValidate = defineCommand({
  path: ['config', 'validate'],
  summary: 'Check werf.yaml and print every problem as file:line:col: code: message (hint). Exits 1 when there are errors.',
  options: sharedOptions,
  optionHelp: sharedHelp,
  examples: ['strata config validate', 'strata config validate --dir examples/stapel-app'],
  async run({ values }, io) {
    const result = await load(values, io);
    printProblems(result, io);
    if (!result.ok) {
      const errors = result.problems.filter((problem) => problem.severity === 'error').length;
      io.stderr(`${errors} error${errors === 1 ? '' : 's'} found\n`);
      return ExitCode.failure;
    }
    const images = result.config.images.length;
    io.stdout(`${result.config.file}: valid (project "${result.config.project}", ${images} image${images === 1 ? '' : 's'})\n`);
    return ExitCode.ok;
  },
});

export const configShow = defineCommand({
  path: ['config', 'show'],
  summary: 'Print the resolved config (every default filled in). Exits 1 when the config has errors.',
  options: { ...sharedOptions, json: { type: 'boolean' } },
  optionHelp: { ...sharedHelp, json: 'Print JSON (the only format for now)' },
  examples: ['strata config show --json'],
  async run({ values }, io) {
    const result = await load(values, io);
    printProblems(result, io);
    if (!result.ok) return ExitCode.failure;
    io.stdout(`${JSON.stringify(result.config, null, 2)}\n`);
    return ExitCode.ok;
  },
});
