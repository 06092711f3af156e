import path from 'node:path';
import { formatProblem, loadConfig, renderConfig, type ConfigProblem, type LoadConfigOptions, type ParseResult, type RenderConfigResult } from '@strata/config';
import { defineCommand } from '../command.js';
import { ExitCode, type CliIo } from '../io.js';
import { openConfigSource } from '../wiring/config-source.js';

/** Options every `config` command takes. */
export const configOptions = {
  dir: { type: 'string' },
  config: { type: 'string' },
  dev: { type: 'boolean' },
  'allow-env': { type: 'string', multiple: true },
  'allow-context-add-files': { type: 'boolean' },
} as const;

export const configOptionHelp = {
  dir: 'Project directory (default: the current directory)',
  config: 'Config file, relative to --dir (default: werf.yaml, then werf.yml)',
  dev: 'Read the working tree instead of the HEAD commit (uncommitted changes count)',
  'allow-env': 'Let templates read this environment variable with env (repeatable; adds to werf-giterminism.yaml)',
  'allow-context-add-files': 'Permit contextAddFiles (files outside git; breaks giterminism)',
} as const;

/** The parsed values of {@link configOptions}. */
export interface ConfigOptionValues {
  dir?: string | undefined;
  config?: string | undefined;
  dev?: boolean | undefined;
  'allow-env'?: string[] | undefined;
  'allow-context-add-files'?: boolean | undefined;
}

/**
 * Runs `use` with the config's source opened for the options: the HEAD commit inside a git work
 * tree, the working tree with `--dev` or outside git (with a notice on stderr).
 */
export async function withConfigSource<T>(values: ConfigOptionValues, io: CliIo, use: (projectDir: string, options: LoadConfigOptions) => Promise<T>): Promise<T> {
  const projectDir = path.resolve(io.cwd, values.dir ?? '.');
  const opened = await openConfigSource(projectDir, { dev: values.dev === true, signal: io.signal });
  if (opened.notice !== undefined) io.stderr(`note: ${opened.notice}\n`);
  try {
    return await use(projectDir, {
      source: opened.source,
      env: io.env,
      allowedEnv: values['allow-env'] ?? [],
      ...(values.config === undefined ? {} : { configPath: values.config }),
      allowContextAddFiles: values['allow-context-add-files'] === true,
      ...(io.signal === undefined ? {} : { signal: io.signal }),
    });
  } finally {
    await opened.close();
  }
}

async function load(values: ConfigOptionValues, io: CliIo): Promise<ParseResult> {
  return withConfigSource(values, io, loadConfig);
}

/** Renders the config as `strata config render` prints it. */
export async function render(values: ConfigOptionValues, io: CliIo): Promise<RenderConfigResult> {
  return withConfigSource(values, io, renderConfig);
}

/** Prints each problem on stderr in {@link formatProblem}'s one-line form. */
export function printProblems(problems: readonly ConfigProblem[], io: CliIo): void {
  for (const problem of problems) io.stderr(`${formatProblem(problem)}\n`);
}

export const configValidate = defineCommand({
  path: ['config', 'validate'],
  summary: 'Check werf.yaml (rendering Go templates) and print every problem as file:line:col: code: message (hint). Exits 1 when there are errors.',
  options: configOptions,
  optionHelp: configOptionHelp,
  examples: ['strata config validate', 'strata config validate --dir examples/stapel-app', 'strata config validate --dev --allow-env CI_COMMIT_TAG'],
  async run({ values }, io) {
    const result = await load(values, io);
    printProblems(result.ok ? result.warnings : result.problems, io);
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
  summary: 'Print the resolved config (templates rendered, every default filled in). Exits 1 when the config has errors.',
  options: { ...configOptions, json: { type: 'boolean' } },
  optionHelp: { ...configOptionHelp, json: 'Print JSON (the only format for now)' },
  examples: ['strata config show --json'],
  async run({ values }, io) {
    const result = await load(values, io);
    printProblems(result.ok ? result.warnings : result.problems, io);
    if (!result.ok) return ExitCode.failure;
    io.stdout(`${JSON.stringify(result.config, null, 2)}\n`);
    return ExitCode.ok;
  },
});
