/** Go text/template's predefined functions. */
import { sprint, sprintf, sprintln } from './format.js';
import { GoBytes, GoCallError, GoFloat, GoFunc, GoInt, GoList, GoMap, type GoValue, type ParamType, assignable, isTrue, isUnsigned, typeName, zeroOf } from './value.js';

const fn = (name: string, params: ParamType[], impl: (...a: GoValue[]) => GoValue, variadic?: ParamType): GoFunc =>
  new GoFunc(name, { params, variadic }, impl);

type Kind = 'bool' | 'int' | 'uint' | 'float' | 'string' | 'invalid';

function basicKind(v: GoValue): Kind {
  if (typeof v === 'boolean') return 'bool';
  if (typeof v === 'string') return 'string';
  if (v instanceof GoInt) return isUnsigned(v.kind) ? 'uint' : 'int';
  if (v instanceof GoFloat) return 'float';
  return 'invalid';
}

const errBadComparisonType = 'invalid type for comparison';
const errBadComparison = 'incompatible types for comparison';

function isNilValue(v: GoValue): boolean {
  if (v === undefined || v === null) return true;
  if (v instanceof GoList || v instanceof GoMap) return v.nil;
  return false;
}

function goKindName(v: GoValue): string {
  if (v instanceof GoList || v instanceof GoBytes) return 'slice';
  if (v instanceof GoMap) return 'map';
  if (v instanceof GoFunc) return 'func';
  return 'struct';
}

export function eq(a: GoValue, ...rest: GoValue[]): boolean {
  if (rest.length === 0) throw new GoCallError('missing argument for comparison');
  const k1 = basicKind(a);
  for (const b of rest) {
    const k2 = basicKind(b);
    let t = false;
    if (k1 !== k2) {
      if (k1 === 'int' && k2 === 'uint') t = (a as GoInt).value >= 0 && (a as GoInt).value === (b as GoInt).value;
      else if (k1 === 'uint' && k2 === 'int') t = (b as GoInt).value >= 0 && (a as GoInt).value === (b as GoInt).value;
      else if (a !== undefined && a !== null && b !== undefined && b !== null) throw new GoCallError(errBadComparison);
    } else if (k1 === 'invalid') {
      const aValid = a !== undefined && a !== null;
      const bValid = b !== undefined && b !== null;
      if (aValid && bValid && goKindName(a) !== goKindName(b)) {
        throw new GoCallError(`non-comparable types ${sprintf('%s', [a])}: ${typeName(a)}, ${typeName(b)}: ${sprintf('%v', [b])}`);
      }
      if (isNilValue(a) || isNilValue(b)) t = isNilValue(a) === isNilValue(b);
      else if (b instanceof GoList || b instanceof GoMap || b instanceof GoFunc || b instanceof GoBytes) {
        throw new GoCallError(`non-comparable type ${sprintf('%s', [b])}: ${typeName(b)}`);
      } else t = a === b;
    } else {
      t = valueOf(a) === valueOf(b);
    }
    if (t) return true;
  }
  return false;
}

function valueOf(v: GoValue): unknown {
  return v instanceof GoInt || v instanceof GoFloat ? v.value : v;
}

export function lt(a: GoValue, b: GoValue): boolean {
  const k1 = basicKind(a);
  if (k1 === 'invalid') throw new GoCallError(errBadComparisonType);
  const k2 = basicKind(b);
  if (k2 === 'invalid') throw new GoCallError(errBadComparisonType);
  if (k1 !== k2) {
    if (k1 === 'int' && k2 === 'uint') return (a as GoInt).value < 0 || (a as GoInt).value < (b as GoInt).value;
    if (k1 === 'uint' && k2 === 'int') return (b as GoInt).value >= 0 && (a as GoInt).value < (b as GoInt).value;
    throw new GoCallError(errBadComparison);
  }
  if (k1 === 'bool') throw new GoCallError(errBadComparisonType);
  if (k1 === 'string') return Buffer.compare(Buffer.from(a as string), Buffer.from(b as string)) < 0;
  return (valueOf(a) as number) < (valueOf(b) as number);
}

