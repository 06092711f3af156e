/**
 * Rendering a templated werf.yaml (pure): Go templates through `@strata/gotemplate`, template
 * failures as located problems, and a best-effort map from rendered lines back to template lines.
 */
import { posix } from 'node:path';
import { renderWerfConfig, type TemplateError, type TemplateFiles } from '@strata/gotemplate';
import type { ConfigProblem } from './problems.js';
import type { ConfigCommit } from './source.js';

/** A template file given as text: a partial from the templates directory. */
export interface ConfigTemplateFile {
  /** Project-relative path (`.werf/partials/base.tmpl`). */
  readonly path: string;
  readonly text: string;
}

/**
 * What a templated config is rendered with. Every field is optional so that pure callers can render
 * a self-contained template; {@link loadConfig} fills them from a {@link ConfigSource}.
 */
export interface ConfigTemplateOptions {
  /**
   * The config file's path relative to the project: the main template's name in Go's messages.
   * @default the base name of `ParseConfigOptions.path`
   */
  readonly configPath?: string | undefined;
  /**
   * Joined in front of project-relative paths (partials, files read by `.Files`) in problems.
   * @default "" (problems name project-relative paths)
   */
  readonly projectDir?: string | undefined;
  /** Files for `.Files.*`, a snapshot. @default no files */
  readonly files?: TemplateFiles | undefined;
  /** Partials from the templates directory (`.werf/**\/*.tmpl`), available to `include`. @default [] */
  readonly partials?: readonly ConfigTemplateFile[] | undefined;
  /** werf's `--config-templates-dir`, relative to the project. @default ".werf" */
  readonly templatesDir?: string | undefined;
  /** The environment `env` reads. @default {} */
  readonly env?: Readonly<Record<string, string | undefined>> | undefined;
  /**
   * Variables `env` may read (giterminism): names or `/regex/` entries, or a predicate; reading any
   * other is a `TEMPLATE_ENV_FORBIDDEN` problem.
   * @default none
   */
  readonly allowedEnv?: readonly string[] | ((name: string) => boolean) | undefined;
  /** werf's `--env`, seen as `.Env`. @default "" */
  readonly werfEnv?: string | undefined;
  /** `.Commit`. @default hash "" and the Unix epoch (no commit, e.g. a plain directory) */
  readonly commit?: ConfigCommit | undefined;
  /** Stops a long render (checked between `range` iterations); rendering then throws the signal's reason. */
  readonly signal?: AbortSignal | undefined;
}

/** Where a rendered position came from. */
export interface TemplateLocation {
  file: string;
  line: number;
  column: number;
}

/** A successful render: the YAML and a way back to the template for positions in it. */
export interface RenderedTemplate {
  text: string;
  /** The template position that produced rendered `line`/`column` (1-based), when known. */
  locate(line: number, column: number): TemplateLocation | undefined;
}

const EMPTY_FILES: TemplateFiles = { find: () => undefined, paths: () => [] };
const NO_COMMIT: ConfigCommit = { hash: '', date: new Date(0) };

/** Whether `text` contains a Go template action (and therefore needs rendering). */
export function isTemplated(text: string): boolean {
  return text.includes('{{');
}

/**
 * Renders `text` (the config file, BOM already removed) with werf's functions and data. Returns the
 * rendered text with a position map, or the template failure as one problem located in the
 * template file (`TEMPLATE_ERROR`, or `TEMPLATE_ENV_FORBIDDEN` for giterminism).
 */
export function renderTemplate(text: string, file: string, options: ConfigTemplateOptions): { ok: true; rendered: RenderedTemplate } | { ok: false; problems: ConfigProblem[] } {
  const configPath = options.configPath ?? posix.basename(file.replaceAll('\\', '/'));
  const projectDir = options.projectDir ?? '';
  const display = (relative: string): string => (relative === configPath ? file : projectDir === '' ? relative : posix.join(projectDir.replaceAll('\\', '/'), relative));
  const files = options.files ?? EMPTY_FILES;
  const read = new Map<string, string>();
  const tracked: TemplateFiles = {
    find(path) {
      const content = files.find(path);
      if (content !== undefined) read.set(path, content);
      return content;
    },
    paths: () => files.paths(),
  };
  const partials = options.partials ?? [];
  const result = renderWerfConfig({
    mainFile: { path: configPath, text },
    extraTemplates: partials,
    templatesDir: options.templatesDir,
    files: tracked,
    env: options.env ?? {},
    allowedEnv: options.allowedEnv,
    werfEnv: options.werfEnv,
    commit: options.commit ?? NO_COMMIT,
    signal: options.signal,
  });
  if ('error' in result) {
    const templatesDir = posix.normalize(options.templatesDir ?? '.werf').replace(/\/+$/, '');
    const partialPaths = new Map(partials.map((p) => [p.path.startsWith(`${templatesDir}/`) ? p.path.slice(templatesDir.length + 1) : p.path, p.path]));
    return { ok: false, problems: [templateProblem(result.error, { file, configPath, display, read, partialPaths })] };
  }

  const sources: SourceText[] = [{ file, text }, ...partials.map((p) => ({ file: display(p.path), text: p.text }))];
  for (const [path, content] of read) sources.push({ file: display(path), text: content });
  const index = new LineIndex(sources);
  const renderedLines = result.text.split('\n');
  return {
    ok: true,
    rendered: {
      text: result.text,
      locate: (line, column) => index.locate(renderedLines, line, column),
    },
  };
}

