/**
 * werf's template functions and data for `werf.yaml`: `include`, `tpl`, `required`, `fail`,
 * `toYaml`/`fromYaml`, giterminism-aware `env`, and `.Files`, `.Env`, `.Commit`.
 */
import picomatch from 'picomatch';
import YAML from 'yaml';
import { TemplateError } from './errors.js';
import { createSprigFunctions } from './sprig.js';
import { TemplateSet } from './template.js';
import { GoCallError, GoFunc, GoInt, GoFloat, GoList, GoMap, GoStruct, type GoValue, fromGoValue, sortedKeys } from './value.js';
import { sprintValue } from './format.js';

/**
 * The files a werf config may read (`.Files.*`), as a pre-loaded snapshot: werf's template
 * functions are synchronous, so the caller reads the commit (or worktree) first.
 *
 * Paths are relative to the project directory, `/`-separated, without `./`. Implementations are
 * pure reads of an immutable snapshot: every call is idempotent and may happen in any order.
 */
export interface TemplateFiles {
  /** The content of a regular file, or undefined when there is no such file. */
  find(path: string): string | undefined;
  /** Every file path in the snapshot, in any order. */
  paths(): Iterable<string>;
}

/** A {@link TemplateFiles} over an in-memory map of path → content. */
export class MemoryTemplateFiles implements TemplateFiles {
  private readonly files: ReadonlyMap<string, string>;
  constructor(files: ReadonlyMap<string, string> | Record<string, string>) {
    this.files = files instanceof Map ? files : new Map(Object.entries(files));
  }
  find(path: string): string | undefined {
    return this.files.get(normalize(path));
  }
  paths(): Iterable<string> {
    return this.files.keys();
  }
}

