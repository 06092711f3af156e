/**
 * Executes parsed templates with Go's semantics: dot and variables, field chains on maps and
 * structs, argument evaluation and type checks against function signatures, `and`/`or`
 * short-circuit, `range` over lists, maps (sorted keys) and integers, `break`/`continue`,
 * `template`/`block`, and Go's execution error messages.
 */
import { abortReason } from '@strata/errors';
import { TemplateError } from './errors.js';
import { sprintf, sprintValue } from './format.js';
import type {
  CommandNode} from './parse.js';
import {
  ActionNode,
  type ArgNode,
  BoolNode,
  BranchNode,
  BreakNode,
  ChainNode,
  ContinueNode,
  DotNode,
  FieldNode,
  IdentifierNode,
  ListNode,
  type Node,
  NilNode,
  NumberNode,
  PipeNode,
  StringNode,
  TemplateNode,
  TextNode,
  type Tree,
  VariableNode,
} from './parse.js';
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
  assignable,
  isTrue,
  sortedKeys,
  typeName,
  typeString,
  zeroOf,
} from './value.js';

/** Functions callable from templates, by name. */
export type FuncMap = ReadonlyMap<string, GoFunc>;

/** Functions that receive raw values and are special-cased like Go's builtins. */
export const BUILTIN_NAMES = new Set(['and', 'or', 'not', 'len', 'index', 'slice', 'print', 'printf', 'println', 'eq', 'ne', 'lt', 'le', 'gt', 'ge', 'html', 'js', 'urlquery', 'call']);

/** Where execution looks up templates and functions. */
export interface ExecEnv {
  lookupTree(name: string): Tree | undefined;
  lookupFunc(name: string): { fn: GoFunc; builtin: boolean } | undefined;
  readonly maxDepth: number;
}

/** A value in a slot of static type `interface {}` (a map[string]interface{} entry, a []interface{} element). */
interface Val {
  readonly v: GoValue;
  readonly iface: boolean;
}
const concrete = (v: GoValue): Val => ({ v, iface: false });

const MISSING = Symbol('missing');
type Final = GoValue | typeof MISSING;

/** Control flow of `{{break}}`/`{{continue}}` (never escapes a range). */
class BreakSignal extends Error {}
class ContinueSignal extends Error {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

/** Internal: an execution error with Go's message and its location. */
export class ExecFailure extends Error {
  constructor(
    message: string,
    readonly file: string,
    readonly line: number,
    readonly column: number,
    readonly template: string,
    readonly inner?: TemplateError,
  ) {
    super(message);
  }
}

interface Variable {
  readonly name: string;
  value: Val;
}

/** Location of `pos` in `text`: 1-based line, 0-based byte column (Go's) and 1-based char column. */
export function locate(text: string, pos: number): { line: number; byteCol: number; column: number } {
  const before = text.slice(0, pos);
  const nl = before.lastIndexOf('\n');
  const line = 1 + (before.match(/\n/g)?.length ?? 0);
  const lineText = before.slice(nl + 1);
  return { line, byteCol: Buffer.byteLength(lineText, 'utf8'), column: [...lineText].length + 1 };
}

export class State {
  private vars: Variable[];
  private node: ArgNode | Node | CommandNode | undefined;
  private readonly out: string[];

  constructor(
    private readonly env: ExecEnv,
    private tree: Tree,
    private readonly depth: number,
    private readonly signal: AbortSignal | undefined,
    dot: Val,
    out: string[],
  ) {
    this.vars = [{ name: '$', value: dot }];
    this.out = out;
  }

  /** Runs the tree with the given dot. */
  run(dot: Val): void {
    this.walk(dot, this.tree.root);
  }

  private at(node: ArgNode | Node | CommandNode): void {
    this.node = node;
  }

  errorf(message: string, inner?: TemplateError): never {
    const name = this.tree.name;
    const node = this.node;
    if (node === undefined) throw new ExecFailure(`template: ${name}: ${message}`, this.tree.src.parseName, 0, 0, name, inner);
    const src = node.src;
    const { line, byteCol, column } = locate(src.text, node.pos);
    const context = node.toString();
    throw new ExecFailure(
      `template: ${src.parseName}:${line}:${byteCol}: executing ${JSON.stringify(name)} at <${context}>: ${message}`,
      src.parseName,
      line,
      column,
      name,
      inner,
    );
  }

