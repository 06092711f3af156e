/** Lexer for Go template text: the same tokens, trim markers and lexical errors as Go's `text/template/parse`. */

export type ItemType =
  | 'error'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'comment'
  | 'assign'
  | 'declare'
  | 'eof'
  | 'field'
  | 'identifier'
  | 'leftDelim'
  | 'leftParen'
  | 'number'
  | 'pipe'
  | 'rawString'
  | 'rightDelim'
  | 'rightParen'
  | 'space'
  | 'string'
  | 'text'
  | 'variable'
  | 'block'
  | 'break'
  | 'continue'
  | 'dot'
  | 'define'
  | 'else'
  | 'end'
  | 'if'
  | 'nil'
  | 'range'
  | 'template'
  | 'with';

export interface Item {
  type: ItemType;
  /** Offset of the item in the input (UTF-16 index). */
  pos: number;
  val: string;
  /** 1-based line of the item's start. */
  line: number;
}

const KEYWORDS: Record<string, ItemType> = {
  '.': 'dot',
  block: 'block',
  break: 'break',
  continue: 'continue',
  define: 'define',
  else: 'else',
  end: 'end',
  if: 'if',
  range: 'range',
  nil: 'nil',
  template: 'template',
  with: 'with',
};

const isSpace = (c: string | undefined): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isAlnum = (c: string | undefined): boolean => c !== undefined && (c === '_' || /^[\p{L}\p{Nd}]$/u.test(c));

/** Go's `%#U` of a character, used in lexical error messages. */
function sharpU(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = cp.toString(16).toUpperCase().padStart(4, '0');
  return /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u.test(ch) ? `U+${hex} '${ch}'` : `U+${hex}`;
}

/**
 * Lexes the whole input. The last item is `eof` or `error` (Go's lexer stops at the first error,
 * and the parser reports it when it reaches it).
 */
