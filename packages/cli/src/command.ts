import { parseArgs, type ParseArgsConfig } from 'node:util';
import { StrataError } from '@strata/errors';
import type { ExitCode} from './io.js';
import { type CliIo } from './io.js';

type OptionsSpec = NonNullable<ParseArgsConfig['options']>;

/** One leaf command (`strata config validate`). */
export interface Command<Options extends OptionsSpec = OptionsSpec> {
  /** Words after `strata`, e.g. `['config', 'validate']`. */
  readonly path: readonly string[];
  readonly summary: string;
  /** Positional arguments shown in the usage line, e.g. `[IMAGE...]`. */
  readonly positionals?: string;
  readonly options: Options;
  /** One line per option, keyed by option name. */
  readonly optionHelp: Readonly<Record<keyof Options & string, string>>;
  readonly examples?: readonly string[];
  run(args: ParsedArgs<Options>, io: CliIo): Promise<ExitCode>;
}

export interface ParsedArgs<Options extends OptionsSpec> {
  readonly values: { [K in keyof Options]?: Options[K]['type'] extends 'boolean' ? boolean : Options[K]['multiple'] extends true ? string[] : string };
  readonly positionals: readonly string[];
}

/** Raised for a wrong command line; the CLI prints it with the usage and exits 2. */
export class UsageError extends StrataError<'CLI_USAGE'> {
  constructor(message: string, hint?: string) {
    super('CLI_USAGE', message, { hint });
  }
}

export function defineCommand<Options extends OptionsSpec>(command: Command<Options>): Command<Options> {
  return command;
}

export function commandUsage(command: Command): string {
  const name = `strata ${command.path.join(' ')}`;
  const lines = [`Usage: ${name}${Object.keys(command.options).length ? ' [options]' : ''}${command.positionals ? ` ${command.positionals}` : ''}`, '', command.summary, ''];
  const entries = Object.entries(command.options);
  if (entries.length > 0) {
    lines.push('Options:');
    for (const [optionName, spec] of entries) {
      const flag = `--${optionName}${spec.type === 'string' ? ' VALUE' : ''}${spec.short ? `, -${spec.short}` : ''}`;
      lines.push(`  ${flag.padEnd(28)} ${(command.optionHelp as Record<string, string>)[optionName] ?? ''}`);
    }
  }
  lines.push(`  ${'--help, -h'.padEnd(28)} Show this help`);
  if (command.examples?.length) {
    lines.push('', 'Examples:', ...command.examples.map((example) => `  ${example}`));
  }
  return `${lines.join('\n')}\n`;
}

/** Parses `argv` for `command`; throws {@link UsageError} on unknown options or bad values. */
export function parseCommandArgs<Options extends OptionsSpec>(command: Command<Options>, argv: readonly string[]): ParsedArgs<Options> & { help: boolean } {
  try {
    const parsed = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true,
    });
    const { help, ...values } = parsed.values as Record<string, unknown>;
    if (!command.positionals && parsed.positionals.length > 0 && help !== true) {
      throw new UsageError(`unexpected argument "${parsed.positionals[0]}"`, `see strata ${command.path.join(' ')} --help`);
    }
    return { values: values as ParsedArgs<Options>['values'], positionals: parsed.positionals, help: help === true };
  } catch (error) {
    if (error instanceof UsageError) throw error;
    const message = error instanceof Error ? error.message : String(error);
    throw new UsageError(message.replace(/\. To specify a positional argument.*$/s, ''), `see strata ${command.path.join(' ')} --help`);
  }
}
