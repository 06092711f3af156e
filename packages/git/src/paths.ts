/**
 * Path normalisation and werf-compatible path matching (pure).
 *
 * The matchers reproduce the behaviour of werf's `path_matcher` package (facts read from werf's
 * source; the code is Strata's own): globs are doublestar globs, a glob that matches a directory
 * matches its subtree, and the lazy tree walk asks each directory "descend into it?"
 * ({@link PathMatcher.shouldGoThrough}) before "take it whole?" ({@link PathMatcher.isPathMatched}).
 */
import { GitError } from './repository.js';

/**
 * Go's `filepath.Clean` for `/`-separated relative paths, with werf's `formatPath` twist: `""` and
 * `"."` become `""`. A leading `/` is dropped (werf's `add` is written as an absolute path inside the
 * repository). Throws `GIT_PATH_OUTSIDE_REPOSITORY` when the path climbs above the root.
 */
export function normalizeRepoPath(input: string, what = 'path'): string {
  const out: string[] = [];
  for (const part of input.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length === 0) {
        throw new GitError('GIT_PATH_OUTSIDE_REPOSITORY', `${what} "${input}" points outside the repository`, {
          hint: 'Paths and globs in werf.yaml are relative to the repository (or to `add`); remove the leading `..`.',
          data: { path: input },
        });
      }
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

/** True when `path` is strictly below `base` (`base` `""` is the root, above every non-empty path). */
export function isStrictlyUnder(path: string, base: string): boolean {
  if (base === '') return path !== '';
  return path.length > base.length && path.startsWith(base) && path.charCodeAt(base.length) === 47;
}

/** `path` relative to `base`, assuming `path` is `base` or below it. */
export function relativeTo(path: string, base: string): string {
  if (base === '') return path;
  if (path === base) return '';
  return path.slice(base.length + 1);
}

const REGEX_SPECIAL = /[\\^$.*+?()[\]{}|/]/;

/**
 * Compiles a doublestar glob into an anchored RegExp. `*` and `?` stay within a segment, a whole
 * `**` segment matches any number of segments (zero included), `[…]`/`[!…]` are character classes,
 * `{a,b}` alternatives, `\` escapes. Throws `GIT_INVALID_GLOB` on an unbalanced `[` or `{`.
 */
export function compileGlob(glob: string): RegExp {
  let re = '';
  let depth = 0;
  const n = glob.length;
  let i = 0;
  while (i < n) {
    const c = glob[i]!;
    const atSegmentStart = i === 0 || glob[i - 1] === '/';
    if (c === '*' && glob[i + 1] === '*' && atSegmentStart && (i + 2 === n || glob[i + 2] === '/')) {
      if (i + 2 === n) {
        // Trailing `**`: anything, including nothing. `x/**` also matches `x` itself.
        if (re.endsWith('\\/')) re = `${re.slice(0, -2)}(?:\\/.*)?`;
        else re += '.*';
        i += 2;
      } else {
        re += '(?:[^/]*(?:\\/[^/]*)*\\/)?';
        i += 3;
      }
      continue;
    }
    switch (c) {
      case '*':
        re += '[^/]*';
        break;
      case '?':
        re += '[^/]';
        break;
      case '\\':
        i += 1;
        if (i < n) re += escapeRegex(glob[i]!);
        break;
      case '[': {
        const end = glob.indexOf(']', i + 2);
        if (end < 0) throw invalidGlob(glob, 'unterminated "["');
        let body = glob.slice(i + 1, end);
        let negate = false;
        if (body.startsWith('!') || body.startsWith('^')) {
          negate = true;
          body = body.slice(1);
        }
        const cls = body.replace(/[\\\]^]/g, (m) => `\\${m}`);
        re += negate ? `[^/${cls}]` : `[${cls}]`;
        i = end;
        break;
      }
      case '{':
        depth += 1;
        re += '(?:';
        break;
      case '}':
        if (depth === 0) {
          re += '\\}';
        } else {
          depth -= 1;
          re += ')';
        }
        break;
      case ',':
        re += depth > 0 ? '|' : ',';
        break;
      default:
        re += escapeRegex(c);
    }
    i += 1;
  }
  if (depth !== 0) throw invalidGlob(glob, 'unterminated "{"');
  return new RegExp(`^${re}$`, 's');
}

function escapeRegex(c: string): string {
  return REGEX_SPECIAL.test(c) ? `\\${c}` : c;
}

function invalidGlob(glob: string, why: string): GitError {
  return new GitError('GIT_INVALID_GLOB', `invalid glob "${glob}": ${why}`, {
    hint: 'Escape special characters `[{?*` with a backslash, or balance the brackets.',
    data: { path: glob },
  });
}

const regexCache = new Map<string, RegExp>();
function globRegex(glob: string): RegExp {
  let re = regexCache.get(glob);
  if (re === undefined) {
    re = compileGlob(glob);
    if (regexCache.size > 10_000) regexCache.clear();
    regexCache.set(glob, re);
  }
  return re;
}

