/**
 * The Go value model the engine computes with.
 *
 * Go templates are typed: `1` (int), `1.0` (float64), `"1"` (string) and `int64(1)` print alike with
 * `%v` but differ for `eq`, `printf "%T"`, argument checks of typed functions and `kindIs`. The
 * engine therefore never computes with bare JS numbers:
 *
 * | Go                         | here                                              |
 * | -------------------------- | ------------------------------------------------- |
 * | string / bool              | JS `string` / `boolean`                           |
 * | int, int64, uint8 …        | {@link GoInt} (`value` is a JS number: exact to 2^53) |
 * | float64 / float32          | {@link GoFloat}                                   |
 * | nil interface              | `null`                                            |
 * | missing value (invalid)    | `undefined` (`<no value>` when printed)           |
 * | []T                        | {@link GoList} with its element type              |
 * | map[string]T               | {@link GoMap} with its element type (keys sorted when printed or ranged) |
 * | func                       | {@link GoFunc}                                    |
 * | struct with methods        | {@link GoStruct} (werf's `.Files`)                |
 *
 * {@link toGoValue} converts caller data (JS values parsed from YAML/JSON) at the boundary: a JS
 * number that is a safe integer becomes Go `int`, any other number `float64` (wrap a number in
 * {@link GoFloat} to keep `1.0` a float); a `bigint` becomes `int64`; arrays become `[]interface {}`;
 * plain objects and `Map`s with string keys become `map[string]interface {}`; `null` stays nil.
 */

export type IntKind = 'int' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint' | 'uint8' | 'uint16' | 'uint32' | 'uint64' | 'uintptr';
export type FloatKind = 'float64' | 'float32';

/** A Go integer of a specific kind. */
export class GoInt {
  readonly value: number;
  constructor(
    value: number,
    readonly kind: IntKind = 'int',
  ) {
    // Integers have no negative zero.
    this.value = value === 0 ? 0 : value;
  }
}

/** A Go floating-point number. */
export class GoFloat {
  constructor(
    readonly value: number,
    readonly kind: FloatKind = 'float64',
  ) {}
}

/**
 * A Go type, as far as the engine needs one: for typed containers, argument checks and `%T`.
 * `any` is `interface {}`.
 */
export type GoType =
  | 'any'
  | 'string'
  | 'bool'
  | IntKind
  | FloatKind
  | { readonly slice: GoType }
  | { readonly map: GoType }
  | 'func'
  | 'error';

/** A Go slice `[]elem`. `nil` marks a nil slice (prints `[]`, is empty, `eq` to nothing). */
export class GoList {
  constructor(
    readonly items: GoValue[],
    readonly elem: GoType = 'any',
    readonly nil = false,
  ) {}
}

/** A Go map `map[string]elem`. Insertion order is irrelevant: Go sorts keys when printing and ranging. */
export class GoMap {
  constructor(
    readonly entries: Map<string, GoValue> = new Map(),
    readonly elem: GoType = 'any',
    readonly nil = false,
  ) {}
}

/** Signature of a function callable from a template. */
export interface GoSignature {
  /** Fixed parameter types. */
  readonly params: readonly ParamType[];
  /** Element type of a trailing variadic parameter. */
  readonly variadic?: ParamType | undefined;
  /** Whether Go's function returns `(T, error)`: only affects the arity check for `call`. */
  readonly returnsError?: boolean | undefined;
}

/** `value` = reflect.Value (no conversion or check), otherwise a Go type the argument must be assignable to. */
export type ParamType = GoType | 'value';

/** A Go function value (template function or data member). */
export class GoFunc {
  constructor(
    readonly name: string,
    readonly signature: GoSignature,
    readonly impl: (...args: GoValue[]) => GoValue,
  ) {}
}

/** A Go struct value: exported fields plus methods (method-less data uses {@link GoMap}). */
export class GoStruct {
  constructor(
    readonly typeName: string,
    readonly fields: ReadonlyMap<string, GoValue>,
    readonly methods: ReadonlyMap<string, GoFunc> = new Map(),
  ) {}
}

