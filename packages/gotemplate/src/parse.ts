/**
 * Parser for Go templates: builds the same tree as Go's `text/template/parse` (node kinds,
 * positions, `String()` forms used in error context) and reports the same parse errors.
 */
import { type Item, type ItemType, lex } from './lex.js';
import { goQuote } from './format.js';

/** Source of a parse tree: the name errors print and the text positions refer to. */
export interface TreeSource {
  /** Name of the template file the text came from (Go's `ParseName`). */
  readonly parseName: string;
  readonly text: string;
}

abstract class BaseNode {
  constructor(
    readonly pos: number,
    readonly src: TreeSource,
  ) {}
  abstract toString(): string;
}

export class TextNode extends BaseNode {
  readonly kind = 'text';
  constructor(pos: number, src: TreeSource, readonly text: string) {
    super(pos, src);
  }
  toString(): string {
    return goQuote(this.text).replace(/^"(.*)"$/s, '$1').length > 0 ? `${goQuote(this.text)}` : '""';
  }
}

export class ListNode extends BaseNode {
  readonly kind = 'list';
  readonly nodes: Node[] = [];
  toString(): string {
    return this.nodes.map((n) => n.toString()).join('');
  }
}

export class ActionNode extends BaseNode {
  readonly kind = 'action';
  constructor(pos: number, src: TreeSource, readonly line: number, readonly pipe: PipeNode) {
    super(pos, src);
  }
  toString(): string {
    return `{{${this.pipe.toString()}}}`;
  }
}

export class BreakNode extends BaseNode {
  readonly kind = 'break';
  toString(): string {
    return '{{break}}';
  }
}

export class ContinueNode extends BaseNode {
  readonly kind = 'continue';
  toString(): string {
    return '{{continue}}';
  }
}

export class BranchNode extends BaseNode {
  constructor(
    pos: number,
    src: TreeSource,
    readonly kind: 'if' | 'range' | 'with',
    readonly pipe: PipeNode,
    readonly list: ListNode,
    readonly elseList: ListNode | undefined,
  ) {
    super(pos, src);
  }
  toString(): string {
    const e = this.elseList ? `{{else}}${this.elseList.toString()}` : '';
    return `{{${this.kind} ${this.pipe.toString()}}}${this.list.toString()}${e}{{end}}`;
  }
}

export class TemplateNode extends BaseNode {
  readonly kind = 'template';
  constructor(pos: number, src: TreeSource, readonly line: number, readonly name: string, readonly pipe: PipeNode | undefined) {
    super(pos, src);
  }
  toString(): string {
    return this.pipe ? `{{template ${goQuote(this.name)} ${this.pipe.toString()}}}` : `{{template ${goQuote(this.name)}}}`;
  }
}

export class PipeNode extends BaseNode {
  readonly kind = 'pipe';
  isAssign = false;
  readonly decl: VariableNode[] = [];
  readonly cmds: CommandNode[] = [];
  constructor(pos: number, src: TreeSource, readonly line: number) {
    super(pos, src);
  }
  toString(): string {
    let s = '';
    if (this.decl.length > 0) s = this.decl.map((d) => d.toString()).join(', ') + (this.isAssign ? ' = ' : ' := ');
    return s + this.cmds.map((c) => c.toString()).join(' | ');
  }
}

export class CommandNode extends BaseNode {
  readonly kind = 'command';
  readonly args: ArgNode[] = [];
  toString(): string {
    return this.args.map((a) => (a instanceof PipeNode ? `(${a.toString()})` : a.toString())).join(' ');
  }
}

export class IdentifierNode extends BaseNode {
  readonly kind = 'identifier';
  constructor(pos: number, src: TreeSource, readonly ident: string) {
    super(pos, src);
  }
  toString(): string {
    return this.ident;
  }
}

export class VariableNode extends BaseNode {
  readonly kind = 'variable';
  constructor(pos: number, src: TreeSource, readonly ident: string[]) {
    super(pos, src);
  }
  toString(): string {
    return this.ident.join('.');
  }
}

export class DotNode extends BaseNode {
  readonly kind = 'dot';
  toString(): string {
    return '.';
  }
}

export class NilNode extends BaseNode {
  readonly kind = 'nil';
  toString(): string {
    return 'nil';
  }
}

