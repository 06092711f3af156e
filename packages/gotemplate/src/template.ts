/** Template sets: parsing files into named trees, associating `define`s, executing by name. */
import { TemplateError } from './errors.js';
import { BUILTIN_NAMES, ExecFailure, type ExecEnv, executeTree, locate } from './exec.js';
import { createBuiltins } from './builtins.js';
import { ParseFailure, type Tree, isEmptyTree, parse } from './parse.js';
import { type GoFunc, toGoValue } from './value.js';

export interface TemplateSetOptions {
  /** Extra functions (sprig, werf, your own), by name; they may shadow nothing builtin. @default none */
  funcs?: ReadonlyMap<string, GoFunc> | Record<string, GoFunc> | undefined;
  /** @default "{{" */
  leftDelim?: string | undefined;
  /** @default "}}" */
  rightDelim?: string | undefined;
  /** Nesting limit for `template`/`include` calls. @default 1000 */
  maxDepth?: number | undefined;
  /** Nesting limit for executions started from functions (werf's `include`/`tpl`). @default 100 */
  maxNesting?: number | undefined;
  /** Name of the set's root template, as Go's "no template … associated with template NAME" names it. @default the first template parsed */
  name?: string | undefined;
}

export interface ExecuteOptions {
  /** Checked between range iterations; execution stops with the signal's reason. */
  signal?: AbortSignal | undefined;
}

/**
 * A namespace of templates that can call each other (`template`, `block`, and `include` when the
 * werf functions are bound to this set). Parsing a file adds its top-level template under the
 * given name and every `define`d template under its own name; a later non-empty definition
 * replaces an earlier one, an empty one never replaces a non-empty one (Go's `AddParseTree`).
 */
export class TemplateSet {
  private readonly trees = new Map<string, Tree>();
  private readonly funcs: Map<string, { fn: GoFunc; builtin: boolean }>;
  private readonly leftDelim: string;
  private readonly rightDelim: string;
  readonly maxDepth: number;

  constructor(options: TemplateSetOptions = {}) {
    this.funcs = new Map();
    for (const [name, f] of createBuiltins()) this.funcs.set(name, { fn: f, builtin: true });
    if (options.funcs) this.addFuncs(options.funcs);
    this.leftDelim = options.leftDelim ?? '{{';
    this.rightDelim = options.rightDelim ?? '}}';
    this.maxDepth = options.maxDepth ?? 1000;
    this.rootName = options.name;
    this.maxNesting = options.maxNesting ?? 100;
  }

  private readonly maxNesting: number;

  private rootName: string | undefined;

  /** Adds or replaces functions (Go's `Funcs`). Must happen before parsing templates that use them. */
  addFuncs(funcs: ReadonlyMap<string, GoFunc> | Record<string, GoFunc>): this {
    const entries: [string, GoFunc][] = funcs instanceof Map ? [...(funcs as ReadonlyMap<string, GoFunc>).entries()] : Object.entries(funcs as Record<string, GoFunc>);
    for (const [name, f] of entries) this.funcs.set(name, { fn: f, builtin: false });
    return this;
  }

  /**
   * Parses `text` as the template `name` (and its `define`s).
   * @param file the file name used in error locations. @default name
   * @throws TemplateError `TEMPLATE_PARSE`
   */
  parse(name: string, text: string, options: { file?: string | undefined } = {}): this {
    this.rootName ??= name;
    let parsed: Map<string, Tree>;
    try {
      parsed = parse(name, text, {
        hasFunction: (f) => this.funcs.has(f),
        leftDelim: this.leftDelim,
        rightDelim: this.rightDelim,
      });
    } catch (e) {
      if (e instanceof ParseFailure) {
        const { column } = locate(text, e.pos);
        throw new TemplateError('TEMPLATE_PARSE', e.message, { file: options.file ?? name, line: e.line, column });
      }
      throw e;
    }
    for (const [treeName, tree] of parsed) {
      const old = this.trees.get(treeName);
      if (old !== undefined && isEmptyTree(tree.root) && !isEmptyTree(old.root)) continue;
      this.trees.set(treeName, tree);
    }
    if (options.file !== undefined) this.files.set(name, options.file);
    return this;
  }

  private readonly files = new Map<string, string>();

  /** Whether a template of that name is defined. */
  has(name: string): boolean {
    return this.trees.has(name);
  }

  /** Names of the defined templates, sorted. */
  names(): string[] {
    return [...this.trees.keys()].sort();
  }

  /**
   * Executes the template `name` with `data` as dot (converted with `toGoValue` unless it is
   * already a Go value).
   * @throws TemplateError `TEMPLATE_EXEC` (for a nested failure, `file`/`line`/`column` locate the innermost one)
   */
  execute(name: string, data: unknown, options: ExecuteOptions = {}): string {
    const tree = this.trees.get(name);
    if (tree === undefined) {
      throw new TemplateError('TEMPLATE_EXEC', `template: no template ${JSON.stringify(name)} associated with template ${JSON.stringify(this.rootName ?? name)}`, {
        file: this.files.get(name) ?? name,
        line: 0,
        column: 0,
      });
    }
    options.signal?.throwIfAborted();
    if (this.active >= this.maxNesting) {
      // Nested executions (werf's include/tpl) would otherwise recurse until the JS stack overflows.
      throw new TemplateError('TEMPLATE_EXEC', `template: ${name}: exceeded maximum template depth (${this.maxNesting})`, {
        file: this.files.get(name) ?? name,
        line: 0,
        column: 0,
        template: name,
      });
    }
    const env: ExecEnv = {
      lookupTree: (n) => this.trees.get(n),
      lookupFunc: (n) => this.funcs.get(n),
      maxDepth: this.maxDepth,
    };
    this.active++;
    try {
      return executeTree(env, tree, toGoValue(data), options.signal);
    } catch (e) {
      if (e instanceof ExecFailure) {
        const inner = e.inner;
        const code = inner?.code === 'TEMPLATE_FORBIDDEN' ? 'TEMPLATE_FORBIDDEN' : 'TEMPLATE_EXEC';
        if (inner !== undefined && inner.file !== '') {
          throw new TemplateError(code, e.message, { file: inner.file, line: inner.line, column: inner.column, template: inner.data?.template }, { cause: inner, hint: inner.hint });
        }
        throw new TemplateError(code, e.message, { file: this.fileOf(e.file), line: e.line, column: e.column, template: e.template }, { cause: inner, hint: inner?.hint });
      }
      throw e;
    } finally {
      this.active--;
    }
  }

  /** Executions in progress (nested through include/tpl). */
  private active = 0;

  private fileOf(parseName: string): string {
    return this.files.get(parseName) ?? parseName;
  }
}

/** One parsed template with its own set (Go's `template.New(name).Funcs(…).Parse(text)`). */
export class Template {
  constructor(
    readonly name: string,
    readonly set: TemplateSet,
  ) {}

  /** @throws TemplateError `TEMPLATE_EXEC` */
  execute(data: unknown, options: ExecuteOptions = {}): string {
    return this.set.execute(this.name, data, options);
  }
}

/**
 * Parses one template text.
 * @throws TemplateError `TEMPLATE_PARSE`
 */
export function parseTemplate(name: string, text: string, options: TemplateSetOptions = {}): Template {
  const set = new TemplateSet(options);
  set.parse(name, text);
  return new Template(name, set);
}

export { BUILTIN_NAMES };
