/** What `build`, `plan` and `explain` share: project options, config loading, failures, decisions. */
import { formatProblem } from '@strata/config';
import { CoreError, formatDifference, formatStageId, type StageDecision } from '@strata/core';
import { DockerBuildError } from '@strata/docker';
import { isStrataError, redactCredentials, StrataError } from '@strata/errors';
import { ExitCode, type CliIo } from '../io.js';
import { loadProject, type LoadedProject, type ProjectOptions } from '../wiring/compose.js';

export const projectOptions = {
  dir: { type: 'string' },
  config: { type: 'string' },
  'allow-context-add-files': { type: 'boolean' },
  'allow-env': { type: 'string', multiple: true },
  json: { type: 'boolean' },
} as const;

export const projectOptionHelp = {
  dir: 'Project directory, inside a git work tree (default: the current directory)',
  config: 'Config file, relative to --dir (default: werf.yaml, then werf.yml)',
  'allow-context-add-files': 'Permit contextAddFiles (files outside git; breaks giterminism)',
  'allow-env': 'Let config templates read this environment variable with env (repeatable; adds to werf-giterminism.yaml)',
  json: 'Machine-readable output (JSON)',
} as const;

export const storageOptions = {
  repo: { type: 'string' },
  'secondary-repo': { type: 'string', multiple: true },
  'cache-repo': { type: 'string', multiple: true },
  'final-repo': { type: 'string' },
} as const;

/** Loads the config; prints warnings, or the problems (returning `undefined`: exit 2). */
export async function loadOrReport(
  values: { dir?: string | undefined; config?: string | undefined; 'allow-context-add-files'?: boolean | undefined; 'allow-env'?: string[] | undefined },
  io: CliIo,
): Promise<Extract<LoadedProject, { ok: true }> | undefined> {
  const options: ProjectOptions = {
    dir: values.dir,
    config: values.config,
    allowContextAddFiles: values['allow-context-add-files'],
    allowedEnv: values['allow-env'] ?? [],
    env: io.env,
  };
  const loaded = await loadProject(options, io.cwd, io.signal);
  if (loaded.notice !== undefined) io.stderr(`note: ${loaded.notice}\n`);
  const problems = loaded.ok ? loaded.warnings : loaded.problems;
  for (const problem of problems) io.stderr(`${formatProblem(problem)}\n`);
  if (!loaded.ok) {
    const errors = loaded.problems.filter((problem) => problem.severity === 'error').length;
    io.stderr(`${errors} config error${errors === 1 ? '' : 's'}; nothing was built\n`);
    return undefined;
  }
  return loaded;
}

/** The errors that mean "the invocation or the project setup is wrong" (exit 2), by code. */
const SETUP_ERROR_CODES = new Set(['GIT_NOT_A_REPOSITORY', 'LOCK_INVALID_URL', 'UNKNOWN_IMAGE', 'DEPENDENCY_CYCLE', 'CONFIG_INVALID']);

/** Walks `error`'s cause chain for the first error that satisfies `test`. */
function findCause<T>(error: unknown, test: (candidate: unknown) => candidate is T): T | undefined {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current !== undefined && current !== null && !seen.has(current)) {
    if (test(current)) return current;
    seen.add(current);
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/**
 * Prints a failed command's error: for a failed build the image and stage, the cause, and the failing
 * command with its output tail; returns the exit code (2 for setup errors, 130 when interrupted,
 * 1 otherwise). Every line is redacted.
 */
export function reportFailure(prefix: string, error: unknown, io: CliIo): ExitCode {
  const code = error instanceof StrataError ? String((error as StrataError<string>).code) : undefined;
  const print = (text: string): void => io.stderr(`${redactCredentials(text)}\n`);
  if (io.signal?.aborted) {
    const reason: unknown = io.signal.reason;
    print(`${prefix}: interrupted (${reason instanceof Error ? reason.message : String(reason)}); running work was stopped and build containers removed`);
    return ExitCode.interrupted;
  }
  if (!(error instanceof StrataError)) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    print(`${prefix}: unexpected error (please report it): ${message}`);
    return ExitCode.failure;
  }
  if (error instanceof CoreError && error.code === 'BUILD_FAILED') {
    const data = error.data as { image?: string; stage?: string } | undefined;
    print(`${prefix}: build failed: image ${data?.image ?? '?'}${data?.stage === undefined ? '' : `, stage ${data.stage}`}`);
    print(`  ${error.describe()}`);
    const dockerFailure = findCause(error, (candidate): candidate is DockerBuildError => candidate instanceof DockerBuildError);
    if (dockerFailure?.data !== undefined) {
      const { command, exitCode, outputTail } = dockerFailure.data;
      if (command !== undefined) print(`  command: ${command}`);
      if (exitCode !== undefined) print(`  exit code: ${exitCode}`);
      if (outputTail.length > 0) {
        print(`  output (last ${outputTail.length} lines):`);
        for (const line of outputTail) print(`    | ${line}`);
      }
    }
    return ExitCode.failure;
  }
  print(`${prefix}: ${error.code}: ${error.describe()}`);
  const cause = findCause(error.cause, (candidate): candidate is StrataError => isStrataError(candidate));
  if (cause !== undefined && cause !== error) print(`  caused by ${cause.code}: ${cause.describe()}`);
  return code !== undefined && SETUP_ERROR_CODES.has(code) ? ExitCode.usage : ExitCode.failure;
}

/** One line for what a build would do with a stage (plan and explain). */
export function describeDecision(decision: StageDecision): string {
  switch (decision.kind) {
    case 'reuse':
      return `reuse ${formatStageId(decision.stage.id)} (${decision.store})`;
    case 'copy':
      return `copy ${formatStageId(decision.stage.id)} from ${decision.store}`;
    case 'build': {
      const { reason } = decision;
      switch (reason.kind) {
        case 'previousRebuilt':
          return 'build: the previous stage is rebuilt';
        case 'inputsChanged':
          return reason.difference === undefined
            ? `build: differs from ${formatStageId(reason.previous.id)} (which recorded no inputs)`
            : `build: ${formatDifference(reason.difference)} (vs ${formatStageId(reason.previous.id)})`;
        case 'noSuitableStage':
          return `build: ${reason.candidates} stored stage${reason.candidates === 1 ? '' : 's'} with this digest, none suitable (commits of another branch, or older than the previous stage)`;
        case 'nothingToCompare':
          return 'build: not stored yet';
      }
    }
  }
}

/** A JSON-friendly form of a decision. */
export function decisionJson(decision: StageDecision): Record<string, unknown> {
  switch (decision.kind) {
    case 'reuse':
    case 'copy':
      return { kind: decision.kind, stageId: formatStageId(decision.stage.id), imageRef: redactCredentials(decision.stage.imageRef), store: decision.store };
    case 'build': {
      const { reason } = decision;
      return {
        kind: 'build',
        reason: reason.kind,
        ...(reason.kind === 'inputsChanged' ? { previousStageId: formatStageId(reason.previous.id), difference: reason.difference } : {}),
        ...(reason.kind === 'noSuitableStage' ? { candidates: reason.candidates } : {}),
      };
    }
  }
}