export class FieldNode extends BaseNode {
  readonly kind = 'field';
  constructor(pos: number, src: TreeSource, readonly ident: string[]) {
    super(pos, src);
  }
  toString(): string {
    return this.ident.map((i) => '.' + i).join('');
  }
}

export class ChainNode extends BaseNode {
  readonly kind = 'chain';
  readonly fields: string[] = [];
  constructor(pos: number, src: TreeSource, readonly node: ArgNode) {
    super(pos, src);
  }
  toString(): string {
    const inner = this.node instanceof PipeNode ? `(${this.node.toString()})` : this.node.toString();
    return inner + this.fields.map((f) => '.' + f).join('');
  }
}

export class BoolNode extends BaseNode {
  readonly kind = 'bool';
  constructor(pos: number, src: TreeSource, readonly value: boolean) {
    super(pos, src);
  }
  toString(): string {
    return this.value ? 'true' : 'false';
  }
}

export class NumberNode extends BaseNode {
  readonly kind = 'number';
  isInt = false;
  isUint = false;
  isFloat = false;
  int = 0;
  float = 0;
  constructor(pos: number, src: TreeSource, readonly text: string) {
    super(pos, src);
  }
  toString(): string {
    return this.text;
  }
}

export class StringNode extends BaseNode {
  readonly kind = 'string';
  constructor(pos: number, src: TreeSource, readonly quoted: string, readonly text: string) {
    super(pos, src);
  }
  toString(): string {
    return this.quoted;
  }
}

export type ArgNode =
  | IdentifierNode
  | VariableNode
  | DotNode
  | NilNode
  | FieldNode
  | ChainNode
  | BoolNode
  | NumberNode
  | StringNode
  | PipeNode;

export type Node = TextNode | ListNode | ActionNode | BreakNode | ContinueNode | BranchNode | TemplateNode;

/** A parsed template body. */
export interface Tree {
  readonly name: string;
  readonly root: ListNode;
  readonly src: TreeSource;
}

/** Raised by the parser; `message` is Go's (`template: NAME:LINE: …`). */
export class ParseFailure extends Error {
  constructor(
    message: string,
    readonly parseName: string,
    readonly line: number,
    readonly pos: number,
  ) {
    super(message);
  }
}

export interface ParseOptions {
  /** Names of the functions the template may call (Go checks them at parse time). */
  readonly hasFunction: (name: string) => boolean;
  readonly leftDelim?: string | undefined;
  readonly rightDelim?: string | undefined;
}

/** Whether a tree has no content besides whitespace text (Go's `IsEmptyTree`). */
export function isEmptyTree(list: ListNode): boolean {
  return list.nodes.every((n) => n instanceof TextNode && n.text.trim() === '');
}

class EndMarker {
  constructor(readonly pos: number) {}
  toString(): string {
    return '{{end}}';
  }
}
class ElseMarker {
  constructor(readonly pos: number, readonly line: number) {}
  toString(): string {
    return '{{else}}';
  }
}

/**
 * Parses `text` (the template file `name`) into its top-level tree and every `define`/`block`
 * tree it contains, keyed by template name. Throws {@link ParseFailure}.
 */
