/**
 * `explain`: why a stage has the digest it has, and what changed since the stage used last time.
 *
 * Decision: a stored stage carries a compact RECORD of its inputs (label `strata.io/digest-inputs`,
 * {@link encodeInputsRecord}): the same labelled tree, each value replaced by a 16-hex SHA-256
 * fingerprint, plus the value itself when it is short text (commands, refs, commits) so the difference
 * can be shown, not just located. Recomputing the other side instead would need the old config and git
 * state, which are gone; storing full values would put whole patches into labels.
 */
import { createHash } from 'node:crypto';
import type { HashArg } from '../digest/hash.js';
import type { DigestInput } from '../digest/inputs.js';

/** The label (on stored stages) that holds {@link encodeInputsRecord}'s output. */
export const DIGEST_INPUTS_LABEL = 'strata.io/digest-inputs';

/** Short text values are kept verbatim in records up to this many characters. */
const MAX_RECORDED_VALUE = 128;

/** One node of a stored inputs record. */
export interface InputRecordNode {
  /** Label. */
  readonly l: string;
  /** First 16 hex characters of the SHA-256 of the value. */
  readonly h: string;
  /** The value, when it is text of at most 128 characters. */
  readonly v?: string;
  /** Parts, when the value is a checksum of them. */
  readonly p?: readonly InputRecordNode[];
}

/** A stage's inputs as stored with the stage. */
export interface InputsRecord {
  /** Format version. */
  readonly version: 1;
  readonly inputs: readonly InputRecordNode[];
}

function fingerprint(value: HashArg): string {
  return createHash('sha256').update(value).digest('hex').slice(0, 16);
}

function toNode(input: DigestInput): InputRecordNode {
  const node: { l: string; h: string; v?: string; p?: InputRecordNode[] } = { l: input.label, h: fingerprint(input.value) };
  if (typeof input.value === 'string' && input.value.length <= MAX_RECORDED_VALUE) node.v = input.value;
  if (input.parts) node.p = input.parts.map(toNode);
  return node;
}

/** The record of `inputs` (what a stored stage keeps). */
export function inputsRecord(inputs: readonly DigestInput[]): InputsRecord {
  return { version: 1, inputs: inputs.map(toNode) };
}

/** The record of `inputs` as compact JSON, for a stage label. */
export function encodeInputsRecord(inputs: readonly DigestInput[]): string {
  return JSON.stringify(inputsRecord(inputs));
}

function isNode(value: unknown): value is InputRecordNode {
  if (typeof value !== 'object' || value === null) return false;
  const node = value as Record<string, unknown>;
  return (
    typeof node.l === 'string' &&
    typeof node.h === 'string' &&
    (node.v === undefined || typeof node.v === 'string') &&
    (node.p === undefined || (Array.isArray(node.p) && node.p.every(isNode)))
  );
}

/** Parses a stored record; `undefined` when the text is not one (an older or foreign stage). */
export function decodeInputsRecord(text: string): InputsRecord | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const record = parsed as Record<string, unknown>;
    if (record.version !== 1 || !Array.isArray(record.inputs) || !record.inputs.every(isNode)) return undefined;
    return { version: 1, inputs: record.inputs };
  } catch {
    return undefined;
  }
}

/**
 * The inputs record a stored stage carries in its {@link DIGEST_INPUTS_LABEL} label; `undefined` when the
 * stage has none (built by werf or an older Strata) or it is unreadable.
 */
export function findRecordedInputs(labels: Readonly<Record<string, string>>): InputsRecord | undefined {
  const text = labels[DIGEST_INPUTS_LABEL];
  return text === undefined ? undefined : decodeInputsRecord(text);
}

/** The first input that differs between two stages' inputs. */
export interface InputDifference {
  /** Labels from the top-level input down to the differing one. */
  readonly path: readonly string[];
  /** `changed`: same label, other value; `added`/`removed`: present on one side only. */
  readonly kind: 'changed' | 'added' | 'removed';
  /** Printable current value (absent for `removed`). */
  readonly current?: string;
  /** Printable previous value (absent for `added`); a fingerprint when the record kept no value. */
  readonly previous?: string;
}

