/**
 * Go's `fmt` printing of {@link GoValue}s: `Sprint`, `Sprintln`, `Sprintf` with Go verbs, flags,
 * width, precision, explicit argument indexes and Go's in-band error markers (`%!d(string=x)`,
 * `%!v(MISSING)`, `%!(EXTRA …)`).
 */
import {
  GoBytes,
  GoFloat,
  GoFunc,
  GoInt,
  GoList,
  GoMap,
  GoStruct,
  type GoValue,
  sortedKeys,
  typeName,
} from './value.js';

interface Spec {
  minus: boolean;
  plus: boolean;
  sharp: boolean;
  space: boolean;
  zero: boolean;
  width: number | undefined;
  prec: number | undefined;
  plusV?: boolean;
  sharpV?: boolean;
}

const plain = (): Spec => ({ minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined });

/** `fmt.Sprint(v)` for one operand. */
export function sprintValue(v: GoValue): string {
  return fmtValue(v, 'v', plain(), 0);
}

/** `fmt.Sprint(args...)`: spaces between operands when neither side is a string. */
export function sprint(args: readonly GoValue[]): string {
  let out = '';
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' ';
    out += sprintValue(a);
  }
  return out;
}

/** `fmt.Sprintln(args...)`: operands always separated by spaces, newline appended. */
export function sprintln(args: readonly GoValue[]): string {
  return args.map(sprintValue).join(' ') + '\n';
}