function le(a: GoValue, b: GoValue): boolean {
  return lt(a, b) || eq(a, b);
}

function indexArg(index: GoValue, cap: number): number {
  let x: number;
  if (index instanceof GoInt) x = index.value;
  else if (index === undefined || index === null) throw new GoCallError('cannot index slice/array with nil');
  else throw new GoCallError(`cannot index slice/array with type ${typeName(index)}`);
  if (x < 0 || x > cap) throw new GoCallError(`index out of range: ${x}`);
  return x;
}

function index(item: GoValue, ...indexes: GoValue[]): GoValue {
  let cur = item;
  if (cur === undefined || cur === null) throw new GoCallError('index of untyped nil');
  for (const ix of indexes) {
    if (cur === null || cur === undefined) throw new GoCallError('index of nil pointer');
    if (cur instanceof GoList || cur instanceof GoBytes || typeof cur === 'string') {
      const len = cur instanceof GoList ? cur.items.length : cur instanceof GoBytes ? cur.bytes.length : Buffer.byteLength(cur);
      const x = indexArg(ix, len);
      if (x >= len) throw new GoCallError(`reflect: slice index out of range`);
      if (cur instanceof GoList) {
        const v: GoValue = cur.items[x];
        cur = v === undefined ? null : v;
      } else if (cur instanceof GoBytes) cur = new GoInt(cur.bytes[x] ?? 0, 'uint8');
      else cur = new GoInt(Buffer.from(cur)[x] ?? 0, 'uint8');
    } else if (cur instanceof GoMap) {
      if (ix === undefined || ix === null) throw new GoCallError('value is nil; should be of type string');
      if (typeof ix !== 'string') throw new GoCallError(`value has type ${typeName(ix)}; should be string`);
      cur = cur.entries.has(ix) ? (cur.entries.get(ix) ?? null) : zeroOf(cur.elem);
    } else {
      throw new GoCallError(`can't index item of type ${typeName(cur)}`);
    }
  }
  return cur;
}

function slice(item: GoValue, ...indexes: GoValue[]): GoValue {
  if (item === undefined || item === null) throw new GoCallError('slice of untyped nil');
  if (indexes.length > 3) throw new GoCallError(`too many slice indexes: ${indexes.length}`);
  let len: number;
  if (typeof item === 'string') {
    if (indexes.length === 3) throw new GoCallError('cannot 3-index slice a string');
    len = Buffer.byteLength(item);
  } else if (item instanceof GoList) len = item.items.length;
  else if (item instanceof GoBytes) len = item.bytes.length;
  else throw new GoCallError(`can't slice item of type ${typeName(item)}`);
  const idx = [0, len, len];
  indexes.forEach((ix, i) => {
    idx[i] = indexArg(ix, len);
  });
  const [i0 = 0, i1 = len, i2 = len] = idx;
  if (i0 > i1) throw new GoCallError(`invalid slice index: ${i0} > ${i1}`);
  if (indexes.length === 3 && i1 > i2) throw new GoCallError(`invalid slice index: ${i1} > ${i2}`);
  if (typeof item === 'string') return Buffer.from(item).subarray(i0, i1).toString('utf8');
  if (item instanceof GoBytes) return new GoBytes(item.bytes.subarray(i0, i1));
  return new GoList(item.items.slice(i0, i1), item.elem);
}

function length(item: GoValue): GoValue {
  if (item === null) throw new GoCallError('len of nil pointer');
  if (typeof item === 'string') return new GoInt(Buffer.byteLength(item));
  if (item instanceof GoList) return new GoInt(item.items.length);
  if (item instanceof GoBytes) return new GoInt(item.bytes.length);
  if (item instanceof GoMap) return new GoInt(item.entries.size);
  if (item === undefined) throw new GoCallError('reflect: call of reflect.Value.Type on zero Value');
  throw new GoCallError(`len of type ${typeName(item)}`);
}

