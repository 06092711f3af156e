/**
 * The benchmarks' shared output contract: every `pnpm bench:<area>` ends with ONE line of JSON,
 * `{"bench":"<area>","results":[…]}`, so CI and people can read the ratios without parsing prose.
 */

/** One measured figure against a baseline measured in the same run. */
export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** The baseline measured in the same run (`null` when the figure stands alone). */
  baseline: number | null;
  /** `value / baseline`, or the bench's documented ratio. */
  ratio: number | null;
  /** The target the ratio must meet (`ratio <= target`), `null` when there is none. */
  target: number | null;
  pass: boolean | null;
}

/** Prints the summary line; must be the last thing the bench prints. */
export function printBenchSummary(bench: string, results: readonly BenchResult[]): void {
  console.log(JSON.stringify({ bench, results }));
}