function describe(node: InputRecordNode): string {
  return node.v !== undefined ? JSON.stringify(node.v) : `<sha256 ${node.h}…>`;
}

function nodesOf(side: readonly DigestInput[] | InputsRecord): readonly InputRecordNode[] {
  return Array.isArray(side) ? (side as readonly DigestInput[]).map(toNode) : (side as InputsRecord).inputs;
}

function firstDifference(
  current: readonly InputRecordNode[],
  previous: readonly InputRecordNode[],
  path: readonly string[],
): InputDifference | undefined {
  const length = Math.max(current.length, previous.length);
  for (let index = 0; index < length; index += 1) {
    const now = current[index];
    const before = previous[index];
    if (now === undefined && before !== undefined) {
      return { path: [...path, before.l], kind: 'removed', previous: describe(before) };
    }
    if (before === undefined && now !== undefined) {
      return { path: [...path, now.l], kind: 'added', current: describe(now) };
    }
    if (now === undefined || before === undefined) continue;
    if (now.l !== before.l) {
      // A different input at this position: report the new one as added (the list changed shape here).
      return { path: [...path, now.l], kind: 'added', current: describe(now), previous: `${before.l} = ${describe(before)}` };
    }
    if (now.h === before.h) continue;
    if (now.p && before.p) {
      const inner = firstDifference(now.p, before.p, [...path, now.l]);
      if (inner) return inner;
    }
    return { path: [...path, now.l], kind: 'changed', current: describe(now), previous: describe(before) };
  }
  return undefined;
}

/**
 * Names the FIRST input (depth-first, in hashing order) that differs between `current` and
 * `previous`; `undefined` when they are the same. Either side may be live inputs or a stored record.
 */
export function compareInputs(
  current: readonly DigestInput[] | InputsRecord,
  previous: readonly DigestInput[] | InputsRecord,
): InputDifference | undefined {
  return firstDifference(nodesOf(current), nodesOf(previous), []);
}

export interface FormatInputsOptions {
  /** Longer text values are shortened. @default 100 */
  maxValueLength?: number | undefined;
}

function display(value: HashArg, max: number): string {
  if (typeof value !== 'string') return `<${value.length} bytes, sha256 ${fingerprint(value)}…>`;
  if (value.length <= max) return JSON.stringify(value);
  return `${JSON.stringify(value.slice(0, max))}… (${value.length} chars, sha256 ${fingerprint(value)}…)`;
}

/**
 * The inputs as indented lines, `label = value`, parts indented under the checksum they make up.
 * For the CLI's `strata explain`.
 */
export function formatInputs(inputs: readonly DigestInput[], options: FormatInputsOptions = {}): string[] {
  const max = options.maxValueLength ?? 100;
  const lines: string[] = [];
  const walk = (entries: readonly DigestInput[], depth: number): void => {
    for (const entry of entries) {
      lines.push(`${'  '.repeat(depth)}${entry.label} = ${display(entry.value, max)}`);
      if (entry.parts) walk(entry.parts, depth + 1);
    }
  };
  walk(inputs, 0);
  return lines;
}

/** One line saying what changed, e.g. `stage dependencies › command[0]: "a" → "b"`. */
export function formatDifference(difference: InputDifference): string {
  const where = difference.path.join(' › ');
  switch (difference.kind) {
    case 'changed':
      return `${where}: ${difference.previous ?? '?'} → ${difference.current ?? '?'}`;
    case 'added':
      return difference.previous === undefined
        ? `${where}: added (${difference.current ?? '?'})`
        : `${where}: added (${difference.current ?? '?'}) where there was ${difference.previous}`;
    case 'removed':
      return `${where}: removed (was ${difference.previous ?? '?'})`;
  }
}