/** `fmt.Sprintf(format, args...)`. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = '';
  let argNum = 0;
  let reordered = false;
  let goodArgNum = true;
  const n = format.length;
  let i = 0;
  while (i < n) {
    const pct = format.indexOf('%', i);
    if (pct < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, pct);
    i = pct + 1;
    const spec = plain();
    // flags
    flags: for (; i < n; i++) {
      switch (format[i]) {
        case '#':
          spec.sharp = true;
          break;
        case '0':
          spec.zero = !spec.minus;
          break;
        case '+':
          spec.plus = true;
          break;
        case '-':
          spec.minus = true;
          spec.zero = false;
          break;
        case ' ':
          spec.space = true;
          break;
        default:
          break flags;
      }
    }
    // argument index
    const readIndex = (): void => {
      if (i < n && format[i] === '[') {
        reordered = true;
        const close = format.indexOf(']', i);
        const idx = close < 0 ? NaN : Number(format.slice(i + 1, close));
        if (close < 0 || !/^\d+$/.test(format.slice(i + 1, close)) || idx < 1 || idx > args.length) {
          goodArgNum = false;
          i = close < 0 ? n : close + 1;
          return;
        }
        argNum = idx - 1;
        i = close + 1;
      }
    };
    readIndex();
    // width
    let badWidth = false;
    if (i < n && format[i] === '*') {
      i++;
      const a = args[argNum];
      if (goodArgNum && argNum < args.length && a instanceof GoInt) {
        spec.width = a.value;
        if (spec.width < 0) {
          spec.minus = true;
          spec.zero = false;
          spec.width = -spec.width;
        }
        if (spec.width > 1e6) badWidth = true;
      } else badWidth = true;
      argNum++;
      if (badWidth) {
        out += '%!(BADWIDTH)';
        spec.width = undefined;
      }
      reordered = false;
    } else {
      const m = /^\d+/.exec(format.slice(i));
      if (m) {
        spec.width = Number(m[0]);
        i += m[0].length;
        if (reordered && goodArgNum) {
          // Go: "%[3]2d" is malformed.
          goodArgNum = false;
        }
      }
    }
    // precision
    if (i < n && format[i] === '.') {
      i++;
      if (reordered) goodArgNum = goodArgNum && true;
      readIndex();
      if (i < n && format[i] === '*') {
        i++;
        const a = args[argNum];
        if (goodArgNum && argNum < args.length && a instanceof GoInt && a.value >= 0 && a.value <= 1e6) {
          spec.prec = a.value;
        } else {
          out += '%!(BADPREC)';
          spec.prec = undefined;
        }
        argNum++;
        reordered = false;
      } else {
        const m = /^\d+/.exec(format.slice(i));
        spec.prec = m ? Number(m[0]) : 0;
        if (m) i += m[0].length;
      }
    }
    if (!reordered) readIndex();
    if (i >= n) {
      out += '%!(NOVERB)';
      break;
    }
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0);
    i += verb.length;
    if (verb === '%') {
      out += '%';
      continue;
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`;
      goodArgNum = true;
      continue;
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const arg = args[argNum++];
    out += fmtArg(arg, verb, spec);
  }
  if (!reordered && argNum < args.length) {
    out += '%!(EXTRA ';
    out += args
      .slice(argNum)
      .map((a) => (a === undefined || a === null ? '<nil>' : `${typeName(a)}=${fmtValue(a, 'v', plain(), 0)}`))
      .join(', ');
    out += ')';
  }
  return out;
}

function fmtArg(arg: GoValue, verb: string, specIn: Spec): string {
  // %+v asks for field names (structs), not signs.
  let spec = verb === 'v' && specIn.plus ? { ...specIn, plus: false, plusV: true } : specIn;
  // %#v asks for Go syntax; numbers print as with %v.
  if (verb === 'v' && spec.sharp) spec = { ...spec, sharp: false, sharpV: true };
  if (arg === undefined || arg === null) {
    if (verb === 'T' || verb === 'v') return pad('<nil>', spec);
    return badVerb(arg, verb, spec);
  }
  if (verb === 'T') return pad(typeName(arg), spec);
  if (verb === 'p') return badVerb(arg, verb, spec);
  return fmtValue(arg, verb, spec, 0);
}

function badVerb(arg: GoValue, verb: string, spec: Spec = plain()): string {
  if (arg === undefined || arg === null) return `%!${verb}(<nil>)`;
  // Go prints the operand with %v under the same flags, width and precision.
  return `%!${verb}(${typeName(arg)}=${fmtValue(arg, 'v', spec, 0)})`;
}

function fmtValue(v: GoValue, verb: string, spec: Spec, depth: number): string {
  if (v === undefined || v === null) {
    // A nil element of a container prints as <nil> whatever the verb.
    if (depth > 0) return spec.sharpV && verb === 'v' ? 'interface {}(nil)' : '<nil>';
    return verb === 'v' ? pad('<nil>', spec) : badVerb(v, verb, spec);
  }
  if (typeof v === 'boolean') {
    if (verb === 't' || verb === 'v') return pad(v ? 'true' : 'false', spec);
    return badVerb(v, verb, spec);
  }
  if (typeof v === 'string') return fmtString(v, verb, spec);
  if (v instanceof GoInt) return fmtInt(v, verb, spec);
  if (v instanceof GoFloat) return fmtFloatVerb(v.value, verb, spec);
  if (v instanceof GoBytes) {
    if (verb === 's' || verb === 'q' || verb === 'x' || verb === 'X') return fmtString(Buffer.from(v.bytes).toString('latin1'), verb, spec);
    const items = [...v.bytes].map((b) => fmtInt(new GoInt(b, 'uint8'), verb, spec));
    if (spec.sharpV && verb === 'v') return `[]byte{${[...v.bytes].map((b) => '0x' + b.toString(16)).join(', ')}}`;
    return `[${items.join(' ')}]`;
  }
  if (v instanceof GoList) {
    if (spec.sharpV && verb === 'v') {
      if (v.nil) return `${typeName(v)}(nil)`;
      return `${typeName(v)}{${v.items.map((x) => fmtValue(x, verb, spec, depth + 1)).join(', ')}}`;
    }
    return `[${v.items.map((x) => fmtValue(x, verb, spec, depth + 1)).join(' ')}]`;
  }
  if (v instanceof GoMap) {
    const keys = sortedKeys(v);
    if (spec.sharpV && verb === 'v') {
      if (v.nil) return `${typeName(v)}(nil)`;
      return `${typeName(v)}{${keys.map((k) => `${fmtValue(k, verb, spec, depth + 1)}:${fmtValue(v.entries.get(k), verb, spec, depth + 1)}`).join(', ')}}`;
    }
    return `map[${keys.map((k) => `${fmtValue(k, verb, spec, depth + 1)}:${fmtValue(v.entries.get(k), verb, spec, depth + 1)}`).join(' ')}]`;
  }
  if (v instanceof GoStruct) {
    const stringer = v.methods.get('String');
    if (stringer !== undefined && stringer.signature.params.length === 0 && (verb === 'v' || verb === 's' || verb === 'q')) {
      const r = stringer.impl();
      return fmtString(typeof r === 'string' ? r : fmtValue(r, 'v', plain(), 0), verb, spec);
    }
    const parts = [...v.fields].map(([k, x]) => (spec.plusV ? `${k}:` : '') + fmtValue(x, verb, spec, depth + 1));
    return `{${parts.join(' ')}}`;
  }
  if (v instanceof GoFunc) return verb === 'v' ? '0xfunc' : badVerb(v, verb, spec);
  return badVerb(v, verb, spec);
}

function fmtString(s: string, verb: string, spec: Spec): string {
  switch (verb) {
    case 'v':
      if (spec.sharpV) return pad(goQuote(s), spec);
      return pad(truncate(s, spec.prec), spec);
    case 's':
      return pad(truncate(s, spec.prec), spec);
    case 'q':
      if (spec.sharp && canBackquote(s)) return pad('`' + s + '`', spec);
      return pad(spec.plus ? goQuoteASCII(truncate(s, spec.prec)) : goQuote(truncate(s, spec.prec)), spec);
    case 'x':
    case 'X': {
      let bytes = Buffer.from(s, 'utf8');
      if (spec.prec !== undefined) bytes = bytes.subarray(0, spec.prec);
      let hex = [...bytes].map((b) => b.toString(16).padStart(2, '0'));
      if (verb === 'X') hex = hex.map((h) => h.toUpperCase());
      const prefix = spec.sharp ? (verb === 'x' ? '0x' : '0X') : '';
      const sep = spec.space ? ' ' : '';
      const body = spec.space ? hex.map((h) => prefix + h).join(sep) : prefix + hex.join('');
      return pad(body, spec);
    }
    default:
      return badVerb(s, verb, spec);
  }
}

function truncate(s: string, prec: number | undefined): string {
  if (prec === undefined) return s;
  return [...s].slice(0, prec).join('');
}

function pad(s: string, spec: Spec, zeroOk = false): string {
  if (spec.width === undefined) return s;
  const len = [...s].length;
  if (len >= spec.width) return s;
  const fill = spec.width - len;
  if (spec.minus) return s + ' '.repeat(fill);
  if (spec.zero && zeroOk) {
    const sign = /^[+\- ]/.test(s) ? (s[0] ?? '') : '';
    return sign + '0'.repeat(fill) + s.slice(sign.length);
  }
  if (spec.zero && !zeroOk) return '0'.repeat(fill) + s;
  return ' '.repeat(fill) + s;
}

function fmtInt(v: GoInt, verb: string, spec: Spec): string {
  const n = v.value;
  const neg = n < 0;
  const abs = BigInt(Math.abs(n));
  let digits: string;
  let prefix = '';
  switch (verb) {
    case 'v':
    case 'd':
      digits = abs.toString(10);
      break;
    case 'b':
      digits = abs.toString(2);
      if (spec.sharp) prefix = '0b';
      break;
    case 'o':
    case 'O':
      digits = abs.toString(8);
      if (verb === 'O') prefix = '0o';
      else if (spec.sharp) prefix = '0';
      break;
    case 'x':
      digits = abs.toString(16);
      if (spec.sharp) prefix = '0x';
      break;
    case 'X':
      digits = abs.toString(16).toUpperCase();
      if (spec.sharp) prefix = '0X';
      break;
    case 'c':
      return pad(String.fromCodePoint(validRune(n)), spec);
    case 'q': {
      const r = validRune(n);
      return pad(quoteRune(r, spec.plus), spec);
    }
    case 'U': {
      // Go prints the rune as an unsigned 64-bit number.
      const hex = BigInt.asUintN(64, BigInt(n)).toString(16).toUpperCase().padStart(4, '0');
      let s = `U+${hex}`;
      if (spec.sharp && n >= 0 && n <= 0x10ffff) s += ` '${String.fromCodePoint(n)}'`;
      return pad(s, spec);
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G':
      return badVerb(v, verb, spec);
    default:
      return badVerb(v, verb, spec);
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && n === 0) digits = '';
    digits = digits.padStart(spec.prec, '0');
  } else if (spec.zero && spec.width !== undefined && !spec.minus) {
    const signLen = neg || spec.plus || spec.space ? 1 : 0;
    digits = digits.padStart(spec.width - signLen - prefix.length, '0');
  }
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  return pad(sign + prefix + digits, { ...spec, zero: false });
}

function validRune(n: number): number {
  return n < 0 || n > 0x10ffff || (n >= 0xd800 && n <= 0xdfff) ? 0xfffd : n;
}

function quoteRune(r: number, ascii: boolean): string {
  if (r === 0x27) return `'\\''`;
  if (r === 0x22) return `'"'`;
  return `'${escapeRune(r, 0x27, ascii)}'`;
}

/** Go's %v for a float64: strconv 'g' shortest, exponent when exp < -4 || exp >= 21. */
export function formatFloatV(f: number): string {
  return fmtFloatVerb(f, 'v', plain());
}

