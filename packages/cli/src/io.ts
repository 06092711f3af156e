/** Where a command writes. Tests pass in-memory sinks; `bin.ts` passes the process streams. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly signal?: AbortSignal;
}

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found a failure (invalid config, failed build). */
  failure: 1,
  /** The command line itself is wrong (unknown command/option, missing argument). */
  usage: 2,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
