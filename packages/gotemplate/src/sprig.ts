/**
 * sprig v3 functions (Masterminds/sprig `TxtFuncMap`) with sprig's Go signatures and result types,
 * minus `env`/`expandenv` (werf provides its own `env`). Non-deterministic and crypto functions
 * (`now`, `rand*`, `uuidv4`, `genCA`, …) and date formatting are not provided.
 */
import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { sprintf, sprintValue, goQuote } from './format.js';
import {
  GoBytes,
  GoCallError,
  GoFloat,
  GoFunc,
  GoInt,
  GoList,
  GoMap,
  GoStruct,
  type GoValue,
  type ParamType,
  compareStrings,
  kindOf,
  list,
  sortedKeys,
  stringList,
  typeName,
  wrapInt,
} from './value.js';
import { compareVersions, parseVersion, satisfies } from './semver.js';
import { camelCaseToLowerCase, toCamelCase } from './xstrings.js';

const f = (name: string, params: ParamType[], impl: (...a: GoValue[]) => GoValue, variadic?: ParamType): GoFunc =>
  new GoFunc(name, { params, variadic }, impl);

const str = (v: GoValue): string => v as string;
const num = (v: GoValue): number => (v as GoInt).value;

/** sprig's `strval`: strings as is, everything else `%v`. */
export function strval(v: GoValue): string {
  if (typeof v === 'string') return v;
  if (v instanceof GoBytes) return Buffer.from(v.bytes).toString('utf8');
  return sprintf('%v', [v === undefined ? null : v]);
}

/** sprig's `empty`. */
export function empty(v: GoValue): boolean {
  if (v === undefined || v === null) return true;
  if (typeof v === 'string') return v.length === 0;
  if (typeof v === 'boolean') return !v;
  if (v instanceof GoInt || v instanceof GoFloat) return v.value === 0;
  if (v instanceof GoList) return v.items.length === 0;
  if (v instanceof GoMap) return v.entries.size === 0;
  if (v instanceof GoBytes) return v.bytes.length === 0;
  return false;
}

/** cast.ToInt64. */
export function toInt64(v: GoValue): number {
  if (v instanceof GoInt) return v.value;
  if (v instanceof GoFloat) return Math.trunc(v.value);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const s = trimZeroDecimal(v);
    const m = /^([+-]?)(0[xX][0-9a-fA-F_]+|0[oO][0-7_]+|0[bB][01_]+|0[0-7_]*|[1-9][0-9_]*)$/.exec(s);
    if (!m) return 0;
    let body = (m[2] ?? '').replace(/_/g, '');
    if (/^0[0-7]+$/.test(body)) body = '0o' + body.slice(1);
    const n = Number(body);
    return m[1] === '-' ? -n : n;
  }
  return 0;
}

function trimZeroDecimal(s: string): string {
  let foundZero = false;
  for (let i = s.length; i > 0; i--) {
    const c = s[i - 1];
    if (c === '.') return foundZero ? s.slice(0, i - 1) : s;
    if (c === '0') foundZero = true;
    else return s;
  }
  return s;
}

/** cast.ToFloat64. */
export function toFloat64(v: GoValue): number {
  if (v instanceof GoInt || v instanceof GoFloat) return v.value;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string') {
    const t = v.trim() === v ? v : '';
    if (/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(t) || /^[+-]?(inf|infinity|nan)$/i.test(t)) {
      const lower = t.toLowerCase().replace(/^\+/, '');
      if (lower.endsWith('inf') || lower.endsWith('infinity')) return lower.startsWith('-') ? -Infinity : Infinity;
      if (lower.endsWith('nan')) return NaN;
      return Number(t);
    }
    return 0;
  }
  return 0;
}

/** sprig's `strslice`. */
function strslice(v: GoValue): string[] {
  if (v instanceof GoList) return v.items.filter((x) => x !== null && x !== undefined).map(strval);
  if (v === undefined || v === null) return [];
  return [strval(v)];
}

function listItems(v: GoValue, what: string): GoValue[] {
  if (v instanceof GoList) return v.items;
  if (v instanceof GoBytes) return [...v.bytes].map((b) => new GoInt(b, 'uint8'));
  if (v === null || v === undefined) throw new GoCallError('runtime error: invalid memory address or nil pointer dereference');
  throw new GoCallError(`Cannot ${what} on type ${kindOf(v)}`);
}

function mustListItems(v: GoValue, what: string): GoValue[] {
  if (v instanceof GoList) return v.items;
  throw new GoCallError(`Cannot ${what} on type ${kindOf(v ?? null)}`);
}

function deepEqual(a: GoValue, b: GoValue): boolean {
  if (a === b) return true;
  if ((a === undefined || a === null) && (b === undefined || b === null)) return true;
  if (a instanceof GoInt && b instanceof GoInt) return a.kind === b.kind && a.value === b.value;
  if (a instanceof GoFloat && b instanceof GoFloat) return a.kind === b.kind && a.value === b.value;
  if (a instanceof GoList && b instanceof GoList) {
    return a.elem === b.elem && a.nil === b.nil && a.items.length === b.items.length && a.items.every((x, i) => deepEqual(x, b.items[i]));
  }
  if (a instanceof GoMap && b instanceof GoMap) {
    if (a.nil !== b.nil || a.entries.size !== b.entries.size) return false;
    for (const [k, v] of a.entries) if (!b.entries.has(k) || !deepEqual(v, b.entries.get(k))) return false;
    return true;
  }
  return false;
}

function toMap(v: GoValue): GoMap {
  if (v instanceof GoMap) return v;
  throw new GoCallError('wrong type for value; expected map[string]interface {}');
}