function fmtFloatVerb(f: number, verb: string, spec: Spec): string {
  let body: string;
  switch (verb) {
    case 'v':
      body = formatG(Math.abs(f), spec.prec ?? -1, true, spec.sharp);
      break;
    case 'g':
      body = formatG(Math.abs(f), spec.prec ?? -1, false, spec.sharp);
      break;
    case 'G':
      body = formatG(Math.abs(f), spec.prec ?? -1, false, spec.sharp).toUpperCase();
      break;
    case 'e':
    case 'E':
      body = formatE(Math.abs(f), spec.prec ?? 6);
      if (verb === 'E') body = body.toUpperCase();
      break;
    case 'f':
    case 'F':
      body = formatF(Math.abs(f), spec.prec ?? 6);
      break;
    case 'b':
      body = formatBinaryFloat(Math.abs(f));
      break;
    case 'x':
    case 'X':
      body = formatHexFloat(Math.abs(f), spec.prec);
      if (verb === 'X') body = body.toUpperCase();
      break;
    default:
      return badVerb(new GoFloat(f), verb, spec);
  }
  if (Number.isNaN(f)) body = 'NaN';
  else if (!Number.isFinite(f)) body = 'Inf';
  const neg = f < 0 || Object.is(f, -0);
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : '';
  if (Number.isNaN(f)) return pad((spec.plus ? '+' : spec.space ? ' ' : '') + 'NaN', { ...spec, zero: false });
  if (!Number.isFinite(f)) return pad(sign + 'Inf', { ...spec, zero: false });
  return pad(sign + body, spec, true);
}

