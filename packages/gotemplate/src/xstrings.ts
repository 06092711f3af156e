/**
 * huandu/xstrings' case conversions as sprig uses them (`snakecase`, `kebabcase`, `camelcase`):
 * words are runs of connectors, punctuation, upper-case letters, letters, numbers or other runes.
 */

const isSpace = (c: string): boolean => /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]$/u.test(c);
const isConnector = (c: string): boolean => c === '-' || c === '_' || isSpace(c);
const isPunct = (c: string): boolean => /^\p{P}$/u.test(c);
const isUpper = (c: string): boolean => /^\p{Lu}$/u.test(c);
const isNumber = (c: string): boolean => /^\p{N}$/u.test(c);
/** Letters except CJK ideographs (xstrings' `isAlphabet`). */
const isAlphabet = (c: string): boolean => /^\p{L}$/u.test(c) && !/^[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u{20000}-\u{2fa1f}]$/u.test(c);

type WordType = 'number' | 'upper' | 'alphabet' | 'connector' | 'punct' | 'other';

/** Splits the next word off `rs` starting at `i`; returns its type and end index. */
function nextWord(rs: string[], i: number): { wt: WordType; end: number } {
  const r = rs[i] ?? '';
  let j = i + 1;
  const n = rs.length;
  if (isConnector(r)) {
    while (j < n && isConnector(rs[j] ?? '')) j++;
    return { wt: 'connector', end: j };
  }
  if (isPunct(r)) {
    while (j < n && isPunct(rs[j] ?? '')) j++;
    return { wt: 'punct', end: j };
  }
  if (isUpper(r)) {
    if (j >= n) return { wt: 'upper', end: j };
    const r1 = rs[j] ?? '';
    if (isUpper(r1)) {
      j++;
      while (j < n && isUpper(rs[j] ?? '')) j++;
      // "HTTPServer": the last upper-case letter starts the next word.
      if (j < n && isAlphabet(rs[j] ?? '')) j--;
    } else if (isAlphabet(r1)) {
      j++;
      while (j < n && isAlphabet(rs[j] ?? '') && !isUpper(rs[j] ?? '')) j++;
    }
    return { wt: 'upper', end: j };
  }
  if (isAlphabet(r)) {
    while (j < n && isAlphabet(rs[j] ?? '') && !isUpper(rs[j] ?? '')) j++;
    return { wt: 'alphabet', end: j };
  }
  if (isNumber(r)) {
    while (j < n && isNumber(rs[j] ?? '')) j++;
    return { wt: 'number', end: j };
  }
  while (j < n) {
    const c = rs[j] ?? '';
    if (isConnector(c) || isAlphabet(c) || isNumber(c) || isPunct(c)) break;
    j++;
  }
  return { wt: 'other', end: j };
}

function lowerWord(wt: WordType, word: string[], connector: string): string {
  if (wt !== 'upper' && wt !== 'connector') return word.join('');
  return word.map((c) => (isConnector(c) ? connector : isUpper(c) ? single(c.toLowerCase(), c) : c)).join('');
}

function single(mapped: string, orig: string): string {
  return [...mapped].length === 1 ? mapped : orig;
}

/** xstrings.ToSnakeCase / ToKebabCase. */
export function camelCaseToLowerCase(str: string, connector: string): string {
  const rs = [...str];
  if (rs.length === 0) return '';
  let out = '';
  let pos = 0;
  const take = (): { wt: WordType; word: string[] } | undefined => {
    if (pos >= rs.length) return undefined;
    const { wt, end } = nextWord(rs, pos);
    const word = rs.slice(pos, end);
    pos = end;
    return { wt, word };
  };
  let cur = take();
  while (cur !== undefined && pos < rs.length) {
    if (cur.wt !== 'connector') out += lowerWord(cur.wt, cur.word, connector);
    const prev = cur;
    cur = take();
    if (cur === undefined) break;
    switch (prev.wt) {
      case 'number': {
        while (cur !== undefined && (cur.wt === 'alphabet' || cur.wt === 'number')) {
          out += lowerWord(cur.wt, cur.word, connector);
          cur = take();
        }
        if (cur !== undefined && cur.wt !== 'punct' && cur.wt !== 'connector') out += connector;
        break;
      }
      case 'connector':
        out += lowerWord(prev.wt, prev.word, connector);
        break;
      case 'punct':
        break;
      default: {
        if (cur.wt !== 'number') {
          if (cur.wt !== 'connector' && cur.wt !== 'punct') out += connector;
          break;
        }
        if (pos >= rs.length) break;
        const last = cur;
        cur = take();
        if (cur === undefined) break;
        if (cur.wt !== 'alphabet') {
          out += lowerWord('number', last.word, connector);
          if (cur.wt !== 'connector' && cur.wt !== 'punct') out += connector;
          break;
        }
        out += connector;
        out += lowerWord('number', last.word, connector);
        while (cur !== undefined && (cur.wt === 'alphabet' || cur.wt === 'number')) {
          out += lowerWord(cur.wt, cur.word, connector);
          cur = take();
        }
        if (cur !== undefined && cur.wt !== 'connector' && cur.wt !== 'punct') out += connector;
      }
    }
  }
  if (cur !== undefined) out += lowerWord(cur.wt, cur.word, connector);
  return out;
}

/** xstrings.ToCamelCase. */
export function toCamelCase(str: string): string {
  const rs = [...str];
  if (rs.length === 0) return '';
  let out = '';
  let i = 0;
  let r0 = '';
  for (; i < rs.length; ) {
    r0 = rs[i++] ?? '';
    if (!isConnector(r0)) {
      r0 = single(r0.toUpperCase(), r0);
      break;
    }
    out += r0;
  }
  // Go writes the last rune again when the input is all connectors ("__" → "___").
  if (i >= rs.length) return out + r0;
  while (i < rs.length) {
    const r1 = r0;
    r0 = rs[i++] ?? '';
    if (isConnector(r0) && isConnector(r1)) {
      out += r1;
      continue;
    }
    if (isConnector(r1)) r0 = single(r0.toUpperCase(), r0);
    else {
      r0 = single(r0.toLowerCase(), r0);
      out += r1;
    }
  }
  return out + r0;
}
