/** Where a command writes. Tests pass in-memory sinks; `bin.ts` passes the process streams. */
export interface CliIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly cwd: string;
  /** The environment commands read (never `process.env` directly). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Aborts long work (a build) when the user interrupts. */
  readonly signal?: AbortSignal;
  /** Whether stdout is a terminal (progress then shows started stages too). @default false */
  readonly isTTY?: boolean;
}

/** Exit codes shared by every command. */
export const ExitCode = {
  ok: 0,
  /** The command ran and found a failure (invalid config for `config validate`, failed build). */
  failure: 1,
  /** The command line or the project setup is wrong (unknown option, bad value, config errors for builds). */
  usage: 2,
  /** Interrupted by SIGINT/SIGTERM (the abort signal); work was stopped and cleaned up. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];