function mergeInto(dst: GoMap, src: GoMap, overwrite: boolean): void {
  for (const [k, sv] of src.entries) {
    const dv = dst.entries.get(k);
    if (dv instanceof GoMap && sv instanceof GoMap) {
      mergeInto(dv, sv, overwrite);
    } else if (!dst.entries.has(k) || empty(dv ?? null) || (overwrite && !empty(sv ?? null))) {
      dst.entries.set(k, sv);
    }
  }
}

function deepCopy(v: GoValue): GoValue {
  if (v instanceof GoList) return new GoList(v.items.map(deepCopy), v.elem, v.nil);
  if (v instanceof GoMap) return new GoMap(new Map([...v.entries].map(([k, x]) => [k, deepCopy(x)])), v.elem, v.nil);
  return v;
}

/** Go's `encoding/json` encoding (sorted map keys, HTML-escaped unless `raw`). */
export function toJson(v: GoValue, raw: boolean, indent = ''): string {
  const enc = (x: GoValue, lvl: string): string => {
    if (x === undefined || x === null) return 'null';
    if (typeof x === 'string') return jsonString(x, raw);
    if (typeof x === 'boolean') return x ? 'true' : 'false';
    if (x instanceof GoInt) return String(x.value);
    if (x instanceof GoFloat) {
      if (!Number.isFinite(x.value)) throw new GoCallError(`json: unsupported value: ${sprintValue(x)}`);
      return jsonFloat(x.value);
    }
    if (x instanceof GoBytes) return jsonString(Buffer.from(x.bytes).toString('base64'), raw);
    const inner = lvl + indent;
    const nl = indent ? '\n' : '';
    if (x instanceof GoList) {
      if (x.nil) return 'null';
      if (x.items.length === 0) return '[]';
      return `[${nl}${x.items.map((i) => inner + enc(i, inner)).join(',' + nl)}${nl}${lvl}]`;
    }
    if (x instanceof GoMap) {
      if (x.nil) return 'null';
      if (x.entries.size === 0) return '{}';
      const sep = indent ? ': ' : ':';
      return `{${nl}${sortedKeys(x)
        .map((k) => inner + jsonString(k, raw) + sep + enc(x.entries.get(k), inner))
        .join(',' + nl)}${nl}${lvl}}`;
    }
    if (x instanceof GoStruct) return '{}';
    throw new GoCallError(`json: unsupported type: ${typeName(x)}`);
  };
  return enc(v, '');
}

function jsonString(s: string, raw: boolean): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (c < 0x20) {
      out += ch === '\n' ? '\\n' : ch === '\r' ? '\\r' : ch === '\t' ? '\\t' : '\\u00' + c.toString(16).padStart(2, '0');
    } else if (!raw && (ch === '<' || ch === '>' || ch === '&')) out += '\\u00' + c.toString(16).padStart(2, '0');
    else if (c === 0x2028 || c === 0x2029) out += '\\u' + c.toString(16);
    else out += ch;
  }
  return out + '"';
}

function jsonFloat(x: number): string {
  const abs = Math.abs(x);
  if (abs !== 0 && (abs < 1e-6 || abs >= 1e21)) {
    let s = x.toExponential();
    s = s.replace(/e([+-])(\d)$/, 'e$10$2');
    return s.replace(/e-0(\d)$/, 'e-$1');
  }
  return String(x);
}

/** Converts parsed JSON (numbers → float64) to Go values. */
function fromJsonValue(v: unknown): GoValue {
  if (v === null) return null;
  if (typeof v === 'number') return new GoFloat(v);
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (Array.isArray(v)) return list(v.map(fromJsonValue));
  const m = new Map<string, GoValue>();
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) m.set(k, fromJsonValue(x));
  return new GoMap(m);
}

/** regexp.MustCompile: the panic names the pattern. */
function mustCompile(pattern: string, flags = ''): RegExp {
  try {
    return goRegex(pattern, flags);
  } catch (e) {
    const backquotable = [...pattern].every((c) => {
      const code = c.codePointAt(0) ?? 0;
      return c !== '`' && c !== '\ufeff' && code !== 0x7f && (code >= 0x20 || c === '\t');
    });
    const q = backquotable ? '`' + pattern + '`' : goQuote(pattern);
    throw new GoCallError(`regexp: Compile(${q}): ${(e as Error).message}`);
  }
}