/** werf's trim of trailing `*` and `/` (`a/*\/dir/**\/*` → `a/*\/dir`), keeping an escaped `\*`. */
export function trimGlobTail(glob: string): string {
  let end = glob.length;
  while (end > 0) {
    const c = glob[end - 1];
    if ((c === '*' || c === '/') && glob[end - 2] !== '\\') end -= 1;
    else break;
  }
  return glob.slice(0, end);
}

/** A glob that matches everything (`.`, `*`, `**`, `**\/*`, `/`). */
export function isUniversalGlob(glob: string): boolean {
  return glob === '' || glob === '.' || trimGlobTail(glob) === '';
}

/** One normalised glob with the three regexes werf tries: as is, tail-trimmed, trimmed + `/**\/*`. */
class Glob {
  readonly text: string;
  readonly universal: boolean;
  private readonly tries: RegExp;
  constructor(text: string) {
    this.text = text;
    this.universal = isUniversalGlob(text);
    const trimmed = trimGlobTail(text);
    const withTail = trimmed === '' ? '**/*' : `${trimmed}/**/*`;
    // One alternation instead of three tests: werf's three tries in a single pass.
    const sources = [...new Set([text, trimmed, withTail])].map((g) => globRegex(g).source.slice(1, -1));
    this.tries = new RegExp(`^(?:${sources.join('|')})$`, 's');
  }
  matchesPath(path: string): boolean {
    return this.tries.test(path);
  }
}

function makeGlobs(globs: readonly string[], what: string): Glob[] {
  return globs.map((g) => new Glob(normalizeRepoPath(g, what)));
}

/** Advances in-progress globs by one path segment (werf's `matchGlobs`). */
function stepGlobs(segment: string, globs: readonly string[]): { inProgress: string[]; matched: string[] } {
  const inProgress: string[] = [];
  const matched: string[] = [];
  for (const glob of globs) {
    const slash = glob.indexOf('/');
    const head = slash < 0 ? glob : glob.slice(0, slash);
    if (!globRegex(head).test(segment)) continue;
    if (head.includes('**')) inProgress.push(glob);
    else if (slash >= 0) inProgress.push(glob.slice(slash + 1));
    else matched.push(glob);
  }
  return { inProgress, matched };
}

/** A werf path matcher over repository-relative (or base-relative) paths; `""` is the root. */
export interface PathMatcher {
  /** The path (file, or directory taken whole) is in the result. */
  isPathMatched(path: string): boolean;
  /** The directory must be descended into: only part of its subtree may match. */
  shouldGoThrough(path: string): boolean;
}

const TRUE_MATCHER: PathMatcher = { isPathMatched: () => true, shouldGoThrough: () => false };

class IncludeMatcher implements PathMatcher {
  private readonly globs: Glob[];
  private readonly texts: string[];
  private readonly universal: boolean;
  constructor(globs: Glob[]) {
    this.globs = globs;
    this.texts = globs.map((g) => g.text);
    this.universal = globs.some((g) => g.universal);
  }
  isPathMatched(path: string): boolean {
    for (const g of this.globs) if (g.matchesPath(path)) return true;
    return false;
  }
  shouldGoThrough(path: string): boolean {
    if (this.universal) return false;
    if (path === '') return true;
    let inProgress = this.texts;
    for (const segment of path.split('/')) {
      if (inProgress.length === 0) break;
      inProgress = stepGlobs(segment, inProgress).inProgress;
    }
    return inProgress.length > 0 && !inProgress.some(isUniversalGlob);
  }
}

class ExcludeMatcher implements PathMatcher {
  private readonly globs: Glob[];
  private readonly texts: string[];
  private readonly universal: boolean;
  constructor(globs: Glob[]) {
    this.globs = globs;
    this.texts = globs.map((g) => g.text);
    this.universal = globs.some((g) => g.universal);
  }
  isPathMatched(path: string): boolean {
    for (const g of this.globs) if (g.matchesPath(path)) return false;
    return true;
  }
  shouldGoThrough(path: string): boolean {
    if (this.universal) return false;
    if (path === '') return true;
    let inProgress = this.texts;
    let matched: string[] = [];
    for (const segment of path.split('/')) {
      if (inProgress.length === 0) break;
      ({ inProgress, matched } = stepGlobs(segment, inProgress));
    }
    return matched.length === 0 && inProgress.length > 0 && !inProgress.some(isUniversalGlob);
  }
}

class MultiMatcher implements PathMatcher {
  constructor(private readonly matchers: readonly PathMatcher[]) {}
  isPathMatched(path: string): boolean {
    for (const m of this.matchers) if (!m.isPathMatched(path)) return false;
    return true;
  }
  shouldGoThrough(path: string): boolean {
    let goThrough = false;
    for (const m of this.matchers) {
      if (m.shouldGoThrough(path)) goThrough = true;
      else if (!m.isPathMatched(path)) return false;
    }
    return goThrough;
  }
}