/** Decimal digits (no trailing zeros) and decimal-point position of |f|, shortest or to `prec` significant digits. */
function decimalDigits(f: number, prec: number): { digits: string; dp: number } {
  if (f === 0) return { digits: '', dp: 0 };
  if (prec < 0) {
    const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(f.toExponential());
    if (!m) return { digits: '0', dp: 1 };
    return { digits: ((m[1] ?? '') + (m[2] ?? '')).replace(/0+$/, ''), dp: Number(m[3]) + 1 };
  }
  // Exact decimal expansion of the double, rounded half-to-even like Go's strconv.
  const { digits: all, dp } = exactDecimal(f);
  const nd = Math.max(prec, 1);
  if (all.length <= nd) return { digits: all.replace(/0+$/, ''), dp };
  let head = all.slice(0, nd);
  const next = all.charCodeAt(nd) - 48;
  const restNonZero = /[1-9]/.test(all.slice(nd + 1));
  const lastEven = (head.charCodeAt(nd - 1) - 48) % 2 === 0;
  const up = next > 5 || (next === 5 && (restNonZero || !lastEven));
  let d = dp;
  if (up) {
    const inc = (BigInt(head) + 1n).toString();
    if (inc.length > head.length) {
      d += 1;
      head = inc.slice(0, nd);
    } else head = inc;
  }
  return { digits: head.replace(/0+$/, ''), dp: d };
}