function templateProblem(
  error: TemplateError,
  context: {
    file: string;
    configPath: string;
    display: (relative: string) => string;
    read: ReadonlyMap<string, string>;
    /** Partial template name → its project-relative path. */
    partialPaths: ReadonlyMap<string, string>;
  },
): ConfigProblem {
  let source = error.file;
  let line = error.line;
  let column = error.column;
  if (line < 1) {
    // A failure without a location of its own (a defence: gotemplate now locates include of an
    // undefined template at its call site): use the innermost `template: NAME:LINE:COL:` of Go's
    // message (COL is 0-based there).
    const innermost = [...error.message.matchAll(/template: ([^:\s]+):(\d+):(\d+): /g)].at(-1);
    if (innermost !== undefined) {
      const name = innermost[1] ?? '';
      source = name === context.configPath ? name : (context.partialPaths.get(name) ?? name);
      line = Number(innermost[2]);
      column = Number(innermost[3]) + 1;
    } else {
      source = context.configPath;
    }
  }
  let file = source === '' ? context.file : context.display(source);
  line = Math.max(1, line);
  column = Math.max(1, column);
  let note = '';
  if (/^tpl-\d+$/.test(source)) {
    // `tpl` text has no file name; find the read file that has the failing action on that line.
    const node = /at <([^>]*)>: [^<]*$/.exec(error.message)?.[1];
    const owners = node === undefined ? [] : [...context.read].filter(([, content]) => content.split('\n')[error.line - 1]?.includes(node));
    const owner = owners.length === 1 ? owners[0] : undefined;
    if (owner !== undefined) {
      file = context.display(owner[0]);
    } else {
      file = context.file;
      line = 1;
      column = 1;
      note = ` (in text rendered by tpl, line ${error.line}, column ${error.column})`;
    }
  }
  const forbidden = error.code === 'TEMPLATE_FORBIDDEN';
  return {
    code: forbidden ? 'TEMPLATE_ENV_FORBIDDEN' : 'TEMPLATE_ERROR',
    severity: 'error',
    message: `${error.message}${note}`,
    file,
    line,
    column,
    path: 'template',
    pathSegments: [],
    hint: forbidden
      ? 'Allow the variable in werf-giterminism.yaml (config.goTemplateRendering.allowEnvVariables) or with --allow-env NAME.'
      : (error.hint ?? 'Fix the template; `strata config render` shows the rendered config.'),
  };
}

interface SourceText {
  file: string;
  text: string;
}

interface SourceLine {
  file: string;
  /** 1-based line in `file`. */
  line: number;
  /**
   * Matches a whole rendered line this line can produce: any indentation, then the literal runs
   * (one capture group each, `d` flag for their offsets) with anything in place of each action.
   */
  pattern: RegExp;
  /** The 1-based source column where each literal run (capture group) starts, after indentation. */
  runColumns: number[];
  /** 1-based source column of the first non-blank character (or action) of the line. */
  firstColumn: number;
}

/**
 * Maps rendered lines back to template lines by their literal text: a rendered line belongs to a
 * source line when it equals the line's literal parts with anything in place of each action
 * (indentation ignored, since `nindent`/`indent` shift it). Lines that only hold actions, or no
 * text, are never candidates. Ambiguity (a line repeated in several places) is settled by the
 * neighbouring lines; when it stays ambiguous, or nothing matches, the position is unknown. A
 * column inside a literal run maps to the same character in the template; a column in text an
 * action produced maps to that action.
 */
class LineIndex {
  readonly #byFile = new Map<string, (SourceLine | undefined)[]>();
  readonly #all: SourceLine[] = [];