class BasePathMatcher implements PathMatcher {
  constructor(
    private readonly base: string,
    private readonly inner: PathMatcher,
  ) {}
  isPathMatched(path: string): boolean {
    if (path !== this.base && !isStrictlyUnder(path, this.base)) return false;
    return this.inner.isPathMatched(relativeTo(path, this.base));
  }
  shouldGoThrough(path: string): boolean {
    if (isStrictlyUnder(this.base, path)) return true;
    if (path !== this.base && !isStrictlyUnder(path, this.base)) return false;
    return this.inner.shouldGoThrough(relativeTo(path, this.base));
  }
}

/** werf's `NewPathMatcher({BasePath, IncludeGlobs, ExcludeGlobs})`. */
export function createPathMatcher(options: {
  basePath?: string | undefined;
  includeGlobs?: readonly string[] | undefined;
  excludeGlobs?: readonly string[] | undefined;
  extra?: readonly PathMatcher[] | undefined;
}): PathMatcher {
  const matchers: PathMatcher[] = [];
  const include = options.includeGlobs ?? [];
  const exclude = options.excludeGlobs ?? [];
  if (include.length > 0) matchers.push(new IncludeMatcher(makeGlobs(include, 'include path')));
  if (exclude.length > 0) matchers.push(new ExcludeMatcher(makeGlobs(exclude, 'exclude path')));
  if (options.extra) matchers.push(...options.extra);
  const inner = matchers.length === 0 ? TRUE_MATCHER : matchers.length === 1 ? matchers[0]! : new MultiMatcher(matchers);
  const base = normalizeRepoPath(options.basePath ?? '', 'base path');
  return base === '' ? inner : new BasePathMatcher(base, inner);
}

/** All of `matchers` (werf's `MultiPathMatcher`). */
export function allOf(...matchers: PathMatcher[]): PathMatcher {
  return matchers.length === 1 ? matchers[0]! : new MultiMatcher(matchers);
}

/** A `.dockerignore` pattern in moby's syntax. */
interface IgnorePattern {
  exclusion: boolean;
  segments: RegExp[];
  regex: RegExp;
  hasDoubleStar: boolean;
  segmentTexts: string[];
}

/**
 * `.dockerignore` matching as Docker does it (moby `patternmatcher`): patterns are cleaned, a leading
 * `/` is ignored, `!` re-includes, the last matching pattern wins, and a pattern that matches a
 * parent directory matches everything below it. Paths are relative to the build context.
 */
export class DockerignoreMatcher implements PathMatcher {
  private readonly patterns: IgnorePattern[];
  constructor(lines: readonly string[]) {
    this.patterns = [];
    for (const raw of lines) {
      let line = raw.trim();
      if (line === '' || line.startsWith('#')) continue;
      let exclusion = false;
      if (line.startsWith('!')) {
        exclusion = true;
        line = line.slice(1).trim();
      }
      const text = normalizeRepoPath(line, 'dockerignore pattern');
      if (text === '') continue;
      const segmentTexts = text.split('/');
      this.patterns.push({
        exclusion,
        regex: globRegex(text),
        segments: segmentTexts.map((s) => (s === '**' ? /^.*$/s : globRegex(s))),
        hasDoubleStar: text.includes('**'),
        segmentTexts,
      });
    }
  }

  /** True when Docker would leave `path` out of the build context. */
  isIgnored(path: string): boolean {
    if (path === '') return false;
    const parents: string[] = [];
    let idx = path.indexOf('/');
    while (idx >= 0) {
      parents.push(path.slice(0, idx));
      idx = path.indexOf('/', idx + 1);
    }
    let ignored = false;
    for (const p of this.patterns) {
      if (p.exclusion !== ignored) continue;
      let hit = p.regex.test(path);
      if (!hit) for (const parent of parents) if (p.regex.test(parent)) { hit = true; break; }
      if (hit) ignored = !p.exclusion;
    }
    return ignored;
  }

  isPathMatched(path: string): boolean {
    return !this.isIgnored(path);
  }

  /** A directory is descended when some pattern could decide differently for part of its subtree. */
  shouldGoThrough(path: string): boolean {
    const ignored = this.isIgnored(path);
    const parts = path === '' ? [] : path.split('/');
    for (const p of this.patterns) {
      // While the directory is included only ignore patterns can cut into it, and vice versa.
      if (p.exclusion !== ignored) continue;
      if (couldMatchBelow(parts, p)) return true;
    }
    return false;
  }
}

function couldMatchBelow(dirParts: readonly string[], pattern: IgnorePattern): boolean {
  const segs = pattern.segmentTexts;
  for (let i = 0; i < dirParts.length; i++) {
    if (i >= segs.length) return false;
    if (segs[i] === '**') return true;
    if (!pattern.segments[i]!.test(dirParts[i]!)) return false;
  }
  return segs.length > dirParts.length;
}