/** Raw bytes (`[]byte`), e.g. from `b64dec`-style helpers; prints as a list of numbers with `%v`. */
export class GoBytes {
  constructor(readonly bytes: Uint8Array) {}
}

export type GoValue = undefined | null | string | boolean | GoInt | GoFloat | GoList | GoMap | GoFunc | GoStruct | GoBytes;

/** An error raised by a Go function: becomes `error calling NAME: MESSAGE`. */
export class GoCallError extends Error {}

export const int = (n: number): GoInt => new GoInt(n, 'int');
export const int64 = (n: number): GoInt => new GoInt(n, 'int64');
export const float = (n: number): GoFloat => new GoFloat(n, 'float64');

/** A `[]interface {}`. */
export const list = (items: GoValue[]): GoList => new GoList(items, 'any');
/** A `[]string`. */
export const stringList = (items: string[]): GoList => new GoList(items, 'string');

/** Converts caller data (YAML/JSON-like JS values) to Go values. See the module comment for the mapping. */
export function toGoValue(value: unknown): GoValue {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number') return Number.isSafeInteger(value) ? new GoInt(value) : new GoFloat(value);
  if (typeof value === 'bigint') return new GoInt(Number(value), 'int64');
  if (
    value instanceof GoInt ||
    value instanceof GoFloat ||
    value instanceof GoList ||
    value instanceof GoMap ||
    value instanceof GoFunc ||
    value instanceof GoStruct ||
    value instanceof GoBytes
  ) {
    return value;
  }
  if (value instanceof Uint8Array) return new GoBytes(value);
  if (Array.isArray(value)) return new GoList(value.map(toGoValue));
  if (value instanceof Map) {
    const entries = new Map<string, GoValue>();
    for (const [k, v] of value as Map<unknown, unknown>) entries.set(String(k), toGoValue(v));
    return new GoMap(entries);
  }
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'function') {
    const fn = value as (...args: unknown[]) => unknown;
    return new GoFunc(fn.name || 'func', { params: [], variadic: 'any' }, (...args) => toGoValue(fn(...args.map(fromGoValue))));
  }
  if (typeof value === 'object') {
    const entries = new Map<string, GoValue>();
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) entries.set(k, toGoValue(v));
    return new GoMap(entries);
  }
  return typeof value === 'symbol' ? value.toString() : '';
}

/** Converts a Go value back to plain JS (ints and floats become numbers, maps plain objects). */
export function fromGoValue(value: GoValue): unknown {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'boolean') return value;
  if (value instanceof GoInt || value instanceof GoFloat) return value.value;
  if (value instanceof GoList) return value.items.map(fromGoValue);
  if (value instanceof GoMap) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value.entries) out[k] = fromGoValue(v);
    return out;
  }
  if (value instanceof GoBytes) return value.bytes;
  if (value instanceof GoStruct) {
    const out: Record<string, unknown> = {};
    for (const [k, v] of value.fields) out[k] = fromGoValue(v);
    return out;
  }
  return value;
}

/** Go's spelling of a type, as `%T` and error messages print it. */
export function typeString(t: GoType): string {
  if (typeof t === 'string') {
    if (t === 'any') return 'interface {}';
    return t;
  }
  if ('slice' in t) return `[]${typeString(t.slice)}`;
  return `map[string]${typeString(t.map)}`;
}

/** The dynamic Go type of a value (`undefined`/`null` have none: `<nil>`). */
export function typeOf(v: GoValue): GoType | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt) return v.kind;
  if (v instanceof GoFloat) return v.kind;
  if (v instanceof GoList) return { slice: v.elem };
  if (v instanceof GoMap) return { map: v.elem };
  if (v instanceof GoBytes) return { slice: 'uint8' };
  if (v instanceof GoFunc) return 'func';
  return 'any';
}