  private mark(): number {
    return this.vars.length;
  }
  private pop(mark: number): void {
    this.vars.length = mark;
  }
  private push(name: string, value: Val): void {
    this.vars.push({ name, value });
  }
  private setVar(name: string, value: Val): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v !== undefined && v.name === name) {
        v.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }
  private setTopVar(n: number, value: Val): void {
    const v = this.vars[this.vars.length - n];
    if (v !== undefined) v.value = value;
  }
  private varValue(name: string): Val {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      const v = this.vars[i];
      if (v !== undefined && v.name === name) return v.value;
    }
    return this.errorf(`undefined variable: ${name}`);
  }

  private walk(dot: Val, node: Node): void {
    this.at(node);
    if (node instanceof ActionNode) {
      const val = this.evalPipeline(dot, node.pipe);
      if (node.pipe.decl.length === 0) this.printValue(node, val);
    } else if (node instanceof TextNode) {
      this.out.push(node.text);
    } else if (node instanceof ListNode) {
      for (const n of node.nodes) this.walk(dot, n);
    } else if (node instanceof BranchNode) {
      if (node.kind === 'range') this.walkRange(dot, node);
      else this.walkIfOrWith(node, dot);
    } else if (node instanceof TemplateNode) {
      this.walkTemplate(dot, node);
    } else if (node instanceof BreakNode) {
      throw BREAK;
    } else if (node instanceof ContinueNode) {
      throw CONTINUE;
    }
  }

  private walkIfOrWith(node: BranchNode, dot: Val): void {
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) {
        this.walk(node.kind === 'with' ? concrete(val) : dot, node.list);
      } else if (node.elseList) {
        this.walk(dot, node.elseList);
      }
    } finally {
      this.pop(mark);
    }
  }

  private walkRange(dot: Val, r: BranchNode): void {
    this.at(r);
    const mark = this.mark();
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const bodyMark = this.mark();
      const one = (index: Val, elem: Val): boolean => {
        if (r.pipe.decl.length > 0) this.setTopVar(1, elem);
        if (r.pipe.decl.length > 1) this.setTopVar(2, index);
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e === CONTINUE) return true;
          if (e === BREAK) return false;
          throw e;
        } finally {
          this.pop(bodyMark);
        }
        return true;
      };
      const check = (): void => {
        if (this.signal?.aborted) throw abortReason(this.signal);
      };
      if (val instanceof GoList || val instanceof GoBytes) {
        const items: GoValue[] = val instanceof GoBytes ? [...val.bytes].map((b) => new GoInt(b, 'uint8')) : val.items;
        const iface = val instanceof GoList && val.elem === 'any';
        if (items.length > 0) {
          for (let i = 0; i < items.length; i++) {
            check();
            if (!one(concrete(new GoInt(i)), { v: items[i], iface })) break;
          }
          return;
        }
      } else if (val instanceof GoMap) {
        if (val.entries.size > 0) {
          for (const k of sortedKeys(val)) {
            check();
            if (!one(concrete(k), { v: val.entries.get(k), iface: val.elem === 'any' })) break;
          }
          return;
        }
      } else if (val instanceof GoInt) {
        // Go 1.22+: range over an integer.
        if (r.pipe.decl.length > 1) this.errorf(`can't use ${sprintValue(val)} to iterate over more than one variable`);
        if (val.value > 0) {
          for (let i = 0; i < val.value; i++) {
            check();
            const iv = concrete(new GoInt(i, val.kind));
            if (!one(iv, iv)) break;
          }
          return;
        }
      } else if (val !== undefined && val !== null) {
        this.errorf(`range can't iterate over ${sprintValue(val)}`);
      }
      if (r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.pop(mark);
    }
  }

  private walkTemplate(dot: Val, t: TemplateNode): void {
    this.at(t);
    const tree = this.env.lookupTree(t.name);
    if (tree === undefined) this.errorf(`template ${JSON.stringify(t.name)} not defined`);
    if (this.depth >= this.env.maxDepth) this.errorf(`exceeded maximum template depth (${this.env.maxDepth})`);
    const newDot = t.pipe ? this.evalPipeline(dot, t.pipe) : undefined;
    const state = new State(this.env, tree, this.depth + 1, this.signal, concrete(newDot), this.out);
    state.run(concrete(newDot));
  }

  private printValue(node: ActionNode, v: GoValue): void {
    this.at(node);
    if (v === undefined || v === null) {
      this.out.push('<no value>');
      return;
    }
    if (v instanceof GoFunc) this.errorf(`can't print ${node.toString()} of type ${typeName(v)}`);
    this.out.push(sprintValue(v));
  }

  evalPipeline(dot: Val, pipe: PipeNode): GoValue {
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      const r = this.evalCommand(dot, cmd, value);
      // An interface value is unwrapped: nil interface becomes "no value".
      value = r.v === null ? undefined : r.v;
    }
    const result = value === MISSING ? undefined : value;
    for (const variable of pipe.decl) {
      const name = variable.ident[0] ?? '';
      if (pipe.isAssign) this.setVar(name, concrete(result));
      else this.push(name, concrete(result));
    }
    return result;
  }

  private notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${args[0]?.toString() ?? ''}`);
  }

  private evalCommand(dot: Val, cmd: CommandNode, final: Final): Val {
    const first = cmd.args[0];
    if (first instanceof FieldNode) return this.evalFieldNode(dot, first, cmd.args, final);
    if (first instanceof ChainNode) return this.evalChainNode(dot, first, cmd.args, final);
    if (first instanceof IdentifierNode) return this.evalFunction(dot, first, cmd, cmd.args, final);
    if (first instanceof PipeNode) {
      this.notAFunction(cmd.args, final);
      return concrete(this.evalPipeline(dot, first));
    }
    if (first instanceof VariableNode) return this.evalVariableNode(dot, first, cmd.args, final);
    if (first === undefined) return this.errorf('empty command');
    this.at(first);
    this.notAFunction(cmd.args, final);
    if (first instanceof BoolNode) return concrete(first.value);
    if (first instanceof DotNode) return dot;
    if (first instanceof NilNode) return this.errorf('nil is not a command');
    if (first instanceof NumberNode) return concrete(this.idealConstant(first));
    if (first instanceof StringNode) return concrete(first.text);
    return this.errorf(`can't evaluate command ${JSON.stringify(String(first))}`);
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    const t = n.text;
    const isHexInt = t.length > 2 && t[0] === '0' && (t[1] === 'x' || t[1] === 'X') && !/[pP]/.test(t);
    const isRune = t.startsWith("'");
    if (n.isFloat && !isHexInt && !isRune && /[.eEpP]/.test(t)) return new GoFloat(n.float);
    if (n.isInt) {
      if (!Number.isSafeInteger(n.int) && Math.abs(n.int) >= 2 ** 63) this.errorf(`${t} overflows int`);
      return new GoInt(n.int);
    }
    if (n.isUint) this.errorf(`${t} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: Val, field: FieldNode, args: ArgNode[], final: Final): Val {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: Val, chain: ChainNode, args: ArgNode[], final: Final): Val {
    this.at(chain);
    if (chain.node instanceof NilNode) this.errorf(`indirection through explicit nil in ${chain.toString()}`);
    const pipe = this.evalArg(dot, undefined, chain.node);
    return this.evalFieldChain(dot, concrete(pipe), chain, chain.fields, args, final);
  }

  private evalVariableNode(dot: Val, variable: VariableNode, args: ArgNode[], final: Final): Val {
    this.at(variable);
    const value = this.varValue(variable.ident[0] ?? '');
    if (variable.ident.length === 1) {
      this.notAFunction(args, final);
      return value;
    }
    return this.evalFieldChain(dot, value, variable, variable.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: Val, receiver: Val, node: ArgNode, ident: string[], args: ArgNode[], final: Final): Val {
    let r = receiver;
    for (let i = 0; i < ident.length - 1; i++) r = this.evalField(dot, ident[i] ?? '', node, [], MISSING, r);
    return this.evalField(dot, ident[ident.length - 1] ?? '', node, args, final, r);
  }

  private evalFunction(dot: Val, node: IdentifierNode, cmd: ArgNode | CommandNode, args: ArgNode[], final: Final): Val {
    this.at(node);
    const found = this.env.lookupFunc(node.ident);
    if (found === undefined) this.errorf(`${JSON.stringify(node.ident)} is not a defined function`);
    return concrete(this.evalCall(dot, found.fn, found.builtin, cmd, node.ident, args, final));
  }

  private evalField(dot: Val, fieldName: string, node: ArgNode, args: ArgNode[], final: Final, receiver: Val): Val {
    const rv = receiver.v;
    if (rv === undefined) return concrete(undefined);
    const typ = receiver.iface ? 'interface {}' : typeName(rv);
    if (rv === null) this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
    if (rv instanceof GoStruct) {
      const method = rv.methods.get(fieldName);
      if (method !== undefined) return concrete(this.evalCall(dot, method, false, node, fieldName, args, final));
    }
    const hasArgs = args.length > 1 || final !== MISSING;
    if (rv instanceof GoStruct) {
      if (rv.fields.has(fieldName)) {
        if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
        const f = rv.fields.get(fieldName);
        return { v: f, iface: false };
      }
    } else if (rv instanceof GoMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      if (!rv.entries.has(fieldName)) return concrete(undefined);
      const v = rv.entries.get(fieldName);
      return { v: v === undefined ? null : v, iface: rv.elem === 'any' };
    }
    return this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  private evalCall(dot: Val, fn: GoFunc, builtin: boolean, node: ArgNode | CommandNode, name: string, allArgs: ArgNode[], final: Final): GoValue {
    const args = allArgs.slice(1);
    const sig = fn.signature;
    const numIn = args.length + (final !== MISSING ? 1 : 0);
    const nParams = sig.params.length + (sig.variadic !== undefined ? 1 : 0);
    let numFixed = args.length;
    if (sig.variadic !== undefined) {
      numFixed = sig.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${args.length}`);
    } else if (numIn !== nParams) {
      this.errorf(`wrong number of args for ${name}: want ${nParams} got ${numIn}`);
    }

    if (builtin && (name === 'and' || name === 'or')) {
      let v: GoValue = undefined;
      for (const arg of args) {
        v = this.evalArg(dot, 'value', arg);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }

    const argv: GoValue[] = [];
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv.push(this.evalArg(dot, sig.params[i], args[i] as ArgNode));
    if (sig.variadic !== undefined) {
      for (; i < args.length; i++) argv.push(this.evalArg(dot, sig.variadic, args[i] as ArgNode));
    }
    if (final !== MISSING) {
      let t: ParamType | undefined = sig.params[nParams - 1] ?? sig.variadic;
      if (sig.variadic !== undefined) t = numIn - 1 < numFixed ? sig.params[numIn - 1] : sig.variadic;
      argv.push(this.validateType(final, t));
    }
    try {
      return fn.impl(...argv);
    } catch (e) {
      if (e === BREAK || e === CONTINUE) throw e;
      this.at(node);
      if (e instanceof TemplateError) return this.errorf(`error calling ${name}: ${e.message}`, e);
      if (e instanceof ExecFailure) return this.errorf(`error calling ${name}: ${e.message}`);
      if (e instanceof GoCallError) return this.errorf(`error calling ${name}: ${e.message}`);
      if (e instanceof Error && e.name === 'AbortError') throw e;
      if (this.signal?.aborted) throw e;
      if (e instanceof RangeError) return this.errorf(`error calling ${name}: ${e.message}`);
      throw e;
    }
  }

  private validateType(value: GoValue, typ: ParamType | undefined): GoValue {
    if (value === undefined) {
      if (typ === undefined) return undefined;
      if (canBeNil(typ)) return typ === 'value' ? undefined : zeroOf(typ);
      return this.errorf(`invalid value; expected ${paramTypeString(typ)}`);
    }
    if (typ === undefined || typ === 'value' || typ === 'any') return value;
    if (value === null) return this.errorf(`wrong type for value; expected ${paramTypeString(typ)}; got interface {}`);
    if (!assignable(value, typ)) this.errorf(`wrong type for value; expected ${paramTypeString(typ)}; got ${typeName(value)}`);
    return value;
  }

  private evalArg(dot: Val, typ: ParamType | undefined, n: ArgNode): GoValue {
    this.at(n);
    if (n instanceof DotNode) return this.validateType(dot.v, typ);
    if (n instanceof NilNode) {
      if (typ !== undefined && canBeNil(typ)) return typ === 'value' ? null : zeroOf(typ);
      return this.errorf(`cannot assign nil to ${typ === undefined ? '<nil>' : paramTypeString(typ)}`);
    }
    if (n instanceof FieldNode) return this.validateType(this.evalFieldNode(dot, n, [n], MISSING).v, typ);
    if (n instanceof VariableNode) return this.validateType(this.evalVariableNode(dot, n, [], MISSING).v, typ);
    if (n instanceof PipeNode) return this.validateType(this.evalPipeline(dot, n), typ);
    if (n instanceof IdentifierNode) return this.validateType(this.evalFunction(dot, n, n, [], MISSING).v, typ);
    if (n instanceof ChainNode) return this.validateType(this.evalChainNode(dot, n, [], MISSING).v, typ);
    if (typ === undefined || typ === 'any' || typ === 'value') return this.evalEmptyInterface(n);
    if (typ === 'bool') {
      if (n instanceof BoolNode) return n.value;
      return this.errorf(`expected bool; found ${n.toString()}`);
    }
    if (typ === 'string') {
      if (n instanceof StringNode) return n.text;
      return this.errorf(`expected string; found ${n.toString()}`);
    }
    if (typ === 'float64' || typ === 'float32') {
      if (n instanceof NumberNode && n.isFloat) return new GoFloat(n.float, typ);
      return this.errorf(`expected float; found ${n.toString()}`);
    }
    if (typeof typ === 'string' && typ.startsWith('int')) {
      if (n instanceof NumberNode && n.isInt) return new GoInt(n.int, typ as GoInt['kind']);
      return this.errorf(`expected integer; found ${n.toString()}`);
    }
    if (typeof typ === 'string' && typ.startsWith('uint')) {
      if (n instanceof NumberNode && n.isUint) return new GoInt(n.int, typ as GoInt['kind']);
      return this.errorf(`expected unsigned integer; found ${n.toString()}`);
    }
    return this.errorf(`can't handle ${n.toString()} for arg of type ${paramTypeString(typ)}`);
  }

  private evalEmptyInterface(n: ArgNode): GoValue {
    this.at(n);
    if (n instanceof BoolNode) return n.value;
    if (n instanceof NumberNode) return this.idealConstant(n);
    if (n instanceof StringNode) return n.text;
    return this.errorf(`can't handle assignment of ${n.toString()} to empty interface argument`);
  }
}

function canBeNil(t: ParamType): boolean {
  if (t === 'value' || t === 'any' || t === 'func' || t === 'error') return true;
  return typeof t !== 'string';
}

function paramTypeString(t: ParamType): string {
  return t === 'value' ? 'reflect.Value' : typeString(t);
}

/** Go's `truth` for `and`/`or`/`not`: like `if`, ignoring values without a truth value. */
export function truth(v: GoValue): boolean {
  return isTrue(v);
}

/** Runs `tree` with `data` as dot, returning the output. Throws {@link ExecFailure} on error. */
export function executeTree(env: ExecEnv, tree: Tree, data: GoValue, signal: AbortSignal | undefined): string {
  const out: string[] = [];
  const state = new State(env, tree, 0, signal, concrete(data), out);
  try {
    state.run(concrete(data));
  } catch (e) {
    if (e === BREAK || e === CONTINUE) throw new ExecFailure('template: break/continue outside range', tree.src.parseName, 0, 0, tree.name);
    if (e instanceof RangeError) {
      throw new ExecFailure(`template: ${tree.name}: exceeded maximum template depth`, tree.src.parseName, 0, 0, tree.name);
    }
    throw e;
  }
  return out.join('');
}

export { sprintf };
