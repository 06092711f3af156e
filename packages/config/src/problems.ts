import { StrataError } from '@strata/errors';
import type { ResolvedConfig } from './types.js';

/**
 * Every problem the config parser reports. Stable: match on these, never on message text.
 *
 * Syntax and shape: `YAML_SYNTAX`, `DUPLICATE_KEY`, `UNKNOWN_KEY` (hint: the closest valid key),
 * `INVALID_TYPE`, `INVALID_VALUE`, `MISSING_KEY`, `CONFLICTING_KEYS`, `UNKNOWN_DOCUMENT`,
 * `TOO_MANY_ALIASES`.
 * Meta document: `META_MISSING`, `META_DUPLICATE`, `INVALID_CONFIG_VERSION`, `INVALID_PROJECT_NAME`.
 * Images: `INVALID_IMAGE_NAME`, `DUPLICATE_IMAGE_NAME`, `NAMELESS_IMAGE_NOT_ALONE`,
 * `ARTIFACT_FORBIDDEN_DIRECTIVE`, `PATH_NOT_ABSOLUTE`, `PATH_ESCAPES_PROJECT`,
 * `DUPLICATE_MOUNT_TARGET`, `CONTEXT_ADD_FILES_FORBIDDEN` (giterminism).
 * Cross-image: `UNKNOWN_IMAGE_REFERENCE`, `SELF_REFERENCE`, `DEPENDENCY_CYCLE`.
 * Templates: `TEMPLATE_ERROR` (a Go template failed to parse or execute: located in the template
 * file), `TEMPLATE_ENV_FORBIDDEN` (`env` of a variable giterminism does not allow).
 * Not supported yet: `UNSUPPORTED_ANSIBLE`, `UNSUPPORTED_GIT_URL`,
 * `UNSUPPORTED_STAGED`, `UNSUPPORTED_PLATFORM`, `UNSUPPORTED_SECRETS`, `UNSUPPORTED_FEATURE` (other
 * werf features such as `fromLatest`, `ssh`, `import.stage`).
 * Loading: `CONFIG_NOT_FOUND`, `CONFIG_READ_FAILED`.
 * Warnings: `DEPRECATED_DIRECTIVE`.
 * No longer reported (kept so existing matches still compile): `UNSUPPORTED_GO_TEMPLATE`.
 */
export type ConfigProblemCode =
  | 'YAML_SYNTAX'
  | 'DUPLICATE_KEY'
  | 'UNKNOWN_KEY'
  | 'INVALID_TYPE'
  | 'INVALID_VALUE'
  | 'MISSING_KEY'
  | 'CONFLICTING_KEYS'
  | 'UNKNOWN_DOCUMENT'
  | 'TOO_MANY_ALIASES'
  | 'META_MISSING'
  | 'META_DUPLICATE'
  | 'INVALID_CONFIG_VERSION'
  | 'INVALID_PROJECT_NAME'
  | 'INVALID_IMAGE_NAME'
  | 'DUPLICATE_IMAGE_NAME'
  | 'NAMELESS_IMAGE_NOT_ALONE'
  | 'ARTIFACT_FORBIDDEN_DIRECTIVE'
  | 'PATH_NOT_ABSOLUTE'
  | 'PATH_ESCAPES_PROJECT'
  | 'DUPLICATE_MOUNT_TARGET'
  | 'CONTEXT_ADD_FILES_FORBIDDEN'
  | 'UNKNOWN_IMAGE_REFERENCE'
  | 'SELF_REFERENCE'
  | 'DEPENDENCY_CYCLE'
  | 'UNSUPPORTED_GO_TEMPLATE'
  | 'UNSUPPORTED_ANSIBLE'
  | 'UNSUPPORTED_GIT_URL'
  | 'UNSUPPORTED_STAGED'
  | 'UNSUPPORTED_PLATFORM'
  | 'UNSUPPORTED_SECRETS'
  | 'UNSUPPORTED_FEATURE'
  | 'TEMPLATE_ERROR'
  | 'TEMPLATE_ENV_FORBIDDEN'
  | 'CONFIG_NOT_FOUND'
  | 'CONFIG_READ_FAILED'
  | 'DEPRECATED_DIRECTIVE';

/** One located problem in a config file. */
export interface ConfigProblem {
  code: ConfigProblemCode;
  severity: 'error' | 'warning';
  /** One sentence, without position (see {@link formatProblem}). */
  message: string;
  /** The config file path as given to the parser. */
  file: string;
  /** 1-based line in the original file (not in the YAML document). */
  line: number;
  /** 1-based column in the original file (UTF-16 code units). */
  column: number;
  /**
   * Human path of the offending node: `image "backend" → git[0].add`, `meta → build.platform`,
   * `artifact "jq" → shell`, or `document 3` for a document that is neither. Document numbers in
   * paths and messages count from 1 (the `document` field counts from 0).
   */
  path: string;
  /** The same path inside its document: keys and list indexes (`['git', 0, 'add']`). */
  pathSegments: (string | number)[];
  /** 0-based index of the YAML document, when the problem is inside one. */
  document?: number;
  /** What to do about it; for unknown keys, the closest valid key. */
  hint?: string;
  /**
   * Other places involved, in the same file: the first of two duplicates (keys, image names, meta
   * documents, mount targets), or every reference of a dependency cycle.
   */
  related?: { line: number; column: number; message: string }[];
  /**
   * Set when the config was rendered from a Go template and the problem was found in the rendered
   * YAML: its position there (the output of `strata config render`). With `mapped: true`, `file`,
   * `line` and `column` point at the template line that produced it; with `mapped: false` the origin
   * is unknown and they repeat the rendered position under the config file's name. `related`
   * positions of such a problem are rendered positions.
   */
  rendered?: { line: number; column: number; mapped: boolean };
}

/** The outcome of parsing: a complete config, or every problem found (never a partial config). */
export type ParseResult =
  | { ok: true; config: ResolvedConfig; warnings: ConfigProblem[] }
  | { ok: false; problems: ConfigProblem[] };

/**
 * `file:line:col: code: message (hint)`, the one-line form for terminals and CI logs. A problem in
 * rendered template output says so: `… [rendered config line N]` when its template line is known,
 * `file: in the rendered config at line N, column C (see \`strata config render\`): …` when not.
 */
export function formatProblem(problem: ConfigProblem): string {
  const hint = problem.hint ? ` (${problem.hint})` : '';
  const rendered = problem.rendered;
  if (rendered !== undefined && !rendered.mapped) {
    return `${problem.file}: in the rendered config at line ${rendered.line}, column ${rendered.column} (see \`strata config render\`): ${problem.code}: ${problem.message}${hint}`;
  }
  const where = `${problem.file}:${problem.line}:${problem.column}`;
  const suffix = rendered === undefined ? '' : ` [rendered config line ${rendered.line}]`;
  return `${where}: ${problem.code}: ${problem.message}${hint}${suffix}`;
}

export type ConfigErrorCode = 'CONFIG_INVALID';

/** Thrown by {@link getConfig}-style helpers; `data.problems` holds every problem found. */
export class ConfigError extends StrataError<ConfigErrorCode, { file: string; problems: ConfigProblem[] }> {
  constructor(file: string, problems: ConfigProblem[]) {
    const errors = problems.filter((p) => p.severity === 'error');
    const first = errors[0] ?? problems[0];
    const summary = first ? formatProblem(first) : `${file}: invalid config`;
    const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
    super('CONFIG_INVALID', `invalid werf config: ${summary}${more}`, {
      hint: 'Fix the problems listed in data.problems (each has a file, line and column).',
      data: { file, problems },
    });
  }
}
