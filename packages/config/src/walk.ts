/**
 * Reading the YAML AST with located problems: the small toolkit the meta and image validators use.
 * Every reader reports what is wrong and returns `undefined` (or a safe empty value) so validation
 * can continue and collect all problems.
 */
import { isAlias, isMap, isScalar, isSeq, type Document, type Node, type Scalar } from 'yaml';
import type { ConfigProblem, ConfigProblemCode } from './problems.js';
import { closestMatch } from './suggest.js';

export type Segment = string | number;

/**
 * Maps offsets in the parsed text to 1-based line/column, clamped inside the file. Lines end at
 * `\n` (a `\r` before it belongs to the line). Computed from the text itself rather than the YAML
 * library's line counter, which does not see line breaks inside tokens of broken input.
 */
export class Positions {
  readonly #lineStarts: number[] = [0];
  readonly #textLength: number;

  constructor(text: string) {
    this.#textLength = text.length;
    for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) this.#lineStarts.push(i + 1);
  }

  at(offset: number): { line: number; column: number } {
    const clamped = Math.max(0, Math.min(Number.isFinite(offset) ? Math.floor(offset) : 0, this.#textLength));
    let low = 0;
    let high = this.#lineStarts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if ((this.#lineStarts[mid] ?? 0) <= clamped) low = mid;
      else high = mid - 1;
    }
    return { line: low + 1, column: clamped - (this.#lineStarts[low] ?? 0) + 1 };
  }
}

/** Options of a report; `related` points at other places involved (the first duplicate, each cycle edge). */
export interface ReportOptions<At> {
  hint?: string | undefined;
  severity?: 'error' | 'warning';
  related?: { at: At; message: string }[];
}

/** Collects problems for one file. */
export class Reporter {
  readonly problems: ConfigProblem[] = [];

  constructor(
    readonly file: string,
    readonly positions: Positions,
  ) {}

  add(
    code: ConfigProblemCode,
    message: string,
    where: { offset: number; path: string; pathSegments: Segment[]; document?: number },
    options: ReportOptions<number> = {},
  ): void {
    const { line, column } = this.positions.at(where.offset);
    const problem: ConfigProblem = {
      code,
      severity: options.severity ?? 'error',
      message,
      file: this.file,
      line,
      column,
      path: where.path,
      pathSegments: where.pathSegments,
    };
    if (where.document !== undefined) problem.document = where.document;
    if (options.hint !== undefined) problem.hint = options.hint;
    if (options.related !== undefined && options.related.length > 0) {
      problem.related = options.related.map(({ at, message: note }) => ({ ...this.positions.at(at), message: note }));
    }
    this.problems.push(problem);
  }

  hasErrors(): boolean {
    return this.problems.some((p) => p.severity === 'error');
  }
}

/** Renders path segments the way SPEC shows them: `git[0].add`, `docker.ENV["A B"]`. */
export function formatSegments(segments: readonly Segment[]): string {
  let out = '';
  for (const segment of segments) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out;
}

/** Alias resolutions allowed per document: protects against "billion laughs" expansion. */
const ALIAS_BUDGET = 2000;

/** One YAML document being validated: where problems go and how to name paths in it. */
export class DocContext {
  #aliasBudget = ALIAS_BUDGET;
  #budgetReported = false;

  constructor(
    readonly reporter: Reporter,
    readonly doc: Document.Parsed,
    readonly index: number,
    /** `meta`, `image "backend"`, `artifact "jq"`, `document 3`. */
    public label: string,
  ) {}

  report(
    code: ConfigProblemCode,
    message: string,
    at: Node | number | null | undefined,
    segments: readonly Segment[],
    options: ReportOptions<Node | number | null | undefined> = {},
  ): void {
    const offsetOf = (node: Node | number | null | undefined): number => (typeof node === 'number' ? node : (node?.range?.[0] ?? this.doc.range[0]));
    const offset = offsetOf(at);
    const rest = formatSegments(segments);
    this.reporter.add(
      code,
      message,
      {
        offset,
        path: rest ? `${this.label} → ${rest}` : this.label,
        pathSegments: [...segments],
        document: this.index,
      },
      { ...options, related: options.related?.map((r) => ({ at: offsetOf(r.at), message: r.message })) },
    );
  }

  /** Follows aliases; reports unknown anchors and runaway expansion, then yields undefined. */
  deref(node: unknown, segments: readonly Segment[]): Node | undefined {
    let current = node;
    for (let hops = 0; isAlias(current); hops++) {
      if (this.#aliasBudget-- <= 0 || hops > 100) {
        if (!this.#budgetReported) {
          this.#budgetReported = true;
          this.report('TOO_MANY_ALIASES', 'too many alias expansions in this document', current, segments, {
            hint: `Use at most ${ALIAS_BUDGET} aliases per document.`,
          });
        }
        return undefined;
      }
      const target: unknown = current.resolve(this.doc);
      if (target === undefined) {
        this.report('YAML_SYNTAX', `alias *${current.source} refers to an unknown anchor`, current, segments, {
          hint: `Define &${current.source} before using *${current.source}.`,
        });
        return undefined;
      }
      current = target;
    }
    return current as Node | undefined;
  }
}

/** A resolved mapping entry: key text, the key node (for positions) and the dereferenced value. */
export interface Entry {
  key: string;
  keyNode: Node;
  /**
   * The value with aliases followed. An empty value (`key:`) is a null Scalar; `undefined` only when
   * an alias could not be followed (already reported).
   */
  value: Node | undefined;
  segments: Segment[];
}

export type Entries = Map<string, Entry>;

/** A scalar's text the way werf's Go decoder sees it for string fields: source spelling for numbers/booleans. */
export function scalarText(node: Scalar): string {
  if (typeof node.value === 'string') return node.value;
  if (node.source !== undefined && node.type === 'PLAIN') return node.source;
  return String(node.value);
}

export function isNullNode(node: Node | undefined): boolean {
  return node === undefined || (isScalar(node) && node.value === null);
}

export function describeNode(node: Node | undefined): string {
  if (node === undefined) return 'nothing';
  if (isMap(node)) return 'a mapping';
  if (isSeq(node)) return 'a list';
  if (isScalar(node)) {
    const value = node.value;
    if (value === null) return 'null';
    if (typeof value === 'boolean') return `a boolean (${scalarText(node)})`;
    if (typeof value === 'number' || typeof value === 'bigint') return `a number (${scalarText(node)})`;
    if (typeof value === 'string') return 'a string';
    return 'a scalar';
  }
  return 'an unsupported node';
}

export interface MapSpec {
  /** Every key valid here (including unsupported ones the caller reports itself); omit for free-form keys. */
  keys?: readonly string[];
  /** Extra text for the unknown-key hint when no close key exists. */
  unknownHint?: (key: string) => string | undefined;
}

/**
 * Reads a mapping: reports non-mapping values, non-scalar keys, duplicate keys (naming both lines)
 * and unknown keys (hint: the closest valid key). Merge keys (`<<: *anchor`) are expanded, with
 * explicit keys taking precedence. Returns the first occurrence of each key.
 */
export function readMap(dc: DocContext, node: Node | undefined, segments: readonly Segment[], spec: MapSpec): Entries | undefined {
  if (!isMap(node)) {
    dc.report('INVALID_TYPE', `expected a mapping, got ${describeNode(node)}`, node, segments);
    return undefined;
  }
  const entries: Entries = new Map();
  const merged: Entries[] = [];
  for (const pair of node.items) {
    const keyNode = dc.deref(pair.key, segments);
    if (keyNode === undefined) continue;
    if (!isScalar(keyNode) || keyNode.value === null) {
      dc.report('INVALID_TYPE', `mapping keys must be strings, got ${describeNode(keyNode)}`, keyNode, segments);
      continue;
    }
    if (typeof keyNode.value === 'symbol' || (keyNode.source === '<<' && keyNode.type === 'PLAIN')) {
      merged.push(...readMergeSources(dc, pair.value, segments, spec));
      continue;
    }
    const key = scalarText(keyNode);
    const childSegments = [...segments, key];
    const previous = entries.get(key);
    if (previous) {
      const line = dc.reporter.positions.at(previous.keyNode.range?.[0] ?? 0).line;
      dc.report('DUPLICATE_KEY', `duplicate key "${key}" (first defined on line ${line})`, keyNode, childSegments, {
        hint: 'Remove one of the two; YAML does not allow a key twice in one mapping.',
        related: [{ at: previous.keyNode, message: `"${key}" first defined here` }],
      });
      continue;
    }
    if (spec.keys !== undefined && !spec.keys.includes(key)) {
      const closest = closestMatch(key, spec.keys);
      dc.report('UNKNOWN_KEY', `unknown key "${key}"`, keyNode, childSegments, {
        hint: closest !== undefined ? `did you mean "${closest}"?` : (spec.unknownHint?.(key) ?? `valid keys here: ${spec.keys.join(', ')}`),
      });
      continue;
    }
    entries.set(key, { key, keyNode, value: dc.deref(pair.value, childSegments), segments: childSegments });
  }
  for (const source of merged) {
    for (const [key, entry] of source) if (!entries.has(key)) entries.set(key, entry);
  }
  return entries;
}

function readMergeSources(dc: DocContext, value: unknown, segments: readonly Segment[], spec: MapSpec): Entries[] {
  const sources: Entries[] = [];
  const node = dc.deref(value, segments);
  const items = isSeq(node) ? node.items.map((item) => dc.deref(item, segments)) : [node];
  for (const item of items) {
    if (item === undefined) continue; // already reported by deref
    const entries = readMap(dc, item, segments, spec);
    if (entries) sources.push(entries);
  }
  return sources;
}

/** A string field; numbers and booleans keep their source spelling; null means absent. */
export function readString(dc: DocContext, entry: Entry | undefined): string | undefined {
  if (entry === undefined || isNullNode(entry.value)) return undefined;
  const node = entry.value;
  if (!isScalar(node)) {
    dc.report('INVALID_TYPE', `"${entry.key}" must be a string, got ${describeNode(node)}`, node, entry.segments);
    return undefined;
  }
  return scalarText(node);
}

export function readBoolean(dc: DocContext, entry: Entry | undefined): boolean | undefined {
  if (entry === undefined || isNullNode(entry.value)) return undefined;
  const node = entry.value;
  if (!isScalar(node) || typeof node.value !== 'boolean') {
    dc.report('INVALID_TYPE', `"${entry.key}" must be true or false, got ${describeNode(node)}`, node, entry.segments);
    return undefined;
  }
  return node.value;
}

export function readInteger(dc: DocContext, entry: Entry | undefined, min: number): number | undefined {
  if (entry === undefined || isNullNode(entry.value)) return undefined;
  const node = entry.value;
  if (!isScalar(node) || typeof node.value !== 'number' || !Number.isSafeInteger(node.value)) {
    dc.report('INVALID_TYPE', `"${entry.key}" must be an integer, got ${describeNode(node)}`, node, entry.segments);
    return undefined;
  }
  if (node.value < min) {
    dc.report('INVALID_VALUE', `"${entry.key}" must be at least ${min}, got ${node.value}`, node, entry.segments);
    return undefined;
  }
  return node.value;
}

/** One of a fixed set of strings. */
export function readEnum<T extends string>(dc: DocContext, entry: Entry | undefined, allowed: readonly T[]): T | undefined {
  const value = readString(dc, entry);
  if (value === undefined || entry === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(value)) {
    const closest = closestMatch(value, allowed);
    dc.report('INVALID_VALUE', `"${entry.key}" must be one of ${allowed.join(', ')}, got "${value}"`, entry.value, entry.segments, {
      hint: closest !== undefined ? `did you mean "${closest}"?` : undefined,
    });
    return undefined;
  }
  return value as T;
}

/**
 * A list of strings, where werf also accepts a single string (`install: make` ≡ `install: [make]`).
 * Null is an empty list. Returns the valid items (invalid ones are reported) and their nodes.
 */
export function readStringList(
  dc: DocContext,
  entry: Entry | undefined,
  options: { singleAllowed?: boolean } = {},
): { values: string[]; nodes: Node[] } {
  const out = { values: [] as string[], nodes: [] as Node[] };
  if (entry === undefined || isNullNode(entry.value)) return out;
  const node = entry.value;
  if (isScalar(node) && options.singleAllowed !== false) {
    out.values.push(scalarText(node));
    out.nodes.push(node);
    return out;
  }
  if (!isSeq(node)) {
    const expected = options.singleAllowed === false ? 'a list of strings' : 'a string or a list of strings';
    dc.report('INVALID_TYPE', `"${entry.key}" must be ${expected}, got ${describeNode(node)}`, node, entry.segments);
    return out;
  }
  node.items.forEach((raw, index) => {
    const segments = [...entry.segments, index];
    const item = dc.deref(raw, segments);
    if (item === undefined) return;
    if (!isScalar(item) || item.value === null) {
      dc.report('INVALID_TYPE', `items of "${entry.key}" must be strings, got ${describeNode(item)}`, item, segments);
      return;
    }
    out.values.push(scalarText(item));
    out.nodes.push(item);
  });
  return out;
}

/** A mapping of string to string (`ENV`, `args`, `labels`), in written order; values keep source spelling. */
export function readStringMap(dc: DocContext, entry: Entry | undefined): Record<string, string> {
  if (entry === undefined || isNullNode(entry.value)) return {};
  const node = entry.value;
  if (!isMap(node)) {
    dc.report('INVALID_TYPE', `"${entry.key}" must be a mapping of names to values, got ${describeNode(node)}`, node, entry.segments);
    return {};
  }
  const entries = readMap(dc, node, entry.segments, {}) ?? new Map<string, Entry>();
  const pairs: [string, string][] = [];
  for (const child of entries.values()) {
    if (child.value !== undefined && !isScalar(child.value)) {
      dc.report('INVALID_TYPE', `"${child.key}" must be a string, got ${describeNode(child.value)}`, child.value, child.segments);
      continue;
    }
    pairs.push([child.key, readString(dc, child) ?? '']);
  }
  return Object.fromEntries(pairs);
}