/** All significant decimal digits of |f| and the decimal point position. */
function exactDecimal(f: number): { digits: string; dp: number } {
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, Math.abs(f));
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e2: number;
  if (expBits === 0) e2 = -1074;
  else {
    mant |= 1n << 52n;
    e2 = expBits - 1075;
  }
  let digits: string;
  let dp: number;
  if (e2 >= 0) {
    digits = (mant << BigInt(e2)).toString();
    dp = digits.length;
  } else {
    // mant / 2^-e2 = mant * 5^-e2 / 10^-e2
    const scaled = mant * 5n ** BigInt(-e2);
    digits = scaled.toString();
    dp = digits.length - -e2;
  }
  const stripped = digits.replace(/^0+/, '');
  dp -= digits.length - stripped.length;
  return { digits: stripped.replace(/0+$/, ''), dp };
}

function formatG(f: number, prec: number, isV: boolean, sharp: boolean): string {
  if (!Number.isFinite(f)) return '';
  const shortest = prec < 0;
  let p = prec === 0 ? 1 : prec;
  const { digits, dp } = decimalDigits(f, shortest ? -1 : p);
  const nd = digits.length;
  if (shortest) p = nd;
  let eprec = p;
  if (eprec > nd && nd >= dp) eprec = nd;
  if (shortest) eprec = 6;
  if (sharp) eprec = shortest ? 6 : prec === 0 ? 1 : prec;
  const exp = dp - 1;
  if (f !== 0 && (exp < -4 || exp >= eprec)) {
    let pp = p;
    if (pp > nd && !sharp) pp = nd;
    return expForm(digits, exp, Math.max(pp - 1, 0), sharp);
  }
  let pp = p;
  if (pp > dp && !sharp) pp = nd;
  if (f === 0) return sharp ? '0.' + '0'.repeat(Math.max(p - 1, 0)) : '0';
  return fixedForm(digits, dp, Math.max(pp - dp, 0), sharp);
}

function expForm(digits: string, exp: number, fracDigits: number, sharp = false): string {
  const d = digits === '' ? '0' : digits;
  const first = d[0] ?? '0';
  const frac = d.slice(1).padEnd(fracDigits, '0').slice(0, fracDigits);
  const e = exp < 0 ? '-' + String(-exp).padStart(2, '0') : '+' + String(exp).padStart(2, '0');
  return first + (frac.length > 0 || sharp ? '.' + frac : '') + 'e' + e;
}

function fixedForm(digits: string, dp: number, fracDigits: number, sharp = false): string {
  let intPart: string;
  let fracPart: string;
  if (dp <= 0) {
    intPart = '0';
    fracPart = '0'.repeat(-dp) + digits;
  } else {
    intPart = digits.slice(0, dp).padEnd(dp, '0');
    fracPart = digits.slice(dp);
  }
  fracPart = fracPart.padEnd(fracDigits, '0').slice(0, fracDigits);
  return intPart + (fracPart.length > 0 || sharp ? '.' + fracPart : '');
}

/** strconv's 'b' format: mantissa p binary exponent (4503599627370496p-52 for 1). */
function formatBinaryFloat(f: number): string {
  if (!Number.isFinite(f)) return '';
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, f);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  const expBits = (hi >>> 20) & 0x7ff;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  let e = expBits - 1075;
  if (expBits === 0) e = -1074;
  else mant |= 1n << 52n;
  return `${mant}p${e < 0 ? '-' : '+'}${Math.abs(e)}`;
}