/** `%T` of a value. */
export function typeName(v: GoValue): string {
  if (v instanceof GoStruct) return v.typeName;
  if (v instanceof GoFunc) return funcTypeName(v.signature);
  const t = typeOf(v);
  return t === undefined ? '<nil>' : typeString(t);
}

function funcTypeName(sig: GoSignature): string {
  const ps = sig.params.map((p) => (p === 'value' ? 'reflect.Value' : typeString(p)));
  if (sig.variadic !== undefined) ps.push(`...${sig.variadic === 'value' ? 'reflect.Value' : typeString(sig.variadic)}`);
  return `func(${ps.join(', ')}) interface {}`;
}

/** Go's reflect.Kind name of a value, as sprig's `kindOf` returns it. */
export function kindOf(v: GoValue): string {
  if (v === undefined || v === null) return 'invalid';
  if (typeof v === 'string') return 'string';
  if (typeof v === 'boolean') return 'bool';
  if (v instanceof GoInt || v instanceof GoFloat) return v.kind;
  if (v instanceof GoList || v instanceof GoBytes) return 'slice';
  if (v instanceof GoMap) return 'map';
  if (v instanceof GoFunc) return 'func';
  return 'struct';
}

export function isInt(v: GoValue): v is GoInt {
  return v instanceof GoInt;
}

export function isUnsigned(kind: IntKind): boolean {
  return kind.startsWith('uint');
}

/** Whether `v` (non-nil) is assignable to a parameter of type `t` without conversion. */
export function assignable(v: GoValue, t: GoType): boolean {
  if (t === 'any') return true;
  const vt = typeOf(v);
  if (vt === undefined) return false;
  return sameType(vt, t);
}

export function sameType(a: GoType, b: GoType): boolean {
  if (typeof a === 'string' || typeof b === 'string') return a === b;
  if ('slice' in a) return 'slice' in b && sameType(a.slice, b.slice);
  return 'map' in b && sameType(a.map, b.map);
}

/** Go's zero value of a type (`reflect.Zero`). */
export function zeroOf(t: GoType): GoValue {
  if (t === 'any' || t === 'func' || t === 'error') return null;
  if (t === 'string') return '';
  if (t === 'bool') return false;
  if (t === 'float64' || t === 'float32') return new GoFloat(0, t);
  if (typeof t === 'string') return new GoInt(0, t);
  if ('slice' in t) return new GoList([], t.slice, true);
  return new GoMap(new Map(), t.map, true);
}

/** Go's truth (`if`, `and`, `not`): false for the zero value of the type, empty containers and nil. */
export function isTrue(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === 'string') return v.length > 0;
  if (typeof v === 'boolean') return v;
  if (v instanceof GoInt || v instanceof GoFloat) return v.value !== 0;
  if (v instanceof GoList) return v.items.length > 0;
  if (v instanceof GoMap) return v.entries.size > 0;
  if (v instanceof GoBytes) return v.bytes.length > 0;
  return true;
}

/** Sorted keys of a map, as Go's fmt and `range` order them. */
export function sortedKeys(m: GoMap): string[] {
  return [...m.entries.keys()].sort(compareStrings);
}

/** Byte-wise (UTF-8) string order, as Go compares strings. */
export function compareStrings(a: string, b: string): number {
  if (a === b) return 0;
  const ab = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return Buffer.compare(ab, bb);
}

/** Wraps int arithmetic the way Go's int64 does (within JS precision). */
export function wrapInt(n: number, kind: IntKind = 'int'): GoInt {
  let v = Math.trunc(n);
  if (kind === 'uint8') v = ((v % 256) + 256) % 256;
  else if (kind === 'int32') v = v | 0;
  else if (kind === 'int' || kind === 'int64') {
    if (!Number.isSafeInteger(v) && Number.isFinite(v)) v = Number(BigInt.asIntN(64, BigInt(Math.trunc(v))));
  }
  return new GoInt(v, kind);
}