/** Go regexp syntax → JS RegExp (RE2 subset). */
export function goRegex(pattern: string, flags = ''): RegExp {
  let p = pattern.replace(/\(\?P</g, '(?<');
  let extra = '';
  const m = /^\(\?([imsU]+)\)/.exec(p);
  if (m) {
    p = p.slice(m[0].length);
    extra = (m[1] ?? '').replace(/U/g, '');
  }
  p = p.replace(/\\z/g, '$(?![\\s\\S])').replace(/\\A/g, '^');
  try {
    return new RegExp(p, 'u' + flags + extra);
  } catch (e) {
    throw new GoCallError(`error parsing regexp: ${(e as Error).message}: \`${pattern}\``);
  }
}

/** Go's `Regexp.Expand` template (`$1`, `${1}`, `$name`, `$$`) → JS replacement. */
function goReplacement(repl: string): (match: string, ...rest: unknown[]) => string {
  return (match: string, ...rest: unknown[]) => {
    const last = rest[rest.length - 1];
    const groups = typeof last === 'object' && last !== null ? (last as Record<string, string | undefined>) : {};
    const numbered = rest.slice(0, typeof last === 'object' && last !== null ? -3 : -2) as (string | undefined)[];
    return repl.replace(/\$(\$|\{([A-Za-z0-9_]+)\}|([A-Za-z0-9_]+))/g, (_all, tok: string, braced?: string, bare?: string) => {
      if (tok === '$') return '$';
      const name = braced ?? bare ?? '';
      if (/^\d+$/.test(name)) {
        const i = Number(name);
        return i === 0 ? match : (numbered[i - 1] ?? '');
      }
      return groups[name] ?? '';
    });
  };
}

/** Go's `strings.Title`. */
function title(s: string): string {
  let prev = ' ';
  let out = '';
  for (const ch of s) {
    const sep = isSeparator(prev);
    out += sep ? ch.toUpperCase() : ch;
    prev = ch;
  }
  return out;
}

function isSeparator(ch: string): boolean {
  if (/^[A-Za-z0-9_]$/.test(ch)) return false;
  const c = ch.codePointAt(0) ?? 0;
  if (c < 0x80) return true;
  if (/^[\p{L}\p{Nd}]$/u.test(ch)) return false;
  return /^\s$/u.test(ch);
}

function seq(params: number[]): string {
  let start = 1;
  let end: number;
  let step: number;
  if (params.length === 0) return '';
  if (params.length === 1) {
    end = params[0] ?? 0;
    step = end >= start ? 1 : -1;
  } else if (params.length === 2) {
    start = params[0] ?? 0;
    end = params[1] ?? 0;
    step = end >= start ? 1 : -1;
  } else if (params.length === 3) {
    start = params[0] ?? 0;
    step = params[1] ?? 0;
    end = params[2] ?? 0;
    if (end > start && step <= 0) return '';
    if (end < start && step >= 0) return '';
  } else return '';
  const out = untilStep(start, end + (step > 0 ? 1 : -1), step);
  return out.join(' ');
}

function untilStep(start: number, stop: number, step: number): number[] {
  const v: number[] = [];
  if (stop < start) {
    if (step >= 0) return v;
    for (let i = start; i > stop; i += step) v.push(i);
    return v;
  }
  if (step <= 0) return v;
  for (let i = start; i < stop; i += step) v.push(i);
  return v;
}

const intList = (ns: number[]): GoList => new GoList(ns.map((n) => new GoInt(n)), 'int');

function roundHalfAway(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

function abbrev(width: number, s: string): string {
  if (width < 4) return s;
  const b = Buffer.from(s, 'utf8');
  if (b.length <= width) return s;
  return b.subarray(0, width - 3).toString('utf8') + '...';
}

/** goutils.WrapCustom (byte-based, as Go). */
function wrap(str: string, width: number, newLine: string, wrapLongWords: boolean): string {
  if (str === '') return '';
  const nl = newLine === '' ? '\n' : newLine;
  const limit = width < 1 ? 1 : width;
  const b = Buffer.from(str, 'utf8');
  const len = b.length;
  const sub = (x: number, y: number): string => b.subarray(x, y).toString('utf8');
  let offset = 0;
  let out = '';
  while (len - offset > limit) {
    if (b[offset] === 0x20) {
      offset++;
      continue;
    }
    const end = limit + offset + 1;
    const space = b.subarray(offset, end).lastIndexOf(0x20) + offset;
    if (space >= offset) {
      out += sub(offset, space) + nl;
      offset = space + 1;
    } else if (wrapLongWords) {
      out += sub(offset, limit + offset) + nl;
      offset += limit;
    } else {
      const e = limit + offset;
      const index = b.subarray(e).indexOf(0x20);
      if (index === -1) {
        out += sub(offset, len);
        offset = len;
      } else {
        out += sub(offset, index + e) + nl;
        offset = index + e + 1;
      }
    }
  }
  return out + sub(offset, len);
}


function dict(...args: GoValue[]): GoMap {
  const m = new Map<string, GoValue>();
  for (let i = 0; i < args.length; i += 2) {
    const k = strval(args[i] ?? null);
    m.set(k, i + 1 >= args.length ? '' : (args[i + 1] ?? null));
  }
  return new GoMap(m);
}

function goSplit(s: string, sep: string, n = -1): string[] {
  if (n === 0) return [];
  if (sep === '') {
    const chars = [...s];
    if (n > 0 && chars.length > n) return [...chars.slice(0, n - 1), chars.slice(n - 1).join('')];
    return chars;
  }
  const parts = s.split(sep);
  if (n > 0 && parts.length > n) return [...parts.slice(0, n - 1), parts.slice(n - 1).join(sep)];
  return parts;
}

function goTrim(s: string, cut: string): string {
  const set = new Set([...cut]);
  const chars = [...s];
  let a = 0;
  let b = chars.length;
  while (a < b && set.has(chars[a] ?? '')) a++;
  while (b > a && set.has(chars[b - 1] ?? '')) b--;
  return chars.slice(a, b).join('');
}

function goTrimSpace(s: string): string {
  return s.replace(/^[\s\u0085\u00a0]+|[\s\u0085\u00a0]+$/gu, '');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Go's base64.StdEncoding.DecodeString, quantum by quantum; on error sprig returns the error text. */
function b64decode(s: string): string {
  const src = Buffer.from(s, 'utf8');
  const n = src.length;
  const out: number[] = [];
  const fail = (at: number): string => `illegal base64 data at input byte ${at}`;
  const isNl = (c: number | undefined): boolean => c === 0x0a || c === 0x0d;
  let si = 0;
  for (;;) {
    const buf = [0, 0, 0, 0];
    let j = 0;
    let dlen = 4;
    while (j < 4) {
      if (si === n) {
        if (j === 0) return Buffer.from(out).toString('utf8');
        return fail(si - j);
      }
      const c = src[si] ?? 0;
      si++;
      if (isNl(c)) continue;
      const v = B64.indexOf(String.fromCharCode(c));
      if (v >= 0 && c < 0x80) {
        buf[j++] = v;
        continue;
      }
      if (c !== 0x3d || j < 2) return fail(si - 1);
      if (j === 2) {
        while (si < n && isNl(src[si])) si++;
        if (si === n) return fail(n);
        if (src[si] !== 0x3d) return fail(si - 1);
        si++;
      }
      while (si < n && isNl(src[si])) si++;
      if (si < n) return fail(si);
      dlen = j;
      break;
    }
    const [a = 0, b = 0, c = 0, d = 0] = buf;
    const word = (a << 18) | (b << 12) | (c << 6) | d;
    out.push((word >> 16) & 0xff);
    if (dlen > 2) out.push((word >> 8) & 0xff);
    if (dlen > 3) out.push(word & 0xff);
    if (dlen < 4) return Buffer.from(out).toString('utf8');
  }
}

/** sprig's functions, keyed by name. */
export function createSprigFunctions(): Map<string, GoFunc> {
  const m = new Map<string, GoFunc>();
  const add = (fn: GoFunc, ...aliases: string[]): void => {
    m.set(fn.name, fn);
    for (const a of aliases) m.set(a, fn);
  };
  const S: ParamType = 'string';
  const I: ParamType = 'int';
  const A: ParamType = 'any';
  const MAP: ParamType = { map: 'any' };

  add(f('hello', [], () => 'Hello!'));
  // strings
  add(f('abbrev', [I, S], (w, s) => abbrev(num(w), str(s))));
  add(f('abbrevboth', [I, I, S], (l, r, s) => {
    const left = num(l);
    let t = str(s);
    if (left > 4 && t.length > left) t = '...' + t.slice(left);
    return abbrev(num(r), t);
  }));
  add(f('trunc', [I, S], (c, s) => {
    // Go slices strings by bytes.
    const n = num(c);
    const b = Buffer.from(str(s), 'utf8');
    if (n < 0 && b.length + n > 0) return b.subarray(b.length + n).toString('utf8');
    if (n >= 0 && b.length > n) return b.subarray(0, n).toString('utf8');
    return str(s);
  }));
  add(f('trim', [S], (s) => goTrimSpace(str(s))));
  add(f('upper', [S], (s) => mapRunes(str(s), (c) => c.toUpperCase())));
  add(f('lower', [S], (s) => mapRunes(str(s), (c) => c.toLowerCase())));
  add(f('title', [S], (s) => title(str(s))));
  add(f('untitle', [S], (s) => str(s).replace(/(^|\s)(\S)/g, (_a, sp: string, c: string) => sp + c.toLowerCase())));
  add(f('substr', [I, I, S], (a, b, s) => {
    const start = num(a);
    const end = num(b);
    const t = Buffer.from(str(s), 'utf8');
    const cut = (x: number, y: number): string => {
      if (x < 0 || y > t.length || x > y) throw new GoCallError(`runtime error: slice bounds out of range [${x}:${y}]`);
      return t.subarray(x, y).toString('utf8');
    };
    if (start < 0) return cut(0, end);
    if (end < 0 || end > t.length) return cut(start, t.length);
    return cut(start, end);
  }));
  add(f('repeat', [I, S], (c, s) => {
    if (num(c) < 0) throw new GoCallError('strings: negative Repeat count');
    return str(s).repeat(num(c));
  }));
  add(f('trimAll', [S, S], (a, b) => goTrim(str(b), str(a))), 'trimall');
  add(f('trimSuffix', [S, S], (a, b) => (str(b).endsWith(str(a)) && str(a) !== '' ? str(b).slice(0, -str(a).length) : str(b))));
  add(f('trimPrefix', [S, S], (a, b) => (str(b).startsWith(str(a)) ? str(b).slice(str(a).length) : str(b))));
  // goutils works on bytes taken as Latin-1 runes (so non-ASCII text is garbled, as in Go).
  add(f('nospace', [S], (s) => {
    const bytes = [...Buffer.from(str(s), 'utf8')];
    const kept = bytes.filter((b) => !isLatin1Space(b));
    return kept.length === bytes.length ? str(s) : String.fromCharCode(...kept);
  }));
  add(f('initials', [S], (s) => {
    let out = '';
    let gap = true;
    for (const b of Buffer.from(str(s), 'utf8')) {
      if (isLatin1Space(b)) gap = true;
      else if (gap) {
        out += String.fromCharCode(b);
        gap = false;
      }
    }
    return out;
  }));
  add(f('swapcase', [S], (s) => [...str(s)].map((c) => (c === c.toUpperCase() ? c.toLowerCase() : c.toUpperCase())).join('')));
  add(f('snakecase', [S], (s) => camelCaseToLowerCase(str(s), '_')));
  add(f('kebabcase', [S], (s) => camelCaseToLowerCase(str(s), '-')));
  add(f('camelcase', [S], (s) => toCamelCase(str(s))));
  add(f('wrap', [I, S], (l, s) => wrap(str(s), num(l), '\n', false)));
  add(f('wrapWith', [I, S, S], (l, sep, s) => wrap(str(s), num(l), str(sep), true)));
  add(f('contains', [S, S], (a, b) => str(b).includes(str(a))));
  add(f('hasPrefix', [S, S], (a, b) => str(b).startsWith(str(a))));
  add(f('hasSuffix', [S, S], (a, b) => str(b).endsWith(str(a))));
  add(f('quote', [], (...xs) => xs.filter((x) => x !== null && x !== undefined).map((x) => goQuote(strval(x))).join(' '), A));
  add(f('squote', [], (...xs) => xs.filter((x) => x !== null && x !== undefined).map((x) => `'${strval(x)}'`).join(' '), A));
  add(f('cat', [], (...xs) => {
    const v = xs.filter((x) => x !== null && x !== undefined);
    return sprintf(Array(v.length).fill('%v').join(' '), v);
  }, A));
  add(f('indent', [I, S], (n, s) => {
    const pad = goRepeat(' ', num(n));
    return pad + str(s).split('\n').join('\n' + pad);
  }));
  add(f('nindent', [I, S], (n, s) => {
    const pad = goRepeat(' ', num(n));
    return '\n' + pad + str(s).split('\n').join('\n' + pad);
  }));
  add(f('replace', [S, S, S], (o, n, s) => (str(o) === '' ? goReplaceEmpty(str(s), str(n)) : str(s).split(str(o)).join(str(n)))));
  add(f('plural', [S, S, I], (one, many, c) => (num(c) === 1 ? str(one) : str(many))));
  add(f('sha1sum', [S], (s) => createHash('sha1').update(str(s)).digest('hex')));
  add(f('sha256sum', [S], (s) => createHash('sha256').update(str(s)).digest('hex')));
  add(f('adler32sum', [S], (s) => String(adler32(Buffer.from(str(s))))));
  add(f('toString', [A], (v) => strval(v)));
  add(f('atoi', [S], (s) => new GoInt(/^[+-]?\d+$/.test(str(s)) ? Number(str(s)) : 0)));
  add(f('int64', [A], (v) => wrapInt(toInt64(v), 'int64')));
  add(f('int', [A], (v) => wrapInt(toInt64(v), 'int')));
  add(f('float64', [A], (v) => new GoFloat(toFloat64(v))));
  add(f('seq', [], (...ps) => seq(ps.map(num)), I));
  add(f('toDecimal', [A], (v) => {
    const s = strval(v);
    return new GoInt(/^[+-]?[0-7]+$/.test(s) ? parseInt(s, 8) : 0, 'int64');
  }));
  add(f('split', [S, S], (sep, s) => new GoMap(new Map(goSplit(str(s), str(sep)).map((p, i) => [`_${i}`, p])), 'string')));
  add(f('splitList', [S, S], (sep, s) => stringList(goSplit(str(s), str(sep)))));
  add(f('splitn', [S, I, S], (sep, n, s) => new GoMap(new Map(goSplit(str(s), str(sep), num(n)).map((p, i) => [`_${i}`, p])), 'string')));
  add(f('toStrings', [A], (v) => stringList(strslice(v))));
  add(f('until', [I], (c) => intList(untilStep(0, num(c), num(c) < 0 ? -1 : 1))));
  add(f('untilStep', [I, I, I], (a, b, c) => intList(untilStep(num(a), num(b), num(c)))));
  // math
  const i64 = (n: number): GoInt => wrapInt(n, 'int64');
  add(f('add1', [A], (v) => i64(toInt64(v) + 1)));
  add(f('add', [], (...xs) => i64(xs.reduce<number>((a, x) => a + toInt64(x), 0)), A));
  add(f('sub', [A, A], (a, b) => i64(toInt64(a) - toInt64(b))));
  add(f('div', [A, A], (a, b) => {
    if (toInt64(b) === 0) throw new GoCallError('runtime error: integer divide by zero');
    return i64(Math.trunc(toInt64(a) / toInt64(b)));
  }));
  add(f('mod', [A, A], (a, b) => {
    if (toInt64(b) === 0) throw new GoCallError('runtime error: integer divide by zero');
    return i64(toInt64(a) % toInt64(b));
  }));
  add(f('mul', [A], (a, ...xs) => i64(xs.reduce<number>((acc, x) => acc * toInt64(x), toInt64(a))), A));
  add(f('add1f', [A], (v) => new GoFloat(decimalOp(toFloat64(v), [1], '+'))));
  add(f('addf', [], (...xs) => new GoFloat(decimalOp(0, xs.map(toFloat64), '+')), A));
  add(f('subf', [A], (a, ...xs) => new GoFloat(decimalOp(toFloat64(a), xs.map(toFloat64), '-')), A));
  add(f('mulf', [A], (a, ...xs) => new GoFloat(decimalOp(toFloat64(a), xs.map(toFloat64), '*')), A));
  add(f('divf', [A], (a, ...xs) => new GoFloat(decimalOp(toFloat64(a), xs.map(toFloat64), '/')), A));
  add(f('max', [A], (a, ...xs) => i64(xs.reduce<number>((acc, x) => Math.max(acc, toInt64(x)), toInt64(a))), A), 'biggest');
  add(f('min', [A], (a, ...xs) => i64(xs.reduce<number>((acc, x) => Math.min(acc, toInt64(x)), toInt64(a))), A));
  add(f('maxf', [A], (a, ...xs) => new GoFloat(xs.reduce<number>((acc, x) => Math.max(acc, toFloat64(x)), toFloat64(a))), A));
  add(f('minf', [A], (a, ...xs) => new GoFloat(xs.reduce<number>((acc, x) => Math.min(acc, toFloat64(x)), toFloat64(a))), A));
  add(f('ceil', [A], (v) => new GoFloat(Math.ceil(toFloat64(v)))));
  add(f('floor', [A], (v) => new GoFloat(Math.floor(toFloat64(v)))));
  add(f('round', [A, I], (v, p, ...r) => {
    const x = toFloat64(v);
    const pow = 10 ** num(p);
    const roundOn = r.length > 0 ? toFloat64(r[0] ?? null) : 0.5;
    const digit = x * pow;
    const [, frac] = [Math.trunc(digit), digit - Math.trunc(digit)];
    const rounder = frac >= roundOn ? Math.ceil(digit) : Math.floor(digit);
    void roundHalfAway;
    return new GoFloat(rounder / pow);
  }, 'float64'));
  // lists / dicts
  add(f('join', [S, A], (sep, v) => strslice(v).join(str(sep))));
  add(f('sortAlpha', [A], (v) => {
    if (!(v instanceof GoList)) return stringList([strval(v)]);
    return stringList(strslice(v).sort(compareStrings));
  }));
  add(f('default', [A], (d, ...given) => (given.length === 0 || empty(given[0] ?? null) ? d : (given[0] ?? null)), A));
  add(f('empty', [A], (v) => empty(v)));
  add(f('coalesce', [], (...xs) => xs.find((x) => !empty(x)) ?? null, A));
  add(f('all', [], (...xs) => xs.every((x) => !empty(x)), A));
  add(f('any', [], (...xs) => xs.some((x) => !empty(x)), A));
  add(f('compact', [A], (v) => list(listItems(v, 'compact').filter((x) => !empty(x)))));
  add(f('mustCompact', [A], (v) => list(mustListItems(v, 'compact').filter((x) => !empty(x)))));
  add(f('fromJson', [S], (s) => {
    try {
      return fromJsonValue(JSON.parse(str(s)));
    } catch {
      return null;
    }
  }));
  add(f('mustFromJson', [S], (s) => {
    try {
      return fromJsonValue(JSON.parse(str(s)));
    } catch (e) {
      throw new GoCallError((e as Error).message);
    }
  }));
  const safeJson = (v: GoValue, raw: boolean, indent: string): string => {
    try {
      return toJson(v, raw, indent);
    } catch {
      return '';
    }
  };
  add(f('toJson', [A], (v) => safeJson(v, false, '')));
  add(f('toPrettyJson', [A], (v) => safeJson(v, false, '  ')));
  add(f('toRawJson', [A], (v) => safeJson(v, true, '')));
  add(f('mustToJson', [A], (v) => toJson(v, false, '')));
  add(f('mustToPrettyJson', [A], (v) => toJson(v, false, '  ')));
  add(f('mustToRawJson', [A], (v) => toJson(v, true, '')));
  add(f('ternary', [A, A, 'bool'], (t, fl, c) => (c === true ? t : fl)));
  add(f('deepCopy', [A], deepCopy), 'mustDeepCopy');
  add(f('typeOf', [A], (v) => typeName(v === undefined ? null : v)));
  add(f('typeIs', [S, A], (t, v) => str(t) === typeName(v === undefined ? null : v)));
  add(f('typeIsLike', [S, A], (t, v) => {
    const n = typeName(v === undefined ? null : v);
    return str(t) === n || str(t) === '*' + n;
  }));
  add(f('kindOf', [A], (v) => kindOf(v)));
  add(f('kindIs', [S, A], (t, v) => str(t) === kindOf(v)));
  add(f('deepEqual', [A, A], (a, b) => deepEqual(a, b)));
  add(f('base', [S], (s) => goBase(str(s))));
  add(f('dir', [S], (s) => goDir(str(s))));
  add(f('clean', [S], (s) => goClean(str(s))));
  add(f('ext', [S], (s) => posix.extname(str(s).split('/').pop() ?? '') || extGo(str(s))));
  add(f('isAbs', [S], (s) => str(s).startsWith('/')));
  add(f('osBase', [S], (s) => goBase(str(s))));
  add(f('osDir', [S], (s) => goDir(str(s))));
  add(f('osClean', [S], (s) => goClean(str(s))));
  add(f('osExt', [S], (s) => extGo(str(s))));
  add(f('osIsAbs', [S], (s) => str(s).startsWith('/')));
  add(f('b64enc', [S], (s) => Buffer.from(str(s), 'utf8').toString('base64')));
  add(f('b64dec', [S], (s) => b64decode(str(s))));
  add(f('b32enc', [S], (s) => base32(Buffer.from(str(s), 'utf8'))));
  add(f('list', [], (...xs) => list(xs.map((x) => (x === undefined ? null : x))), A), 'tuple');
  add(f('dict', [], dict, A));
  add(f('get', [MAP, S], (d, k) => (toMap(d).entries.has(str(k)) ? (toMap(d).entries.get(str(k)) ?? null) : '')));
  add(f('set', [MAP, S, A], (d, k, v) => {
    if (toMap(d).nil) throw new GoCallError('assignment to entry in nil map');
    toMap(d).entries.set(str(k), v ?? null);
    return d;
  }));
  add(f('unset', [MAP, S], (d, k) => {
    toMap(d).entries.delete(str(k));
    return d;
  }));
  add(f('hasKey', [MAP, S], (d, k) => toMap(d).entries.has(str(k))));
  add(f('pluck', [S], (k, ...ds) => list(ds.filter((d) => d instanceof GoMap && d.entries.has(str(k))).map((d) => (d as GoMap).entries.get(str(k)) ?? null)), MAP));
  add(f('keys', [], (...ds) => stringList(ds.flatMap((d) => (d instanceof GoMap ? sortedKeys(d) : []))), MAP));
  add(f('pick', [MAP], (d, ...ks) => new GoMap(new Map([...toMap(d).entries].filter(([k]) => ks.includes(k)))), S));
  add(f('omit', [MAP], (d, ...ks) => new GoMap(new Map([...toMap(d).entries].filter(([k]) => !ks.includes(k)))), S));
  add(f('merge', [MAP], (dst, ...srcs) => {
    for (const s of srcs) mergeInto(toMap(dst), toMap(s), false);
    return dst;
  }, MAP), 'mustMerge');
  add(f('mergeOverwrite', [MAP], (dst, ...srcs) => {
    for (const s of srcs) mergeInto(toMap(dst), toMap(s), true);
    return dst;
  }, MAP), 'mustMergeOverwrite');
  add(f('values', [MAP], (d) => list(sortedKeys(toMap(d)).map((k) => toMap(d).entries.get(k) ?? null))));
  add(f('append', [A, A], (l, v) => list([...listItems(l, 'push'), v ?? null])), 'push', 'mustAppend', 'mustPush');
  add(f('prepend', [A, A], (l, v) => list([v ?? null, ...listItems(l, 'prepend')])), 'mustPrepend');
  add(f('first', [A], (l) => listItems(l, 'find first')[0] ?? null), 'mustFirst');
  add(f('last', [A], (l) => {
    const xs = listItems(l, 'find last');
    return xs[xs.length - 1] ?? null;
  }), 'mustLast');
  add(f('rest', [A], (l) => {
    const xs = listItems(l, 'find rest');
    return list(xs.slice(1));
  }), 'mustRest');
  add(f('initial', [A], (l) => {
    const xs = listItems(l, 'find initial');
    return list(xs.slice(0, -1));
  }), 'mustInitial');
  add(f('reverse', [A], (l) => list([...listItems(l, 'find reverse')].reverse())), 'mustReverse');
  add(f('uniq', [A], (l) => {
    const out: GoValue[] = [];
    for (const x of listItems(l, 'find uniq')) if (!out.some((y) => deepEqual(x, y))) out.push(x);
    return list(out);
  }), 'mustUniq');
  add(f('without', [A], (l, ...omit) => list(listItems(l, 'find without').filter((x) => !omit.some((o) => deepEqual(x, o)))), A), 'mustWithout');
  add(f('has', [A, A], (needle, hay) => {
    if (hay === null || hay === undefined) return false;
    return listItems(hay, 'find has').some((x) => deepEqual(x, needle));
  }), 'mustHas');
  add(f('concat', [], (...ls) => list(ls.flatMap((l) => {
    if (l instanceof GoList) return l.items;
    if (l === null || l === undefined) throw new GoCallError('runtime error: invalid memory address or nil pointer dereference');
    throw new GoCallError(`Cannot concat type ${kindOf(l)} as list`);
  })), A));
  add(f('chunk', [I, A], (size, l) => {
    if (l === null || l === undefined) throw new GoCallError('runtime error: invalid memory address or nil pointer dereference');
    if (!(l instanceof GoList)) throw new GoCallError(`Cannot chunk type ${kindOf(l)}`);
    const xs = l.items;
    const n = num(size);
    const out: GoValue[] = [];
    for (let i = 0; i < xs.length; i += n) out.push(list(xs.slice(i, i + n)));
    return new GoList(out, { slice: 'any' });
  }), 'mustChunk');
  add(f('dig', [A], (...ps) => {
    if (ps.length < 3) throw new GoCallError('dig needs at least three arguments');
    const d = ps[ps.length - 1] ?? null;
    if (!(d instanceof GoMap)) throw new GoCallError(`interface conversion: interface {} is ${d === null ? 'nil' : typeName(d)}, not map[string]interface {}`);
    const dflt = ps[ps.length - 2] ?? null;
    const ks = ps.slice(0, -2).map((k) => {
      if (typeof k !== 'string') throw new GoCallError(`interface conversion: interface {} is ${k === null || k === undefined ? 'nil' : typeName(k)}, not string`);
      return k;
    });
    let cur: GoMap = d;
    for (let i = 0; i < ks.length; i++) {
      const k = ks[i] ?? '';
      if (!cur.entries.has(k)) return dflt;
      const step: GoValue = cur.entries.get(k) ?? null;
      if (i === ks.length - 1) return step;
      if (!(step instanceof GoMap)) throw new GoCallError(`interface conversion: interface {} is ${step === null ? 'nil' : typeName(step)}, not map[string]interface {}`);
      cur = step;
    }
    return dflt;
  }, A));
  add(f('slice', [A], (l, ...ix) => {
    if (l === null || l === undefined) throw new GoCallError('runtime error: invalid memory address or nil pointer dereference');
    if (!(l instanceof GoList)) throw new GoCallError(`list should be type of slice or array but ${kindOf(l)}`);
    if (l.items.length === 0) return null;
    const start = ix.length > 0 ? toInt64(ix[0] ?? null) : 0;
    const end = ix.length > 1 ? toInt64(ix[1] ?? null) : l.items.length;
    if (start < 0 || end > l.items.length || start > end) throw new GoCallError('reflect.Value.Slice: slice index out of bounds');
    return new GoList(l.items.slice(start, end), l.elem);
  }, A), 'mustSlice');
  // semver
  add(f('semverCompare', [S, S], (c, v) => satisfies(str(c), str(v))));
  add(f('semver', [S], (v) => {
    const p = parseVersion(str(v));
    return new GoStruct('*semver.Version', new Map<string, GoValue>([
      ['Major', new GoInt(p.major, 'uint64')],
      ['Minor', new GoInt(p.minor, 'uint64')],
      ['Patch', new GoInt(p.patch, 'uint64')],
      ['Prerelease', p.prerelease],
      ['Metadata', p.metadata],
      ['Original', p.original],
    ]), new Map([
      ['Compare', f('Compare', [A], (o) => new GoInt(compareVersions(p, parseVersion(((o as GoStruct).fields.get('Original') as string | undefined) ?? ''))))],
      ['String', f('String', [], () => p.canonical)],
    ]));
  }));
  add(f('fail', [S], (msg) => {
    throw new GoCallError(str(msg));
  }));
  // regex
  add(f('regexMatch', [S, S], (r, s) => {
    try {
      return goRegex(str(r)).test(str(s));
    } catch {
      return false;
    }
  }));
  add(f('mustRegexMatch', [S, S], (r, s) => goRegex(str(r)).test(str(s))));
  // The plain variants use regexp.MustCompile (a panic naming the pattern), the must* ones Compile.
  for (const must of [false, true]) {
    const re = (r: GoValue, flags = ''): RegExp => (must ? goRegex(str(r), flags) : mustCompile(str(r), flags));
    const name = (n: string): string => (must ? 'must' + n[0]?.toUpperCase() + n.slice(1) : n);
    add(f(name('regexFind'), [S, S], (r, s) => re(r).exec(str(s))?.[0] ?? ''));
    add(f(name('regexReplaceAll'), [S, S, S], (r, s, repl) => str(s).replace(re(r, 'g'), goReplacement(str(repl)))));
    add(f(name('regexReplaceAllLiteral'), [S, S, S], (r, s, repl) => str(s).replace(re(r, 'g'), () => str(repl))));
    add(f(name('regexFindAll'), [S, S, I], (r, s, n) => stringList(findAllIndex(re(r), str(s), num(n)).map(([a, b]) => str(s).slice(a, b)))));
    add(f(name('regexSplit'), [S, S, I], (r, s, n) => {
      const parts = goRegexSplit(re(r), str(s), num(n));
      return parts === undefined ? new GoList([], 'string', true) : stringList(parts);
    }));
  }
  add(f('regexQuoteMeta', [S], (s) => str(s).replace(/[\\.+*?()|[\]{}^$]/g, '\\$&')));
  return m;
}

/** Go's per-rune case mapping: a rune whose mapping is not a single rune (ß → SS) stays as is. */
function mapRunes(s: string, fn: (c: string) => string): string {
  let out = '';
  for (const c of s) {
    const m = fn(c);
    out += [...m].length === 1 ? m : c;
  }
  return out;
}

/** Go's `Regexp.FindAllStringIndex`: empty matches abutting a preceding match are skipped. */
function findAllIndex(re: RegExp, s: string, n: number): [number, number][] {
  const out: [number, number][] = [];
  const g = new RegExp(re.source, re.flags.includes('g') ? re.flags : re.flags + 'g');
  let prevEnd = -1;
  for (const m of s.matchAll(g)) {
    if (n >= 0 && out.length >= n) break;
    const start = m.index;
    const end = start + m[0].length;
    if (end === start && start === prevEnd) continue;
    out.push([start, end]);
    prevEnd = end;
  }
  return out;
}

/** Go's `Regexp.Split`; undefined for n = 0 (a nil slice). */
function goRegexSplit(re: RegExp, s: string, n: number): string[] | undefined {
  if (n === 0) return undefined;
  if (re.source !== '(?:)' && s.length === 0) return [''];
  const parts: string[] = [];
  let beg = 0;
  let end = 0;
  for (const [a, b] of findAllIndex(re, s, n)) {
    if (n > 0 && parts.length === n - 1) break;
    end = a;
    if (b !== 0) parts.push(s.slice(beg, end));
    beg = b;
  }
  if (end !== s.length) parts.push(s.slice(beg));
  return parts;
}

/** A decimal number: v × 10^-scale. */
interface Dec {
  v: bigint;
  scale: number;
}

/** The float's shortest decimal form, as shopspring/decimal's NewFromFloat takes it. */
function decOf(x: number): Dec {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(x.toExponential());
  if (!m) return { v: 0n, scale: 0 };
  const digits = (m[2] ?? '') + (m[3] ?? '');
  const exp = Number(m[4]) - (digits.length - 1);
  const v = BigInt((m[1] ?? '') + digits);
  return exp >= 0 ? { v: v * 10n ** BigInt(exp), scale: 0 } : { v, scale: -exp };
}

function decToNumber(d: Dec): number {
  const neg = d.v < 0n;
  let t = (neg ? -d.v : d.v).toString();
  if (d.scale > 0) {
    t = t.padStart(d.scale + 1, '0');
    t = t.slice(0, t.length - d.scale) + '.' + t.slice(t.length - d.scale);
  }
  return Number((neg ? '-' : '') + t);
}

function decOp(op: '+' | '-' | '*' | '/', a: Dec, b: Dec): Dec {
  if (op === '*') return { v: a.v * b.v, scale: a.scale + b.scale };
  if (op === '/') {
    if (b.v === 0n) throw new GoCallError('decimal division by 0');
    // shopspring's DivisionPrecision: 16 fractional digits, rounded half away from zero.
    const prec = 16;
    const numer = a.v * 10n ** BigInt(prec + 1 + b.scale);
    const denom = b.v * 10n ** BigInt(a.scale);
    let q = numer / denom;
    const neg = q < 0n;
    if (neg) q = -q;
    q = (q + 5n) / 10n;
    return { v: neg ? -q : q, scale: prec };
  }
  const s = Math.max(a.scale, b.scale);
  const x = a.v * 10n ** BigInt(s - a.scale);
  const y = b.v * 10n ** BigInt(s - b.scale);
  return { v: op === '+' ? x + y : x - y, scale: s };
}

/** sprig's float arithmetic: exact decimals of the operands, converted back to the nearest float64. */
function decimalOp(a: number, rest: number[], op: '+' | '-' | '*' | '/'): number {
  if (![a, ...rest].every(Number.isFinite)) throw new GoCallError('cannot convert a non-finite float to decimal');
  let acc = decOf(a);
  for (const r of rest) acc = decOp(op, acc, decOf(r));
  return decToNumber(acc);
}

function isLatin1Space(b: number): boolean {
  return b === 0x20 || (b >= 0x09 && b <= 0x0d) || b === 0x85 || b === 0xa0;
}

function goRepeat(s: string, n: number): string {
  if (n < 0) throw new GoCallError('strings: negative Repeat count');
  return s.repeat(n);
}

function goReplaceEmpty(s: string, n: string): string {
  const chars = [...s];
  return n + chars.join(n) + (chars.length > 0 ? n : '');
}

function goClean(p: string): string {
  if (p === '') return '.';
  const n = posix.normalize(p);
  return n.length > 1 && n.endsWith('/') ? n.slice(0, -1) : n;
}

function goBase(p: string): string {
  if (p === '') return '.';
  const t = p.replace(/\/+$/, '');
  if (t === '') return '/';
  return t.slice(t.lastIndexOf('/') + 1);
}

function goDir(p: string): string {
  return goClean(p.slice(0, p.lastIndexOf('/') + 1));
}

function extGo(p: string): string {
  for (let i = p.length - 1; i >= 0 && p[i] !== '/'; i--) if (p[i] === '.') return p.slice(i);
  return '';
}

function adler32(buf: Buffer): number {
  let a = 1;
  let b = 0;
  for (const x of buf) {
    a = (a + x) % 65521;
    b = (b + a) % 65521;
  }
  return (b * 65536 + a) >>> 0;
}

function base32(buf: Buffer): string {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0;
  let value = 0;
  let out = '';
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += alpha[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += alpha[(value << (5 - bits)) & 31];
  while (out.length % 8 !== 0) out += '=';
  return out;
}
