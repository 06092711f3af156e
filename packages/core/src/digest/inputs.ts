/**
 * Digest inputs as a labelled, ordered list (STYLE rule 9): every checksum Strata computes is built
 * from a `DigestInput[]` so that `explain` can print what went into it and name the first difference.
 */
import { hashArgs, type HashArg } from './hash.js';

/**
 * One value that goes into a checksum.
 *
 * - `label` says what the value is, for people (`base image`, `command[0]`,
 *   `stageDependencies install (mapping /app)`). Labels are stable: `explain` compares them.
 * - `value` is exactly what is hashed (text as UTF-8, or raw bytes for patches).
 * - `parts`, when present, are the inputs `value` was computed from (it is itself a checksum). They are
 *   informational: the parent hashes `value`, never `parts` directly.
 */
export interface DigestInput {
  readonly label: string;
  readonly value: HashArg;
  readonly parts?: readonly DigestInput[];
}

/** A plain input. */
export function digestInput(label: string, value: HashArg): DigestInput {
  return { label, value };
}

/**
 * An input whose value is the checksum of `parts`, computed by `combine`
 * (default: werf's `H(...)`, SHA-256 of the values joined with `:::`).
 */
export function nestedInput(
  label: string,
  parts: readonly DigestInput[],
  options: { combine?: ((parts: readonly DigestInput[]) => string) | undefined } = {},
): DigestInput {
  return { label, value: (options.combine ?? hashInputs)(parts), parts };
}

/** werf's `H(v₁, …, vₙ)` over the inputs' values, in order. */
export function hashInputs(inputs: readonly DigestInput[]): string {
  return hashArgs(...inputs.map((entry) => entry.value));
}

/** Inputs for an optional value: none when absent (werf leaves absent optional values out, not empty). */
export function optionalInput(label: string, value: string | undefined): DigestInput[] {
  return value === undefined || value === '' ? [] : [digestInput(label, value)];
}
