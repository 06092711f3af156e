/**
 * Path helpers (pure): werf's include/exclude semantics for imports, ancestry of paths, owners from
 * `/etc/passwd`, and the shell script a build container runs.
 */
import path from 'node:path';
import picomatch from 'picomatch';
import { DockerError } from './errors.js';

/** `/app/` → `app`; `/` → `` (tar names are relative to the container root). */
export function tarPath(absolute: string): string {
  return path.posix.normalize(`/${absolute}`).replace(/^\/+/, '').replace(/\/+$/, '');
}

/** `a/b` under `a` (strictly), for relative or absolute paths alike. */
export function isStrictlyUnder(child: string, parent: string): boolean {
  if (parent === '') return child !== '';
  return child.startsWith(`${parent}/`);
}

/** Joins relative tar names, dropping empty parts. */
export function joinTarPath(...parts: string[]): string {
  return parts.filter((part) => part !== '').join('/');
}

/** Every proper ancestor of a relative path, outermost first (`a/b/c` → `a`, `a/b`). */
export function ancestors(relative: string): string[] {
  const parts = relative.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}

/** werf treats `dir`, `dir/`, `dir/*` and `dir/**` alike: a glob naming a directory takes its subtree. */
function trimGlobTail(glob: string): string {
  let trimmed = glob.replace(/^\.?\/+/, '');
  for (;;) {
    const next = trimmed.replace(/\/\*\*$/, '').replace(/\/\*$/, '').replace(/\/+$/, '');
    if (next === trimmed) return trimmed;
    trimmed = next;
  }
}

/** A matcher that answers for a path or any of its ancestors (a matched directory takes its subtree). */
function subtreeMatcher(globs: readonly string[]): ((relative: string) => boolean) | undefined {
  if (globs.length === 0) return undefined;
  const universal = globs.some((glob) => ['.', '**', '*', '**/*', './**'].includes(glob.trim()));
  if (universal) return () => true;
  const matchers = globs.map((glob) => picomatch(trimGlobTail(glob), { dot: true }));
  return (relative) => {
    const candidates = [...ancestors(relative), relative];
    return candidates.some((candidate) => matchers.some((match) => match(candidate)));
  };
}

/**
 * werf's include/exclude filter for imports, over paths relative to the import's `add`: a path is
 * kept when some include glob matches it or an ancestor (all paths when there are none) and no exclude
 * glob does. `keepsDescendants` says whether a directory may still lead to kept paths.
 */
export interface PathSelection {
  keeps(relative: string): boolean;
}

export function createPathSelection(includePaths: readonly string[], excludePaths: readonly string[]): PathSelection {
  const include = subtreeMatcher(includePaths);
  const exclude = subtreeMatcher(excludePaths);
  return {
    keeps: (relative) => relative === '' || ((include?.(relative) ?? true) && !(exclude?.(relative) ?? false)),
  };
}

/** Single-quotes a word for POSIX sh. */
export function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** The marker the build script prints when a step fails: `<marker> <step> <exit code>`. */
export const FAILURE_MARKER = '__strata_step_failed__';

/**
 * The script of a build container (run by `/bin/sh -ec`): the service deletions of git patches, then
 * the user's commands in order, sharing one shell as in werf. A trap prints {@link FAILURE_MARKER} with
 * the failing step (0 = service step) and exit code so the executor can name the command.
 */
export function buildScript(serviceLines: readonly string[], commands: readonly string[]): string {
  const lines = [
    `__strata_step=0`,
    `trap '__strata_rc=$?; if [ "$__strata_rc" -ne 0 ]; then echo "${FAILURE_MARKER} $__strata_step $__strata_rc" >&2; fi' EXIT`,
    ...serviceLines,
  ];
  commands.forEach((command, index) => {
    lines.push(`__strata_step=${index + 1}`, command);
  });
  return `${lines.join('\n')}\n`;
}

/** Reads the failure marker out of a build's output; returns the output without it. */
export function readFailureMarker(lines: readonly string[]): { step?: number | undefined; exitCode?: number | undefined; output: string[] } {
  let step: number | undefined;
  let exitCode: number | undefined;
  const output: string[] = [];
  for (const line of lines) {
    const match = new RegExp(`^${FAILURE_MARKER} (\\d+) (\\d+)$`).exec(line);
    if (match) {
      step = Number(match[1]);
      exitCode = Number(match[2]);
    } else {
      output.push(line);
    }
  }
  return { step, exitCode, output };
}

/**
 * Shell lines deleting `relativePaths` (container-root relative) and then the directories left empty
 * below `stopAt` (as `git apply` removes emptied leading directories).
 */
export function deletionLines(relativePaths: readonly string[], stopAt: string): string[] {
  if (relativePaths.length === 0) return [];
  const lines: string[] = [];
  const batch = 64;
  for (let i = 0; i < relativePaths.length; i += batch) {
    lines.push(`rm -rf -- ${relativePaths.slice(i, i + batch).map((p) => shellQuote(`/${p}`)).join(' ')}`);
  }
  const dirs = new Set<string>();
  for (const p of relativePaths) for (const dir of ancestors(p)) if (isStrictlyUnder(dir, stopAt)) dirs.add(dir);
  const deepestFirst = [...dirs].sort((a, b) => b.split('/').length - a.split('/').length || (a < b ? 1 : -1));
  for (const dir of deepestFirst) lines.push(`rmdir -- ${shellQuote(`/${dir}`)} 2>/dev/null || :`);
  return lines;
}

/** One `name:x:id:…` line per account, as in `/etc/passwd` and `/etc/group`. */
function lookupId(table: string, name: string): number | undefined {
  for (const line of table.split('\n')) {
    const [entry, , id] = line.split(':');
    if (entry === name && id !== undefined && /^\d+$/.test(id)) return Number(id);
  }
  return undefined;
}

/**
 * The numeric id for an `owner` / `group` value: a number as is, a name looked up in `table` (the
 * image's `/etc/passwd` or `/etc/group`). `undefined` in, `undefined` out.
 * @throws DockerError `DOCKER_UNKNOWN_OWNER` when the name is not in the table.
 */
export function resolveId(value: string | undefined, table: string | undefined, kind: 'owner' | 'group', where: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (/^\d+$/.test(value)) return Number(value);
  const id = table === undefined ? undefined : lookupId(table, value);
  if (id === undefined) {
    const file = kind === 'owner' ? '/etc/passwd' : '/etc/group';
    throw new DockerError('DOCKER_UNKNOWN_OWNER', `${kind} ${JSON.stringify(value)} is not in ${file} of ${where}`, {
      hint: `Create the ${kind === 'owner' ? 'user' : 'group'} in an earlier stage (e.g. beforeInstall) or use a numeric id.`,
      data: { value },
    });
  }
  return id;
}