function normalize(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

export interface WerfFunctionsOptions {
  /** Files for `.Files` (used by {@link createWerfData}). */
  readonly files?: TemplateFiles | undefined;
  /** Process environment visible to `env`. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Which variables `env` may read (werf's giterminism `config.goTemplateRendering.allowEnvVariables`);
   * a name list may contain `/regex/` entries. @default none
   */
  readonly allowedEnv?: readonly string[] | ((name: string) => boolean) | undefined;
  /** werf's loose giterminism: an unset variable without default renders as "" instead of failing. @default false */
  readonly looseGiterminism?: boolean | undefined;
}

function envAllowed(allowed: WerfFunctionsOptions['allowedEnv'], name: string): boolean {
  if (allowed === undefined) return false;
  if (typeof allowed === 'function') return allowed(name);
  return allowed.some((a) => (a.length > 2 && a.startsWith('/') && a.endsWith('/') ? new RegExp(`^(?:${a.slice(1, -1)})$`).test(name) : a === name));
}

/** Go's yaml.v2-style `toYaml` of a Go value (sorted keys, no trailing newline, like Helm). */
export function toYaml(v: GoValue): string {
  const plain = toYamlPlain(v);
  if (plain === null || plain === undefined) return 'null';
  return YAML.stringify(plain, { sortMapEntries: true, lineWidth: 0, indent: 2, indentSeq: true }).replace(/\n$/, '');
}

function toYamlPlain(v: GoValue): unknown {
  if (v instanceof GoMap) {
    const o: Record<string, unknown> = {};
    for (const k of sortedKeys(v)) o[k] = toYamlPlain(v.entries.get(k));
    return o;
  }
  if (v instanceof GoList) return v.items.map(toYamlPlain);
  return fromGoValue(v);
}

/** Parses YAML into Go values (ints stay ints, floats float64, maps map[string]interface{}). */
export function fromYaml(text: string): GoMap {
  const doc = YAML.parseDocument(text, { intAsBigInt: false, uniqueKeys: false });
  if (doc.errors.length > 0) throw new GoCallError(`error converting YAML to JSON: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
  const v = yamlToGo(doc.contents);
  if (v === null) return new GoMap();
  if (!(v instanceof GoMap)) throw new GoCallError(`yaml: unmarshal errors: cannot unmarshal ${typeof v === 'string' ? '!!str' : '!!seq'} into map[string]interface {}`);
  return v;
}

function yamlToGo(node: unknown): GoValue {
  if (node === null || node === undefined) return null;
  if (YAML.isMap(node)) {
    const m = new Map<string, GoValue>();
    for (const item of node.items) {
      const k = YAML.isScalar(item.key) ? item.key.value : item.key;
      m.set(typeof k === 'string' ? k : sprintValue(yamlToGo(item.key)), yamlToGo(item.value));
    }
    return new GoMap(m);
  }
  if (YAML.isSeq(node)) return new GoList(node.items.map(yamlToGo));
  if (YAML.isScalar(node)) {
    const v = node.value;
    if (typeof v === 'number') {
      const src = node.source ?? '';
      return Number.isInteger(v) && !/[.eE]/.test(src) ? new GoInt(v) : new GoFloat(v);
    }
    if (typeof v === 'string' || typeof v === 'boolean') return v;
    if (v === null) return null;
    return v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? v.toString() : null;
  }
  return null;
}

/**
 * werf's functions bound to a template set: `include` and `tpl` execute in `set`.
 * Also includes sprig (minus `env`/`expandenv`), whose functions werf keeps.
 */
export function createWerfFunctions(set: TemplateSet, options: WerfFunctionsOptions = {}): Map<string, GoFunc> {
  const fns = createSprigFunctions();
  let tplCounter = 0;
  const S = 'string' as const;
  fns.set('include', new GoFunc('include', { params: [S, 'any'] }, (name, data) => {
    if (!set.has(name as string)) {
      // Go reports an undefined template at the include's call site (`error calling include: …`); as a
      // call error it is located there, not at the missing template's (nonexistent) file.
      try {
        return set.execute(name as string, data ?? null);
      } catch (error) {
        throw new GoCallError(error instanceof Error ? error.message : String(error));
      }
    }
    return set.execute(name as string, data ?? null);
  }));
  fns.set('tpl', new GoFunc('tpl', { params: [S, 'any'] }, (text, data) => {
    const name = `tpl-${++tplCounter}`;
    set.parse(name, text as string);
    return set.execute(name, data ?? null);
  }));
  fns.set('required', new GoFunc('required', { params: [S, 'any'] }, (msg, val) => {
    if (val === null || val === undefined || val === '') throw new GoCallError(msg as string);
    return val;
  }));
  fns.set('toYaml', new GoFunc('toYaml', { params: ['any'] }, (v) => toYaml(v ?? null)));
  fns.set('fromYaml', new GoFunc('fromYaml', { params: [S] }, (s) => fromYaml(s as string)));
  const env = options.env ?? {};
  fns.set('env', new GoFunc('env', { params: ['any'], variadic: S }, (nameV, ...rest) => {
    if (rest.length > 1) throw new GoCallError('more than 1 optional argument prohibited');
    const name = sprintValue(nameV ?? null);
    if (!envAllowed(options.allowedEnv, name)) {
      throw new TemplateError('TEMPLATE_FORBIDDEN', `the configuration with potential external dependency found in the werf config: env name ${JSON.stringify(name)} not allowed by giterminism`, { file: '', line: 0, column: 0 }, {
        hint: 'Allow it in werf-giterminism.yaml (config.goTemplateRendering.allowEnvVariables) or pass it in allowedEnv.',
      });
    }
    const fallback = rest.length === 1 ? (rest[0] as string) : undefined;
    const value = env[name];
    if (value === undefined) {
      if (fallback !== undefined) return fallback;
      if (!options.looseGiterminism) throw new GoCallError(`the environment variable ${JSON.stringify(name)} must be set or default must be provided`);
      return '';
    }
    if (value === '' && fallback !== undefined) return fallback;
    return value;
  }));
  return fns;
}

/** werf's `.Files` object: `Get`, `Glob`, `Exists`, `IsDir` over a {@link TemplateFiles} snapshot. */
export function createFilesObject(files: TemplateFiles): GoStruct {
  const S = 'string' as const;
  const get = new GoFunc('Get', { params: [S] }, (p) => {
    const content = files.find(normalize(p as string));
    if (content === undefined) throw new GoCallError(`{{ .Files.Get ${JSON.stringify(p)} }}: the file ${JSON.stringify(p)} not found in the project git repository`);
    return content;
  });
  const glob = new GoFunc('Glob', { params: [S] }, (pattern) => {
    const isMatch = picomatch(normalize(pattern as string), { dot: true });
    const m = new Map<string, GoValue>();
    for (const p of files.paths()) if (isMatch(p)) m.set(p, files.find(p) ?? '');
    if (m.size === 0) throw new GoCallError(`{{ .Files.Glob ${JSON.stringify(pattern)} }}: no matches found`);
    return new GoMap(m);
  });
  const isDirPath = (p: string): boolean => {
    const prefix = normalize(p);
    if (prefix === '') return true;
    for (const f of files.paths()) if (f.startsWith(prefix + '/')) return true;
    return false;
  };
  const exists = new GoFunc('Exists', { params: [S] }, (p) => files.find(normalize(p as string)) !== undefined || isDirPath(p as string));
  const isDir = new GoFunc('IsDir', { params: [S] }, (p) => isDirPath(p as string));
  return new GoStruct('main.files', new Map(), new Map([
    ['Get', get],
    ['Glob', glob],
    ['Exists', exists],
    ['IsDir', isDir],
  ]));
}

/** The HEAD commit as werf exposes it. */
export interface TemplateCommit {
  readonly hash: string;
  readonly date: Date;
  /**
   * The committer's time zone offset east of UTC, in minutes, as recorded in the commit
   * (`.Commit.Date.Human` is printed in it). @default 0
   */
  readonly timezoneOffsetMinutes?: number | undefined;
}

/**
 * werf's `.Commit.Date.Human`: Go's `time.Time.String()` of the commit time in the committer's
 * zone, e.g. `2024-03-01 12:30:00 +0300 +0300` (a zero offset prints as `+0000 UTC`, as on a
 * machine whose local zone is UTC).
 */
export function goTimeString(date: Date, offsetMinutes = 0): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const t = new Date(date.getTime() + offsetMinutes * 60_000);
  const ms = t.getUTCMilliseconds();
  const frac = ms === 0 ? '' : '.' + p(ms, 3).replace(/0+$/, '');
  const sign = offsetMinutes < 0 ? '-' : '+';
  const abs = Math.abs(offsetMinutes);
  const off = `${sign}${p(Math.floor(abs / 60))}${p(abs % 60)}`;
  const zone = offsetMinutes === 0 ? 'UTC' : off;
  return `${t.getUTCFullYear()}-${p(t.getUTCMonth() + 1)}-${p(t.getUTCDate())} ${p(t.getUTCHours())}:${p(t.getUTCMinutes())}:${p(t.getUTCSeconds())}${frac} ${off} ${zone}`;
}

/** The root data werf renders `werf.yaml` with. */
export function createWerfData(options: { files: TemplateFiles; werfEnv?: string | undefined; commit: TemplateCommit }): GoMap {
  return new GoMap(new Map<string, GoValue>([
    ['Files', createFilesObject(options.files)],
    ['Env', options.werfEnv ?? ''],
    ['Commit', new GoMap(new Map<string, GoValue>([
      ['Hash', options.commit.hash],
      ['Date', new GoMap(new Map<string, GoValue>([
        ['Human', goTimeString(options.commit.date, options.commit.timezoneOffsetMinutes ?? 0)],
        ['Unix', String(Math.floor(options.commit.date.getTime() / 1000))],
      ]), 'string')],
    ]))],
  ]));
}

export interface RenderWerfConfigOptions extends WerfFunctionsOptions {
  /** The config file (`werf.yaml`); its path names the main template in errors. */
  readonly mainFile: { readonly path: string; readonly text: string };
  /**
   * Template files from the templates directory (`.werf/**\/*.tmpl`), with project-relative
   * paths. Each is registered under its path relative to `templatesDir` (`.werf/a/b.tmpl` → `a/b.tmpl`),
   * and its `define`s are shared with every other file. @default []
   */
  readonly extraTemplates?: readonly { readonly path: string; readonly text: string }[] | undefined;
  /** werf's `--config-templates-dir`. @default ".werf" */
  readonly templatesDir?: string | undefined;
  readonly files: TemplateFiles;
  /** werf's `--env` value, exposed as `.Env`. @default "" */
  readonly werfEnv?: string | undefined;
  readonly commit: TemplateCommit;
  readonly signal?: AbortSignal | undefined;
}

export type RenderWerfConfigResult = { readonly text: string } | { readonly error: TemplateError };

/**
 * Renders a templated `werf.yaml` the way werf does: partials from the templates directory are
 * parsed first (named by their path inside it), then the config itself, then the config is
 * executed with `.Files`, `.Env` and `.Commit`. Template failures are returned, not thrown.
 */
export function renderWerfConfig(options: RenderWerfConfigOptions): RenderWerfConfigResult {
  const set = new TemplateSet({ name: options.mainFile.path });
  set.addFuncs(createWerfFunctions(set, options));
  const dir = normalize(options.templatesDir ?? '.werf');
  try {
    const partials = [...(options.extraTemplates ?? [])].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    for (const t of partials) {
      const p = normalize(t.path);
      const name = p.startsWith(dir + '/') ? p.slice(dir.length + 1) : p;
      set.parse(name, t.text, { file: t.path });
    }
    const mainName = options.mainFile.path;
    set.parse(mainName, options.mainFile.text, { file: options.mainFile.path });
    const data = createWerfData({ files: options.files, werfEnv: options.werfEnv, commit: options.commit });
    return { text: set.execute(mainName, data, { signal: options.signal }) };
  } catch (e) {
    if (e instanceof TemplateError) return { error: e };
    throw e;
  }
}