export function lex(input: string, leftDelim = '{{', rightDelim = '}}'): Item[] {
  const items: Item[] = [];
  let pos = 0;
  let start = 0;
  let line = 1;
  let startLine = 1;
  let parenDepth = 0;
  const n = input.length;

  const emit = (type: ItemType): void => {
    items.push({ type, pos: start, val: input.slice(start, pos), line: startLine });
    start = pos;
    startLine = line;
  };
  // Lines are counted as the position advances (advance, lexText), never again here.
  const ignore = (): void => {
    start = pos;
    startLine = line;
  };
  const advance = (k: number): void => {
    line += countNewlines(input.slice(pos, pos + k));
    pos += k;
  };
  const errorf = (msg: string): false => {
    items.push({ type: 'error', pos: start, val: msg, line: startLine });
    return false;
  };
  const atRightDelim = (): { delim: boolean; trim: boolean } => {
    if (isSpace(input[pos]) && input[pos + 1] === '-' && input.startsWith(rightDelim, pos + 2)) return { delim: true, trim: true };
    if (input.startsWith(rightDelim, pos)) return { delim: true, trim: false };
    return { delim: false, trim: false };
  };

  // Returns false when lexing must stop (error or EOF).
  const lexText = (): 'action' | 'eof' => {
    const x = input.indexOf(leftDelim, pos);
    if (x >= 0) {
      let textEnd = x;
      const trim = input[x + leftDelim.length] === '-' && isSpace(input[x + leftDelim.length + 1]);
      if (trim) {
        while (textEnd > pos && isSpace(input[textEnd - 1])) textEnd--;
      }
      // Text up to the delimiter (trimmed), then skip the trimmed space.
      const lineBefore = line;
      line += countNewlines(input.slice(pos, x));
      pos = textEnd;
      if (pos > start) {
        items.push({ type: 'text', pos: start, val: input.slice(start, pos), line: startLine });
      }
      pos = x;
      start = pos;
      startLine = line;
      void lineBefore;
      return 'action';
    }
    pos = n;
    line += countNewlines(input.slice(start, pos));
    if (pos > start) items.push({ type: 'text', pos: start, val: input.slice(start, pos), line: startLine });
    start = pos;
    startLine = line;
    items.push({ type: 'eof', pos, val: '', line });
    return 'eof';
  };

  // At a left delimiter. Returns false to stop.
  const lexLeftDelim = (): boolean => {
    pos += leftDelim.length;
    const trim = input[pos] === '-' && isSpace(input[pos + 1]);
    let afterMarker = 0;
    if (trim) afterMarker = 2;
    if (input.startsWith('/*', pos + afterMarker)) {
      advance(afterMarker);
      ignore();
      return lexComment();
    }
    emit('leftDelim');
    advance(afterMarker);
    ignore();
    parenDepth = 0;
    return lexInsideAction();
  };

  const lexComment = (): boolean => {
    pos += 2;
    const x = input.indexOf('*/', pos);
    if (x < 0) return errorf('unclosed comment');
    advance(x + 2 - pos);
    const { delim, trim } = atRightDelim();
    if (!delim) return errorf('comment ends before closing delimiter');
    // Comments are dropped (Go keeps them only with ParseComments).
    if (trim) advance(2);
    advance(rightDelim.length);
    if (trim) {
      while (isSpace(input[pos])) advance(1);
    }
    ignore();
    return true;
  };

  const lexRightDelim = (trim: boolean): void => {
    if (trim) {
      advance(2);
      ignore();
    }
    pos += rightDelim.length;
    emit('rightDelim');
    if (trim) {
      while (isSpace(input[pos])) advance(1);
      ignore();
    }
  };

  const lexInsideAction = (): boolean => {
    for (;;) {
      const { delim, trim } = atRightDelim();
      if (delim) {
        if (parenDepth === 0) {
          lexRightDelim(trim);
          return true;
        }
        return errorf('unclosed left paren');
      }
      const c = input[pos];
      if (c === undefined) return errorf('unclosed action');
      if (isSpace(c)) {
        // Spaces; a trim marker before the right delimiter is handled above.
        while (isSpace(input[pos])) {
          if (input[pos + 1] === '-' && input.startsWith(rightDelim, pos + 2)) break;
          advance(1);
        }
        if (pos === start) advance(1);
        emit('space');
        continue;
      }
      if (c === '=') {
        pos++;
        emit('assign');
        continue;
      }
      if (c === ':') {
        if (input[pos + 1] !== '=') {
          pos++;
          return errorf('expected :=');
        }
        pos += 2;
        emit('declare');
        continue;
      }
      if (c === '|') {
        pos++;
        emit('pipe');
        continue;
      }
      if (c === '"') {
        pos++;
        for (;;) {
          const d = input[pos];
          if (d === '\\') {
            pos++;
            const e = input[pos];
            if (e === undefined || e === '\n') return errorf('unterminated quoted string');
            pos++;
            continue;
          }
          if (d === undefined || d === '\n') return errorf('unterminated quoted string');
          pos++;
          if (d === '"') break;
        }
        emit('string');
        continue;
      }
      if (c === '`') {
        const x = input.indexOf('`', pos + 1);
        if (x < 0) return errorf('unterminated raw quoted string');
        advance(x + 1 - pos);
        emit('rawString');
        continue;
      }
      if (c === '$') {
        pos++;
        while (isAlnum(input[pos])) pos++;
        if (!checkTerminator()) return false;
        emit('variable');
        continue;
      }
      if (c === "'") {
        pos++;
        for (;;) {
          const d = input[pos];
          if (d === '\\') {
            pos++;
            const e = input[pos];
            if (e === undefined || e === '\n') return errorf('unterminated character constant');
            pos++;
            continue;
          }
          if (d === undefined || d === '\n') return errorf('unterminated character constant');
          pos++;
          if (d === "'") break;
        }
        emit('charConstant');
        continue;
      }
      if (c === '.') {
        if (pos + 1 < n && /[0-9]/.test(input[pos + 1] ?? '')) {
          if (!lexNumber()) return false;
          continue;
        }
        pos++;
        while (isAlnum(input[pos])) pos++;
        if (pos - start === 1) {
          if (!checkTerminator()) return false;
          emit('dot');
        } else {
          if (!checkTerminator()) return false;
          emit('field');
        }
        continue;
      }
      if (c === '+' || c === '-' || /[0-9]/.test(c)) {
        if (!lexNumber()) return false;
        continue;
      }
      if (isAlnum(c)) {
        while (isAlnum(input[pos])) pos++;
        const word = input.slice(start, pos);
        if (!checkTerminator()) return false;
        const kw = Object.hasOwn(KEYWORDS, word) ? KEYWORDS[word] : undefined;
        if (kw !== undefined && word !== '.') emit(kw);
        else if (word === 'true' || word === 'false') emit('bool');
        else emit('identifier');
        continue;
      }
      if (c === '(') {
        pos++;
        emit('leftParen');
        parenDepth++;
        continue;
      }
      if (c === ')') {
        pos++;
        parenDepth--;
        if (parenDepth < 0) return errorf('unexpected right paren');
        emit('rightParen');
        continue;
      }
      const cp = input.codePointAt(pos) ?? 0;
      const ch = String.fromCodePoint(cp);
      if (cp <= 0x7f && cp >= 0x20 && cp !== 0x7f) {
        pos += ch.length;
        emit('char');
        continue;
      }
      pos += ch.length;
      return errorf(`unrecognized character in action: ${sharpU(ch)}`);
    }
  };

  const checkTerminator = (): boolean => {
    const c = input[pos];
    if (c === undefined || isSpace(c)) return true;
    if ('.,|:()'.includes(c)) return true;
    if (input.startsWith(rightDelim, pos)) return true;
    const cp = input.codePointAt(pos) ?? 0;
    return errorf(`bad character ${sharpU(String.fromCodePoint(cp))}`);
  };

  const lexNumber = (): boolean => {
    // Go's scanNumber: optional sign, base prefix, digits with underscores, fraction, exponent, 'i'.
    let p = pos;
    if (input[p] === '+' || input[p] === '-') p++;
    let digits = '0123456789_';
    if (input[p] === '0' && /[xXoObB]/.test(input[p + 1] ?? '')) {
      const b = (input[p + 1] ?? '').toLowerCase();
      p += 2;
      digits = b === 'x' ? '0123456789abcdefABCDEF_' : b === 'o' ? '01234567_' : '01_';
    }
    while (p < n && digits.includes(input[p] ?? '')) p++;
    if (input[p] === '.') {
      p++;
      while (p < n && digits.includes(input[p] ?? '')) p++;
    }
    if (digits.length === 10 + 1 && /[eE]/.test(input[p] ?? '')) {
      p++;
      if (input[p] === '+' || input[p] === '-') p++;
      while (p < n && '0123456789_'.includes(input[p] ?? '')) p++;
    }
    if (digits.length > 20 && /[pP]/.test(input[p] ?? '')) {
      p++;
      if (input[p] === '+' || input[p] === '-') p++;
      while (p < n && '0123456789_'.includes(input[p] ?? '')) p++;
    }
    if (input[p] === 'i') p++;
    if (isAlnum(input[p])) {
      pos = p + 1;
      return errorf(`bad number syntax: "${input.slice(start, pos)}"`);
    }
    pos = p;
    emit('number');
    return true;
  };

  for (;;) {
    if (lexText() === 'eof') return items;
    if (!lexLeftDelim()) return items;
  }
}

function countNewlines(s: string): number {
  let c = 0;
  for (let i = s.indexOf('\n'); i >= 0; i = s.indexOf('\n', i + 1)) c++;
  return c;
}
