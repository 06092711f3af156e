/**
 * A Dockerfile as the `dockerfile` stage digest sees it: parsed with `dockerfile-ast`, split into
 * build stages, expanded with ARG/ENV values, reduced to the target stage and the stages it needs.
 *
 * werf facts (`pkg/build/stage/full_dockerfile.go`): per Dockerfile stage the dependencies are
 * `addHost…`, the expanded `FROM` reference, then per instruction: `ARG k=v` / `ENV k=v` with resolved
 * values, for `COPY`/`ADD` the instruction text plus a checksum of the sources from git (`COPY --from`
 * has no checksum), any other instruction as its expanded text. A stage built `FROM` another stage, or
 * copying from one, gets that stage's dependencies appended. The result for the target is hashed with
 * the image `cacheVersion` appended when set.
 *
 * Decisions (differences from werf, where werf cannot be matched byte for byte without BuildKit):
 * - Instruction text is normalised from parsed arguments (keyword, `--flags`, arguments joined by one
 *   space; JSON forms re-serialised), so comments, line continuations and whitespace never matter.
 *   werf hashes BuildKit's `String()` of each instruction, which this does not reproduce exactly.
 * - `COPY --from=<name>` links the named stage (werf only links numeric `--from` indexes).
 * - ENV values win over ARG values of the same name during expansion (Docker's rule).
 */
import { Arg, DockerfileParser, Env, ModifiableInstruction, type Instruction } from 'dockerfile-ast';
import { DigestError } from '../digest/errors.js';
import { expandVariables } from './expand.js';

/** One instruction reduced to what the digest needs. */
export type AnalyzedInstruction =
  | { kind: 'text'; keyword: string; text: string }
  | {
      kind: 'copy';
      keyword: 'COPY' | 'ADD';
      /** Normalised, unexpanded instruction text (werf hashes the text as written). */
      text: string;
      /** Expanded source paths relative to the context, or `undefined` for `COPY --from`. */
      sources: readonly string[] | undefined;
    };

export interface AnalyzedStage {
  index: number;
  /** `AS` name, lower-cased (Dockerfile stage names are case-insensitive); `undefined` when unnamed. */
  name: string | undefined;
  /** The expanded `FROM` reference as written (an image ref, or another stage's name). */
  base: string;
  instructions: AnalyzedInstruction[];
  /** Indexes of earlier stages this one builds on or copies from. */
  uses: number[];
}

export interface AnalyzedDockerfile {
  /** Dockerfile path (for messages). */
  path: string;
  stages: AnalyzedStage[];
  targetIndex: number;
}

export interface AnalyzeDockerfileOptions {
  /** Dockerfile path, for messages. */
  path: string;
  /** `target`; the last stage when absent. */
  target?: string | undefined;
  /** `--build-arg` values (config `args`, then dependency args, which win). */
  buildArgs?: Readonly<Record<string, string>> | undefined;
  /**
   * Target platform (`os/arch[/variant]`), which seeds BuildKit's automatic platform args
   * (`TARGETPLATFORM`, `TARGETOS`, `TARGETARCH`, `TARGETVARIANT` and the `BUILD*` ones, the build host being
   * the target: only the host platform is supported).
   * @default "linux/amd64"
   */
  platform?: string | undefined;
}

/** BuildKit's automatic platform ARGs for a platform (werf `GetPlatformMetaArgsMap`). */
export function platformArgs(platform: string): Record<string, string> {
  const [os = '', arch = '', variant = ''] = platform.split('/');
  const args: Record<string, string> = {};
  for (const prefix of ['TARGET', 'BUILD']) {
    args[`${prefix}PLATFORM`] = platform;
    args[`${prefix}OS`] = os;
    args[`${prefix}ARCH`] = arch;
    args[`${prefix}VARIANT`] = variant;
  }
  return args;
}

const JSON_FORM_KEYWORDS = new Set(['CMD', 'ENTRYPOINT', 'RUN', 'SHELL', 'COPY', 'ADD', 'VOLUME', 'HEALTHCHECK']);

