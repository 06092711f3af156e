/**
 * Dockerfile variable expansion (`$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:+alt}`, `${VAR+alt}`), as BuildKit applies it to instruction arguments.
 *
 * Decision: quotes and escapes are kept verbatim (BuildKit removes them while expanding a word). The
 * result feeds a digest, where only determinism and sensitivity to values matter: `'$A'` (single
 * quotes) and `\$A` (escaped) are not expanded, exactly as BuildKit decides.
 */

/** Looks a variable up: its value, or `undefined` when it is not set. */
export type VariableLookup = (name: string) => string | undefined;

const NAME_START = /[A-Za-z_]/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/** Finds the `}` closing a `${` whose content starts at `start`, honouring nesting. */
function closingBrace(text: string, start: number): number {
  let depth = 1;
  for (let index = start; index < text.length; index += 1) {
    const char = text[index];
    if (char === '\\') index += 1;
    else if (char === '$' && text[index + 1] === '{') {
      depth += 1;
      index += 1;
    } else if (char === '}') {
      depth -= 1;
      if (depth === 0) return index;
    }
  }
  return -1;
}

function expandBraced(body: string, lookup: VariableLookup, escape: string): string {
  const options = { escape };
  let nameEnd = 0;
  while (nameEnd < body.length && NAME_CHAR.test(body[nameEnd] ?? '')) nameEnd += 1;
  const name = body.slice(0, nameEnd);
  const rest = body.slice(nameEnd);
  const value = lookup(name);
  const modifier = /^(:?[-+?])([\s\S]*)$/.exec(rest);
  if (!modifier) return value ?? '';
  const [, operator = '', word = ''] = modifier;
  const colon = operator.startsWith(':');
  const isSet = colon ? value !== undefined && value !== '' : value !== undefined;
  switch (operator.slice(-1)) {
    case '-':
      return isSet ? (value ?? '') : expandVariables(word, lookup, options);
    case '+':
      return isSet ? expandVariables(word, lookup, options) : '';
    default:
      return value ?? '';
  }
}

export interface ExpandOptions {
  /** The Dockerfile's escape character (`# escape=` directive). @default "\\" */
  escape?: string | undefined;
}

/** Expands variables in `text` with `lookup`; unknown variables expand to `""`. */
export function expandVariables(text: string, lookup: VariableLookup, options: ExpandOptions = {}): string {
  const escape = options.escape ?? '\\';
  let out = '';
  let inSingle = false;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] ?? '';
    if (char === escape && !inSingle && index + 1 < text.length) {
      out += char + (text[index + 1] ?? '');
      index += 1;
      continue;
    }
    if (char === "'") inSingle = !inSingle;
    if (char !== '$' || inSingle) {
      out += char;
      continue;
    }
    const next = text[index + 1] ?? '';
    if (next === '{') {
      const end = closingBrace(text, index + 2);
      if (end === -1) {
        out += text.slice(index);
        break;
      }
      out += expandBraced(text.slice(index + 2, end), lookup, escape);
      index = end;
    } else if (NAME_START.test(next)) {
      let end = index + 1;
      while (end < text.length && NAME_CHAR.test(text[end] ?? '')) end += 1;
      out += lookup(text.slice(index + 1, end)) ?? '';
      index = end - 1;
    } else {
      out += char;
    }
  }
  return out;
}