  constructor(sources: readonly SourceText[]) {
    for (const source of sources) {
      if (this.#byFile.has(source.file)) continue;
      const lines = sourceLines(source);
      this.#byFile.set(source.file, lines);
      this.#all.push(...lines.filter((l): l is SourceLine => l !== undefined));
    }
  }

  locate(rendered: readonly string[], line: number, column: number): TemplateLocation | undefined {
    const text = rendered[line - 1];
    if (text === undefined || text.trim() === '') return undefined;
    const candidates = this.#all.filter((s) => s.pattern.test(text));
    let best: SourceLine | undefined;
    if (candidates.length === 1) {
      best = candidates[0];
    } else if (candidates.length > 1) {
      const scored = candidates.map((c) => ({ c, score: this.#context(rendered, line - 1, c) }));
      const top = Math.max(...scored.map((s) => s.score));
      const winners = scored.filter((s) => s.score === top);
      if (top > 0 && winners.length === 1) best = winners[0]?.c;
    }
    if (best === undefined) return undefined;
    return { file: best.file, line: best.line, column: mapColumn(best, text, column) };
  }

  /** How many of the 3 nearest non-blank lines on each side match the candidate's neighbours. */
  #context(rendered: readonly string[], index: number, candidate: SourceLine): number {
    const lines = this.#byFile.get(candidate.file) ?? [];
    let score = 0;
    for (const direction of [-1, 1]) {
      let r = index;
      let s = candidate.line - 1;
      for (let step = 0; step < 3; step++) {
        r = nextNonBlank(rendered, r + direction, direction);
        s += direction;
        while (s >= 0 && s < lines.length && lines[s] === undefined) s += direction;
        const source = lines[s];
        const text = rendered[r];
        if (source === undefined || text === undefined || !source.pattern.test(text)) break;
        score++;
      }
    }
    return score;
  }
}

/** The template column of rendered `column` (1-based) on a rendered line `text` produced by `source`. */
function mapColumn(source: SourceLine, text: string, column: number): number {
  const match = source.pattern.exec(text);
  const indices = match?.indices;
  if (indices === undefined) return source.firstColumn;
  const offset = column - 1;
  const firstRun = indices[1];
  // In the indentation: the same distance before the first character (indentation may differ).
  if (firstRun !== undefined && offset < firstRun[0] && text.slice(0, firstRun[0]).trim() === '') {
    return Math.max(1, source.firstColumn - (firstRun[0] - offset));
  }
  let column1 = source.firstColumn;
  for (let group = 1; group < indices.length; group++) {
    const span = indices[group];
    const runColumn = source.runColumns[group - 1];
    if (span === undefined || runColumn === undefined) continue;
    const [from, to] = span;
    if (offset < from) break; // in an action's output before this run
    if (offset < to) return runColumn + (offset - from);
    column1 = runColumn + (to - from); // just after this run: the next action starts here
  }
  return column1;
}

function nextNonBlank(lines: readonly string[], from: number, direction: number): number {
  let i = from;
  while (i >= 0 && i < lines.length && (lines[i] ?? '').trim() === '') i += direction;
  return i;
}

/** Per line of a source (index = line - 1): its matcher, or undefined for lines that cannot be located. */
function sourceLines(source: SourceText): (SourceLine | undefined)[] {
  const text = source.text;
  const actions = [...text.matchAll(/\{\{[\s\S]*?\}\}/g)].map((m) => [m.index, m.index + m[0].length] as const);
  const out: (SourceLine | undefined)[] = [];
  let lineStart = 0;
  let next = 0; // first action that may touch this line
  text.split('\n').forEach((rawLine, index) => {
    const lineText = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    const lineEnd = lineStart + lineText.length;
    // Literal runs of the line between the actions that overlap it.
    const runs: { start: number; text: string }[] = [];
    const gaps: boolean[] = []; // gaps[i]: an action comes before run i
    let cursor = lineStart;
    let pendingAction = false;
    while (next < actions.length && (actions[next]?.[1] ?? 0) <= lineStart) next++;
    for (let a = next; a < actions.length; a++) {
      const [from, to] = actions[a] as readonly [number, number];
      if (from >= lineEnd) break;
      if (from > cursor) {
        runs.push({ start: cursor, text: text.slice(cursor, from) });
        gaps.push(pendingAction);
      }
      pendingAction = true;
      cursor = Math.max(cursor, to);
    }
    if (cursor < lineEnd) {
      runs.push({ start: cursor, text: text.slice(cursor, lineEnd) });
      gaps.push(pendingAction);
      pendingAction = false;
    }
    const trailingAction = pendingAction;
    lineStart += rawLine.length + 1;

    const literal = runs.map((r) => r.text).join('').trim();
    if (literal === '' || literal === '---') {
      out.push(undefined);
      return;
    }
    // Indentation: leading blanks of a first run that starts the line.
    const first = runs[0];
    if (first !== undefined && !gaps[0]) {
      const trimmed = first.text.trimStart();
      first.start += first.text.length - trimmed.length;
      first.text = trimmed;
    }
    const last = runs[runs.length - 1];
    if (last !== undefined && !trailingAction) last.text = last.text.trimEnd();
    // Runs as capture groups; a wildcard wherever an action was (consecutive ones merged).
    const parts: { start: number; text: string }[] = [];
    let pattern = '^\\s*';
    let wildcard = false;
    runs.forEach((run, i) => {
      if (gaps[i] === true) wildcard = true;
      if (run.text === '') return;
      if (wildcard) pattern += '.*?';
      wildcard = false;
      pattern += `(${escapeRegExp(run.text)})`;
      parts.push(run);
    });
    if (wildcard || trailingAction) pattern += '.*?';
    pattern += '\\s*$';
    const lineOffset = lineStart - rawLine.length - 1;
    out.push({
      file: source.file,
      line: index + 1,
      pattern: new RegExp(pattern, 'sd'),
      runColumns: parts.map((r) => r.start - lineOffset + 1),
      firstColumn: (first?.start ?? lineOffset) - lineOffset + 1,
    });
  });
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