function call(f: GoValue, ...args: GoValue[]): GoValue {
  if (f === undefined || f === null) throw new GoCallError('call of nil');
  if (!(f instanceof GoFunc)) throw new GoCallError(`non-function of type ${typeName(f)}`);
  const sig = f.signature;
  const n = sig.params.length;
  if (sig.variadic !== undefined) {
    if (args.length < n) throw new GoCallError(`wrong number of args: got ${args.length} want at least ${n}`);
  } else if (args.length !== n) throw new GoCallError(`wrong number of args: got ${args.length} want ${n}`);
  args.forEach((a, i) => {
    const t = i < n ? sig.params[i] : sig.variadic;
    if (t === undefined || t === 'value' || t === 'any') return;
    if (a === undefined || a === null) {
      if (typeof t !== 'string') return;
      throw new GoCallError(`arg ${i}: value is nil; should be of type ${String(t)}`);
    }
    if (!assignable(a, t)) throw new GoCallError(`arg ${i}: value has type ${typeName(a)}; should be ${typeof t === 'string' ? t : typeName(zeroOf(t))}`);
  });
  return f.impl(...args);
}

/** Go's `fmt.Sprint` over arguments after template-style indirection (`<no value>` for nil). */
function evalArgs(args: GoValue[]): string {
  if (args.length === 1 && typeof args[0] === 'string') return args[0];
  return sprint(args.map((a) => (a === undefined || a === null ? '<no value>' : a)));
}

export function htmlEscape(s: string): string {
  return s.replace(/[\0"'&<>]/g, (c) => ({ '\0': '\uFFFD', '"': '&#34;', "'": '&#39;', '&': '&amp;', '<': '&lt;', '>': '&gt;' })[c] ?? c);
}

const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S}\u0020]$/u;
export function jsEscape(s: string): string {
  let out = '';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    switch (ch) {
      case '\\':
        out += '\\\\';
        continue;
      case "'":
        out += "\\'";
        continue;
      case '"':
        out += '\\"';
        continue;
      case '<':
        out += '\\u003C';
        continue;
      case '>':
        out += '\\u003E';
        continue;
      case '&':
        out += '\\u0026';
        continue;
      case '=':
        out += '\\u003D';
        continue;
    }
    if (c < 0x20) out += '\\u00' + c.toString(16).toUpperCase().padStart(2, '0');
    else if (c < 0x80 || PRINTABLE.test(ch)) out += ch;
    else out += c > 0xffff ? ch : '\\u' + c.toString(16).toUpperCase().padStart(4, '0');
  }
  return out;
}

export function queryEscape(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) out += ch;
    else if (ch === ' ') out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** The predefined functions, with Go's signatures. */
export function createBuiltins(): Map<string, GoFunc> {
  const m = new Map<string, GoFunc>();
  const add = (f: GoFunc): void => {
    m.set(f.name, f);
  };
  add(fn('and', ['value'], () => undefined, 'value'));
  add(fn('or', ['value'], () => undefined, 'value'));
  add(fn('not', ['value'], (a) => !isTrue(a)));
  add(fn('len', ['value'], length));
  add(fn('index', ['value'], index, 'value'));
  add(fn('slice', ['value'], slice, 'value'));
  add(fn('print', [], (...a) => sprint(a), 'any'));
  add(fn('printf', ['string'], (f, ...a) => sprintf(f as string, a), 'any'));
  add(fn('println', [], (...a) => sprintln(a), 'any'));
  add(fn('html', [], (...a) => htmlEscape(evalArgs(a)), 'any'));
  add(fn('js', [], (...a) => jsEscape(evalArgs(a)), 'any'));
  add(fn('urlquery', [], (...a) => queryEscape(evalArgs(a)), 'any'));
  add(fn('eq', ['value'], (a, ...r) => eq(a, ...r), 'value'));
  add(fn('ne', ['value', 'value'], (a, b) => !eq(a, b)));
  add(fn('lt', ['value', 'value'], lt));
  add(fn('le', ['value', 'value'], le));
  add(fn('gt', ['value', 'value'], (a, b) => !le(a, b)));
  add(fn('ge', ['value', 'value'], (a, b) => !lt(a, b)));
  add(fn('call', ['value'], call, 'value'));
  return m;
}
