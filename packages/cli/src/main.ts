import { StrataError, redactCredentials } from '@strata/errors';
import { commandUsage, parseCommandArgs, UsageError, type Command } from './command.js';
import { build } from './commands/build.js';
import { configRender } from './commands/config-render.js';
import { configShow, configValidate } from './commands/config.js';
import { explain } from './commands/explain.js';
import { plan } from './commands/plan.js';
import { ExitCode, type CliIo } from './io.js';

/** Every leaf command, in the order `strata --help` lists them. */
export const commands: readonly Command[] = [build, plan, explain, configValidate, configShow, configRender] as readonly Command[];

function topLevelUsage(): string {
  const width = Math.max(...commands.map((command) => command.path.join(' ').length));
  return [
    'Usage: strata <command> [options]',
    '',
    'Strata builds container images incrementally from werf.yaml, the way werf does.',
    '',
    'Commands:',
    ...commands.map((command) => `  ${command.path.join(' ').padEnd(width)}  ${command.summary.split('. ')[0]}`),
    '',
    'Run "strata <command> --help" for the options of a command.',
    '',
  ].join('\n');
}

/** Finds the command whose path is the longest prefix of `argv`. */
function findCommand(argv: readonly string[]): { command: Command; rest: readonly string[] } | undefined {
  let best: Command | undefined;
  for (const command of commands) {
    const matches = command.path.every((word, index) => argv[index] === word);
    if (matches && (!best || command.path.length > best.path.length)) best = command;
  }
  return best ? { command: best, rest: argv.slice(best.path.length) } : undefined;
}

/**
 * Runs the CLI with `argv` (without `node` and the script) and returns the exit code.
 * Never throws: failures are printed to `io.stderr`.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.stdout(topLevelUsage());
    return argv.length === 0 ? ExitCode.usage : ExitCode.ok;
  }
  const found = findCommand(argv);
  if (!found) {
    const group = commands.filter((command) => command.path[0] === argv[0]);
    if (group.length > 0 && (argv.length === 1 || argv[1]?.startsWith('-'))) {
      io.stdout(`Commands under "strata ${argv[0]}":\n${group.map((command) => `  strata ${command.path.join(' ')}  ${command.summary.split('. ')[0]}`).join('\n')}\n`);
      return argv.includes('--help') || argv.includes('-h') ? ExitCode.ok : ExitCode.usage;
    }
    io.stderr(`strata: unknown command "${argv.join(' ')}"\n\n${topLevelUsage()}`);
    return ExitCode.usage;
  }
  const { command, rest } = found;
  try {
    const args = parseCommandArgs(command, rest);
    if (args.help) {
      io.stdout(commandUsage(command));
      return ExitCode.ok;
    }
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`strata ${command.path.join(' ')}: ${error.describe()}\n`);
      return ExitCode.usage;
    }
    if (error instanceof StrataError) {
      io.stderr(`strata ${command.path.join(' ')}: ${error.code}: ${error.describe()}\n`);
      return ExitCode.failure;
    }
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr(`strata ${command.path.join(' ')}: unexpected error (please report it): ${redactCredentials(message)}\n`);
    return ExitCode.failure;
  }
}