export function parse(name: string, text: string, options: ParseOptions): Map<string, Tree> {
  const items = lex(text, options.leftDelim ?? '{{', options.rightDelim ?? '}}');
  const src: TreeSource = { parseName: name, text };
  const treeSet = new Map<string, Tree>();
  let i = 0;
  let furthest = 0;
  let actionLine = 0;
  let vars: string[] = ['$'];
  let rangeDepth = 0;

  const fetch = (k: number): Item => {
    if (k > furthest) furthest = k;
    return items[Math.min(k, items.length - 1)] ?? { type: 'eof', pos: text.length, val: '', line: 1 };
  };
  const next = (): Item => fetch(i++);
  const peek = (): Item => fetch(i);
  const backup = (k = 1): void => {
    i -= k;
  };
  const nextNonSpace = (): Item => {
    let t = next();
    while (t.type === 'space') t = next();
    return t;
  };
  const peekNonSpace = (): Item => {
    const t = nextNonSpace();
    backup();
    return t;
  };
  const errorf = (msg: string): never => {
    const tok = fetch(furthest);
    throw new ParseFailure(`template: ${name}:${tok.line}: ${msg}`, name, tok.line, tok.pos);
  };
  const itemString = (t: Item): string => {
    if (t.type === 'eof') return 'EOF';
    if (t.type === 'error') return t.val;
    if (isKeyword(t.type)) return `<${t.val}>`;
    if ([...t.val].length > 10) return `${goQuote([...t.val].slice(0, 10).join(''))}...`;
    return goQuote(t.val);
  };
  const unexpected = (t: Item, context: string): never => {
    if (t.type === 'error') {
      let extra = '';
      if (actionLine !== 0 && actionLine !== t.line) {
        extra = ` in action started at ${name}:${actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      return errorf(`${t.val}${extra}`);
    }
    return errorf(`unexpected ${itemString(t)} in ${context}`);
  };
  const expect = (type: ItemType, context: string): Item => {
    const t = nextNonSpace();
    if (t.type !== type) unexpected(t, context);
    return t;
  };

  const add = (treeName: string, root: ListNode): void => {
    const existing = treeSet.get(treeName);
    if (existing === undefined || isEmptyTree(existing.root)) {
      treeSet.set(treeName, { name: treeName, root, src });
      return;
    }
    if (!isEmptyTree(root)) errorf(`template: multiple definition of template ${goQuote(treeName)}`);
  };

  const itemList = (): [ListNode, EndMarker | ElseMarker] => {
    const list = new ListNode(peekNonSpace().pos, src);
    while (peekNonSpace().type !== 'eof') {
      const n = textOrAction();
      if (n instanceof EndMarker || n instanceof ElseMarker) return [list, n];
      list.nodes.push(n);
    }
    return errorf('unexpected EOF');
  };

  const textOrAction = (): Node | EndMarker | ElseMarker => {
    const t = nextNonSpace();
    switch (t.type) {
      case 'text':
        return new TextNode(t.pos, src, t.val);
      case 'leftDelim': {
        actionLine = t.line;
        try {
          return action();
        } finally {
          actionLine = 0;
        }
      }
      default:
        return unexpected(t, 'input');
    }
  };

  const action = (): Node | EndMarker | ElseMarker => {
    const t = nextNonSpace();
    switch (t.type) {
      case 'block':
        return blockControl();
      case 'break':
      case 'continue': {
        const tok = nextNonSpace();
        if (tok.type !== 'rightDelim') unexpected(tok, `{{${t.type}}}`);
        if (rangeDepth === 0) errorf(`{{${t.type}}} outside {{range}}`);
        return t.type === 'break' ? new BreakNode(t.pos, src) : new ContinueNode(t.pos, src);
      }
      case 'else': {
        const p = peekNonSpace();
        if (p.type === 'if' || p.type === 'with') return new ElseMarker(p.pos, p.line);
        const tok = expect('rightDelim', 'else');
        return new ElseMarker(tok.pos, tok.line);
      }
      case 'end':
        return new EndMarker(expect('rightDelim', 'end').pos);
      case 'if':
        return control('if');
      case 'range':
        return control('range');
      case 'with':
        return control('with');
      case 'template':
        return templateControl();
      default: {
        backup();
        const tok = peek();
        return new ActionNode(tok.pos, src, tok.line, pipeline('command', 'rightDelim'));
      }
    }
  };

  const control = (kind: 'if' | 'range' | 'with'): BranchNode => {
    const saved = vars.length;
    try {
      const pipe = pipeline(kind, 'rightDelim');
      if (kind === 'range') rangeDepth++;
      const [list, first] = itemList();
      let nxt = first;
      if (kind === 'range') rangeDepth--;
      let elseList: ListNode | undefined;
      if (nxt instanceof ElseMarker) {
        const p = peek();
        if (kind !== 'range' && (p.type === 'if' || (p.type === 'with' && kind === 'with'))) {
          next();
          elseList = new ListNode(nxt.pos, src);
          elseList.nodes.push(control(p.type === 'if' ? 'if' : 'with'));
        } else {
          [elseList, nxt] = itemList();
          if (!(nxt instanceof EndMarker)) errorf(`expected end; found ${nxt.toString()}`);
        }
      }
      return new BranchNode(pipe.pos, src, kind, pipe, list, elseList);
    } finally {
      vars = vars.slice(0, saved);
    }
  };

  const parseTemplateName = (t: Item, context: string): string => {
    if (t.type === 'string' || t.type === 'rawString') {
      const s = unquote(t.val);
      if (s === undefined) errorf('invalid syntax');
      return s as string;
    }
    return unexpected(t, context);
  };

  const templateControl = (): TemplateNode => {
    const context = 'template clause';
    const t = nextNonSpace();
    const tname = parseTemplateName(t, context);
    let pipe: PipeNode | undefined;
    if (nextNonSpace().type !== 'rightDelim') {
      backup();
      pipe = pipeline(context, 'rightDelim');
    }
    return new TemplateNode(t.pos, src, t.line, tname, pipe);
  };

  const subTree = (treeName: string, context: string): void => {
    const savedVars = vars;
    const savedDepth = rangeDepth;
    vars = ['$'];
    rangeDepth = 0;
    const [root, end] = itemList();
    if (!(end instanceof EndMarker)) errorf(`unexpected ${end.toString()} in ${context}`);
    add(treeName, root);
    vars = savedVars;
    rangeDepth = savedDepth;
  };

  const blockControl = (): TemplateNode => {
    const context = 'block clause';
    const t = nextNonSpace();
    const tname = parseTemplateName(t, context);
    const pipe = pipeline(context, 'rightDelim');
    subTree(tname, context);
    return new TemplateNode(t.pos, src, t.line, tname, pipe);
  };

  const pipeline = (context: string, end: ItemType): PipeNode => {
    const first = peekNonSpace();
    const pipe = new PipeNode(first.pos, src, first.line);
    decls: for (;;) {
      const v = peekNonSpace();
      if (v.type !== 'variable') break;
      nextNonSpace();
      const after = peek();
      const nx = peekNonSpace();
      if (nx.type === 'assign' || nx.type === 'declare') {
        pipe.isAssign = nx.type === 'assign';
        nextNonSpace();
        pipe.decl.push(new VariableNode(v.pos, src, [v.val]));
        vars.push(v.val);
      } else if (nx.type === 'char' && nx.val === ',') {
        nextNonSpace();
        pipe.decl.push(new VariableNode(v.pos, src, [v.val]));
        vars.push(v.val);
        if (context === 'range' && pipe.decl.length < 2) {
          const p = peekNonSpace().type;
          if (p === 'variable' || p === 'rightDelim' || p === 'rightParen') continue decls;
          errorf('range can only initialize variables');
        }
        errorf(`too many declarations in ${context}`);
      } else if (after.type === 'space') {
        // Back up over the variable and the space.
        i = items.indexOf(v);
      } else {
        i = items.indexOf(v);
      }
      break;
    }
    for (;;) {
      const t = nextNonSpace();
      if (t.type === end) {
        if (pipe.cmds.length === 0) errorf(`missing value for ${context}`);
        pipe.cmds.slice(1).forEach((c, k) => {
          const a = c.args[0];
          if (a instanceof BoolNode || a instanceof DotNode || a instanceof NilNode || a instanceof NumberNode || a instanceof StringNode) {
            errorf(`non executable command in pipeline stage ${k + 2}`);
          }
        });
        return pipe;
      }
      switch (t.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          backup();
          pipe.cmds.push(command());
          break;
        default:
          unexpected(t, context);
      }
    }
  };

  const command = (): CommandNode => {
    const cmd = new CommandNode(peekNonSpace().pos, src);
    for (;;) {
      peekNonSpace();
      // peekNonSpace consumed nothing; skip spaces for real.
      while (peek().type === 'space') next();
      const op = operand();
      if (op !== undefined) cmd.args.push(op);
      const t = next();
      if (t.type === 'space') continue;
      if (t.type === 'rightDelim' || t.type === 'rightParen') backup();
      else if (t.type !== 'pipe') unexpected(t, 'operand');
      break;
    }
    if (cmd.args.length === 0) errorf('empty command');
    return cmd;
  };

  const operand = (): ArgNode | undefined => {
    const node = term();
    if (node === undefined) return undefined;
    if (peek().type === 'field') {
      const chain = new ChainNode(peek().pos, src, node);
      while (peek().type === 'field') chain.fields.push(next().val.slice(1));
      if (node instanceof FieldNode) return new FieldNode(chain.pos, src, [...node.ident, ...chain.fields]);
      if (node instanceof VariableNode) return new VariableNode(chain.pos, src, [...node.ident, ...chain.fields]);
      if (node instanceof BoolNode || node instanceof StringNode || node instanceof NumberNode || node instanceof NilNode || node instanceof DotNode) {
        errorf(`unexpected . after term ${goQuote(node.toString())}`);
      }
      return chain;
    }
    return node;
  };

  const term = (): ArgNode | undefined => {
    const t = nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!options.hasFunction(t.val)) errorf(`function ${goQuote(t.val)} not defined`);
        return new IdentifierNode(t.pos, src, t.val);
      case 'dot':
        return new DotNode(t.pos, src);
      case 'nil':
        return new NilNode(t.pos, src);
      case 'variable': {
        if (!vars.includes(t.val)) errorf(`undefined variable ${goQuote(t.val)}`);
        return new VariableNode(t.pos, src, [t.val]);
      }
      case 'field':
        return new FieldNode(t.pos, src, [t.val.slice(1)]);
      case 'bool':
        return new BoolNode(t.pos, src, t.val === 'true');
      case 'charConstant':
      case 'number':
        return newNumber(t);
      case 'leftParen':
        return pipeline('parenthesized pipeline', 'rightParen');
      case 'string':
      case 'rawString': {
        const s = unquote(t.val);
        if (s === undefined) return errorf('invalid syntax');
        return new StringNode(t.pos, src, t.val, s);
      }
      default:
        backup();
        return undefined;
    }
  };

  const newNumber = (t: Item): NumberNode => {
    const n = new NumberNode(t.pos, src, t.val);
    if (t.type === 'charConstant') {
      const s = unquoteChar(t.val);
      if (s === undefined) errorf(`malformed character constant: ${t.val}`);
      const r = s as number;
      n.isInt = n.isUint = n.isFloat = true;
      n.int = n.float = r;
      return n;
    }
    const text = t.val;
    if (text.endsWith('i')) errorf(`complex constants are not supported: ${goQuote(text)}`);
    const asInt = parseGoInt(text);
    if (asInt !== undefined) {
      n.isInt = asInt >= -(2n ** 63n) && asInt < 2n ** 63n;
      n.isUint = asInt >= 0n && asInt < 2n ** 64n && !text.startsWith('-') && !text.startsWith('+');
      if (asInt === 0n) n.isUint = true;
      if (n.isInt || n.isUint) {
        n.int = Number(asInt);
        n.isFloat = true;
        n.float = Number(asInt);
        return n;
      }
    }
    const f = parseGoFloat(text);
    if (f !== undefined) {
      if (!/[.eEpP]/.test(text)) errorf(`integer overflow: ${goQuote(text)}`);
      n.isFloat = true;
      n.float = f;
      if (Number.isInteger(f) && Math.abs(f) < 2 ** 63) {
        n.isInt = true;
        n.int = f;
      }
      if (Number.isInteger(f) && f >= 0 && f < 2 ** 64) n.isUint = true;
    }
    if (!n.isInt && !n.isUint && !n.isFloat) errorf(`illegal number syntax: ${goQuote(text)}`);
    return n;
  };

  // Top level.
  const root = new ListNode(peek().pos, src);
  while (peek().type !== 'eof') {
    if (peek().type === 'leftDelim') {
      const delimAt = i;
      next();
      if (nextNonSpace().type === 'define') {
        const context = 'define clause';
        const nameTok = nextNonSpace();
        if (nameTok.type !== 'string' && nameTok.type !== 'rawString') unexpected(nameTok, context);
        const dname = unquote(nameTok.val);
        if (dname === undefined) errorf('invalid syntax');
        expect('rightDelim', context);
        subTree(dname as string, context);
        continue;
      }
      i = delimAt;
    }
    const n = textOrAction();
    if (n instanceof EndMarker || n instanceof ElseMarker) errorf(`unexpected ${n.toString()}`);
    root.nodes.push(n as Node);
  }
  add(name, root);
  return treeSet;
}

function isKeyword(t: ItemType): boolean {
  return ['block', 'break', 'continue', 'dot', 'define', 'else', 'end', 'if', 'nil', 'range', 'template', 'with'].includes(t);
}

function parseGoInt(text: string): bigint | undefined {
  let s = text;
  let neg = false;
  if (s.startsWith('+') || s.startsWith('-')) {
    neg = s.startsWith('-');
    s = s.slice(1);
  }
  let body: string;
  let prefix = '';
  if (/^0[xX]/.test(s)) {
    prefix = '0x';
    body = s.slice(2);
    if (!/^_?[0-9a-fA-F]+(_[0-9a-fA-F]+)*$/.test(body)) return undefined;
  } else if (/^0[oO]/.test(s)) {
    prefix = '0o';
    body = s.slice(2);
    if (!/^_?[0-7]+(_[0-7]+)*$/.test(body)) return undefined;
  } else if (/^0[bB]/.test(s)) {
    prefix = '0b';
    body = s.slice(2);
    if (!/^_?[01]+(_[01]+)*$/.test(body)) return undefined;
  } else if (/^0[0-7_]+$/.test(s)) {
    // Legacy octal.
    if (!/^0_?[0-7]+(_[0-7]+)*$/.test(s)) return undefined;
    prefix = '0o';
    body = s.slice(1);
  } else {
    body = s;
    if (!/^[0-9]+(_[0-9]+)*$/.test(body)) return undefined;
  }
  const v = BigInt(prefix + body.replace(/_/g, ''));
  return neg ? -v : v;
}

function parseGoFloat(text: string): number | undefined {
  const s = text.replace(/^\+/, '');
  if (/^-?(\d+(_\d+)*)?(\.(\d+(_\d+)*)?)?([eE][+-]?\d+(_\d+)*)?$/.test(s) && /\d/.test(s)) {
    const v = Number(s.replace(/_/g, ''));
    return Number.isNaN(v) ? undefined : v;
  }
  return undefined;
}

/** Go's `strconv.Unquote` for "…" and `…` literals; undefined when malformed. */
export function unquote(q: string): string | undefined {
  if (q.length < 2) return undefined;
  if (q.startsWith('`')) return q.endsWith('`') ? q.slice(1, -1).replace(/\r/g, '') : undefined;
  if (!q.startsWith('"') || !q.endsWith('"')) return undefined;
  const body = q.slice(1, -1);
  let out = '';
  const bytes: number[] = [];
  const flushBytes = (): void => {
    if (bytes.length > 0) {
      out += Buffer.from(bytes).toString('utf8');
      bytes.length = 0;
    }
  };
  for (let k = 0; k < body.length; ) {
    const c = body[k] ?? '';
    if (c === '"' || c === '\n') return undefined;
    if (c !== '\\') {
      flushBytes();
      const cp = body.codePointAt(k) ?? 0;
      out += String.fromCodePoint(cp);
      k += cp > 0xffff ? 2 : 1;
      continue;
    }
    const e = body[k + 1];
    k += 2;
    const simple: Record<string, string> = { a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"' };
    if (e !== undefined && simple[e] !== undefined) {
      flushBytes();
      out += simple[e];
      continue;
    }
    if (e === 'x') {
      const h = body.slice(k, k + 2);
      if (!/^[0-9a-fA-F]{2}$/.test(h)) return undefined;
      bytes.push(parseInt(h, 16));
      k += 2;
      continue;
    }
    if (e !== undefined && /[0-7]/.test(e)) {
      const o = body.slice(k - 1, k + 2);
      if (!/^[0-7]{3}$/.test(o) || parseInt(o, 8) > 255) return undefined;
      bytes.push(parseInt(o, 8));
      k += 2;
      continue;
    }
    if (e === 'u' || e === 'U') {
      const len = e === 'u' ? 4 : 8;
      const h = body.slice(k, k + len);
      if (!new RegExp(`^[0-9a-fA-F]{${len}}$`).test(h)) return undefined;
      const cp = parseInt(h, 16);
      if (cp > 0x10ffff || (cp >= 0xd800 && cp < 0xe000)) return undefined;
      flushBytes();
      out += String.fromCodePoint(cp);
      k += len;
      continue;
    }
    return undefined;
  }
  flushBytes();
  return out;
}

function unquoteChar(q: string): number | undefined {
  if (!q.startsWith("'") || !q.endsWith("'") || q.length < 3) return undefined;
  const body = q.slice(1, -1);
  if (body === '"') return 0x22;
  if (body === "\\'") return 0x27;
  if (body.startsWith('\\')) {
    if (body.startsWith('\\x') || /^\\[0-7]/.test(body)) {
      const s = unquote('"' + body + '"');
      if (s === undefined) return undefined;
      const b = Buffer.from(s, 'latin1');
      return b.length === 1 ? b[0] : s.codePointAt(0);
    }
    const s = unquote('"' + body + '"');
    if (s === undefined || [...s].length !== 1) return undefined;
    return s.codePointAt(0);
  }
  if ([...body].length !== 1 || body === "'") return undefined;
  return body.codePointAt(0);
}