/** strconv's 'x' format: 0x1.8p+00. */
function formatHexFloat(f: number, prec: number | undefined): string {
  if (!Number.isFinite(f)) return '';
  if (f === 0) return '0x0' + (prec !== undefined && prec > 0 ? '.' + '0'.repeat(prec) : '') + 'p+00';
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, f);
  const hi = buf.getUint32(0);
  const lo = buf.getUint32(4);
  let e = ((hi >>> 20) & 0x7ff) - 1023;
  let mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(lo);
  if (e === -1023) {
    // Subnormal: normalize.
    e = -1022;
    while ((mant & (1n << 52n)) === 0n) {
      mant <<= 1n;
      e--;
    }
    mant &= (1n << 52n) - 1n;
  }
  let frac = mant.toString(16).padStart(13, '0');
  if (prec === undefined) frac = frac.replace(/0+$/, '');
  else if (prec < 13) {
    const keep = BigInt('0x1' + frac) ;
    const shift = BigInt((13 - prec) * 4);
    const half = 1n << (shift - 1n);
    let q = keep >> shift;
    const r = keep & ((1n << shift) - 1n);
    if (r > half || (r === half && (q & 1n) === 1n)) q += 1n;
    let s = q.toString(16);
    if (s.length > prec + 1) {
      e++;
      s = s.slice(0, prec + 1);
    }
    frac = s.slice(1);
  } else frac = frac.padEnd(prec, '0');
  const exp = e < 0 ? '-' + String(-e).padStart(2, '0') : '+' + String(e).padStart(2, '0');
  return '0x1' + (frac ? '.' + frac : '') + 'p' + exp;
}

function formatE(f: number, prec: number): string {
  if (!Number.isFinite(f)) return '';
  if (f === 0) return expForm('0', 0, prec);
  const { digits, dp } = decimalDigits(f, prec + 1);
  return expForm(digits, dp - 1, prec);
}

function formatF(f: number, prec: number): string {
  if (!Number.isFinite(f)) return '';
  if (f === 0) return fixedForm('', 1, prec);
  const { dp: dp0 } = exactDecimal(f);
  const sig = dp0 + prec;
  if (sig <= 0) {
    // Rounds to zero or to one unit in the last place.
    const { digits: all } = exactDecimal(f);
    const half = sig === 0 && (all.charCodeAt(0) - 48 > 5 || (all[0] === '5' && /[1-9]/.test(all.slice(1))));
    return half ? fixedForm('1', -prec + 1, prec) : fixedForm('', 1, prec);
  }
  const { digits, dp } = decimalDigits(f, sig);
  return fixedForm(digits, dp, prec);
}

/** Go's `strconv.Quote`. */
export function goQuote(s: string): string {
  return '"' + escapeString(s, 0x22, false) + '"';
}

function goQuoteASCII(s: string): string {
  return '"' + escapeString(s, 0x22, true) + '"';
}

function canBackquote(s: string): boolean {
  for (const ch of s) {
    const c = ch.codePointAt(0) ?? 0;
    if (ch === '`' || ch === '\ufeff') return false;
    if (c < 0x20 && ch !== '\t') return false;
    if (c === 0x7f) return false;
  }
  return true;
}

function escapeString(s: string, quote: number, ascii: boolean): string {
  let out = '';
  for (const ch of s) out += escapeRune(ch.codePointAt(0) ?? 0, quote, ascii);
  return out;
}

function escapeRune(r: number, quote: number, ascii: boolean): string {
  if (r === quote || r === 0x5c) return '\\' + String.fromCodePoint(r);
  if (ascii ? r < 0x7f && r >= 0x20 : isPrint(r)) return String.fromCodePoint(r);
  switch (r) {
    case 0x07:
      return '\\a';
    case 0x08:
      return '\\b';
    case 0x0c:
      return '\\f';
    case 0x0a:
      return '\\n';
    case 0x0d:
      return '\\r';
    case 0x09:
      return '\\t';
    case 0x0b:
      return '\\v';
  }
  if (r < 0x20 || r === 0x7f) return '\\x' + r.toString(16).padStart(2, '0');
  if (r === 0xfffd) return ascii ? '\\ufffd' : '\ufffd';
  if (r < 0x10000) return '\\u' + r.toString(16).padStart(4, '0');
  return '\\U' + r.toString(16).padStart(8, '0');
}

const PRINT = /^[\p{L}\p{M}\p{N}\p{P}\p{S}]$/u;
function isPrint(r: number): boolean {
  if (r === 0x20) return true;
  if (r < 0x20 || r === 0x7f) return false;
  if (r < 0x7f) return true;
  if (r >= 0xd800 && r <= 0xdfff) return false;
  return PRINT.test(String.fromCodePoint(r));
}