function jsonForm(content: string | null): string[] | undefined {
  const trimmed = content?.trim() ?? '';
  if (!trimmed.startsWith('[')) return undefined;
  try {
    const parsed: unknown = JSON.parse(trimmed);
    return Array.isArray(parsed) && parsed.every((item) => typeof item === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}

interface Parts {
  keyword: string;
  flags: { name: string; value: string | null }[];
  args: string[];
  json: string[] | undefined;
}

function partsOf(instruction: Instruction, escape: string): Parts {
  const keyword = instruction.getKeyword().toUpperCase();
  const flags =
    instruction instanceof ModifiableInstruction
      ? instruction.getFlags().map((flag) => ({ name: flag.getName(), value: flag.getValue() }))
      : [];
  // The arguments' text without flags, continuations or comment lines, split on unquoted whitespace so
  // spacing never matters but quoted text keeps its own.
  const content = instruction.getArgumentsContent() ?? '';
  const args = splitWords(content, escape);
  const json = JSON_FORM_KEYWORDS.has(keyword) ? jsonForm(content) : undefined;
  return { keyword, flags, args, json };
}

/**
 * The names (and defaults, `null` when none) an `ARG` declares: `ARG a b=2 c="x y"` declares three.
 * `dockerfile-ast` reads `ARG a b` in the legacy `ENV a b` way (one name, value `b`), so the arguments
 * are split here instead; surrounding quotes of a default are removed as BuildKit does.
 */
function argDeclarations(instruction: Arg, escape: string): { key: string; written: string | null }[] {
  return splitWords(instruction.getArgumentsContent() ?? '', escape).map((token) => {
    const equals = token.indexOf('=');
    if (equals === -1) return { key: token, written: null };
    let written = token.slice(equals + 1);
    const quote = written[0];
    if ((quote === '"' || quote === "'") && written.length >= 2 && written.endsWith(quote)) written = written.slice(1, -1);
    return { key: token.slice(0, equals), written };
  });
}

/**
 * The escape character the Dockerfile's parser directives choose. Directives can only stand in the
 * leading comment lines (the scan stops at the first blank line or instruction), so only those lines are
 * handed to the parser: the same answer as parsing the whole file, without parsing it twice.
 */
export function escapeCharacterOf(text: string): string {
  const lines = text.split('\n');
  let end = 0;
  while (end < lines.length && /^\uFEFF?[ \t]*#/.test(lines[end] ?? '')) end += 1;
  return end === 0 ? '\\' : DockerfileParser.parse(lines.slice(0, end).join('\n')).getEscapeCharacter();
}

/**
 * Drops comment and empty lines inside a continued instruction (`RUN a \\` / `# note` / `b`), which
 * Docker ignores but `dockerfile-ast` keeps in the instruction's arguments.
 */
export function stripContinuationComments(text: string, escape = '\\'): string {
  const kept: string[] = [];
  let continuing = false;
  for (const line of text.split(/\r?\n/)) {
    const trimmed = line.trim();
    if (continuing && (trimmed === '' || trimmed.startsWith('#'))) continue;
    kept.push(line);
    continuing = trimmed.endsWith(escape) && !trimmed.startsWith('#');
  }
  return kept.join('\n');
}

/** Splits on whitespace outside quotes; quotes and escapes stay in the words. */
export function splitWords(text: string, escape = '\\'): string[] {
  const words: string[] = [];
  let word = '';
  let quote: string | undefined;
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index] ?? '';
    if (char === escape && quote !== "'" && index + 1 < text.length) {
      word += char + (text[index + 1] ?? '');
      index += 1;
    } else if (quote !== undefined) {
      word += char;
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      word += char;
      quote = char;
    } else if (/\s/.test(char)) {
      if (word !== '') words.push(word);
      word = '';
    } else {
      word += char;
    }
  }
  if (word !== '') words.push(word);
  return words;
}

function render(parts: Parts, expand: (text: string) => string): string {
  const flags = parts.flags.map((flag) => (flag.value === null ? `--${flag.name}` : `--${flag.name}=${expand(flag.value)}`));
  const body = parts.json ? JSON.stringify(parts.json.map(expand)) : expand(parts.args.join(' '));
  return [parts.keyword, ...flags, body].filter((piece) => piece !== '').join(' ');
}

function targetNotFound(options: AnalyzeDockerfileOptions, names: (string | undefined)[]): DigestError {
  const known = names.filter((name): name is string => name !== undefined);
  return new DigestError(
    'DOCKERFILE_TARGET_NOT_FOUND',
    `target ${JSON.stringify(options.target)} is not a stage of ${options.path}`,
    {
      hint: known.length > 0 ? `Stages of ${options.path}: ${known.join(', ')}.` : `${options.path} has no named stages (FROM … AS name).`,
      data: { dockerfile: options.path, target: options.target },
    },
  );
}

/**
 * Parses and expands a Dockerfile. Throws `DOCKERFILE_INVALID` without `FROM` or with an empty base
 * reference, and `DOCKERFILE_TARGET_NOT_FOUND` for an unknown target. Pure.
 */
export function analyzeDockerfile(text: string, options: AnalyzeDockerfileOptions): AnalyzedDockerfile {
  const buildArgs = options.buildArgs ?? {};
  const escape = escapeCharacterOf(text);
  const dockerfile = DockerfileParser.parse(stripContinuationComments(text, escape));
  const instructions = dockerfile.getInstructions();

  const metaArgs = new Map<string, string>(Object.entries(platformArgs(options.platform ?? 'linux/amd64')));
  const stages: AnalyzedStage[] = [];
  let current: { stage: AnalyzedStage; args: Map<string, string>; env: Map<string, string> } | undefined;

  const metaLookup = (name: string): string | undefined => metaArgs.get(name);

  for (const instruction of instructions) {
    const parts = partsOf(instruction, escape);
    if (parts.keyword === 'FROM') {
      const image = parts.args[0] ?? '';
      const base = expandVariables(image, metaLookup, { escape });
      if (base === '') {
        throw new DigestError('DOCKERFILE_INVALID', `${options.path}: FROM ${image} names no base image`, {
          hint: 'Give the ARG used in FROM a default or a build arg.',
          data: { dockerfile: options.path },
        });
      }
      const asIndex = parts.args.findIndex((arg) => arg.toUpperCase() === 'AS');
      const name = asIndex >= 0 ? parts.args[asIndex + 1]?.toLowerCase() : undefined;
      const stage: AnalyzedStage = { index: stages.length, name, base, instructions: [], uses: [] };
      const usedBase = stages.find((other) => other.name === base.toLowerCase());
      if (usedBase) stage.uses.push(usedBase.index);
      stages.push(stage);
      current = { stage, args: new Map(), env: new Map() };
      continue;
    }

    if (!current) {
      // Before the first FROM only ARG is meaningful (meta args, used by FROM lines).
      if (instruction instanceof Arg) {
        for (const { key, written } of argDeclarations(instruction, escape)) {
          metaArgs.set(key, buildArgs[key] ?? (written === null ? '' : expandVariables(written, metaLookup, { escape })));
        }
      }
      continue;
    }

    const scope = current;
    const lookup = (name: string): string | undefined => scope.env.get(name) ?? scope.args.get(name);
    const expand = (value: string): string => expandVariables(value, lookup, { escape });

    if (instruction instanceof Arg) {
      for (const declaration of argDeclarations(instruction, escape)) {
        const key = expand(declaration.key);
        const written = declaration.written;
        const value =
          buildArgs[key] ?? (written === null || written === '' ? (metaArgs.get(key) ?? '') : expand(written));
        scope.args.set(key, value);
        scope.stage.instructions.push({ kind: 'text', keyword: 'ARG', text: `ARG ${key}=${value}` });
      }
      continue;
    }
    if (instruction instanceof Env) {
      for (const property of instruction.getProperties()) {
        const key = expand(property.getName());
        const value = expand(property.getValue() ?? '');
        scope.env.set(key, value);
        scope.stage.instructions.push({ kind: 'text', keyword: 'ENV', text: `ENV ${key}=${value}` });
      }
      continue;
    }
    if (parts.keyword === 'COPY' || parts.keyword === 'ADD') {
      const from = parts.flags.find((flag) => flag.name.toLowerCase() === 'from')?.value ?? undefined;
      const written = parts.json ?? parts.args;
      const sources = written.slice(0, -1).map(expand);
      if (from !== undefined && parts.keyword === 'COPY') {
        const source = expand(from).toLowerCase();
        const used = stages.find((other) => other.name === source || String(other.index) === source);
        if (used && used.index !== scope.stage.index) scope.stage.uses.push(used.index);
      }
      scope.stage.instructions.push({
        kind: 'copy',
        keyword: parts.keyword,
        text: render(parts, (value) => value),
        sources: from !== undefined && parts.keyword === 'COPY' ? undefined : sources,
      });
      continue;
    }
    if (parts.keyword === 'RUN') {
      for (const flag of parts.flags) {
        if (flag.name.toLowerCase() !== 'mount' || flag.value === null) continue;
        const mountFrom = /(?:^|,)from=([^,]+)/.exec(expand(flag.value))?.[1]?.toLowerCase();
        const used = stages.find((other) => other.name === mountFrom || String(other.index) === mountFrom);
        if (used && used.index !== scope.stage.index) scope.stage.uses.push(used.index);
      }
    }
    scope.stage.instructions.push({ kind: 'text', keyword: parts.keyword, text: render(parts, expand) });
  }

  if (stages.length === 0) {
    throw new DigestError('DOCKERFILE_INVALID', `${options.path} has no FROM instruction`, {
      hint: 'A Dockerfile starts its first build stage with FROM.',
      data: { dockerfile: options.path },
    });
  }
  let targetIndex = stages.length - 1;
  if (options.target !== undefined && options.target !== '') {
    const wanted = options.target.toLowerCase();
    const found = stages.find((stage) => stage.name === wanted);
    if (!found) throw targetNotFound(options, stages.map((stage) => stage.name));
    targetIndex = found.index;
  }
  return { path: options.path, stages, targetIndex };
}

/** The target stage and every stage it needs, transitively, in Dockerfile order. */
export function stagesNeededByTarget(dockerfile: AnalyzedDockerfile): AnalyzedStage[] {
  const needed = new Set<number>();
  const visit = (index: number): void => {
    if (needed.has(index)) return;
    needed.add(index);
    for (const used of dockerfile.stages[index]?.uses ?? []) visit(used);
  };
  visit(dockerfile.targetIndex);
  return dockerfile.stages.filter((stage) => needed.has(stage.index));
}

/** Every `COPY`/`ADD` with sources from the context, in the stages the target needs. */
export function contextSources(dockerfile: AnalyzedDockerfile): { stage: number; instruction: number; sources: readonly string[] }[] {
  return stagesNeededByTarget(dockerfile).flatMap((stage) =>
    stage.instructions.flatMap((instruction, index) =>
      instruction.kind === 'copy' && instruction.sources !== undefined
        ? [{ stage: stage.index, instruction: index, sources: instruction.sources }]
        : [],
    ),
  );
}
