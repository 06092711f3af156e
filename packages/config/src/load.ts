import { isAbsolute, join, relative, sep } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { TemplateFiles } from '@strata/gotemplate';
import { ConfigError, type ConfigProblem, type ParseResult } from './problems.js';
import { parseConfig } from './parse.js';
import { WorkingTreeConfigSource, type ConfigSource } from './source.js';
import { isTemplated, type ConfigTemplateOptions } from './template.js';
import { renderConfigText } from './text.js';
import type { ResolvedConfig } from './types.js';

export interface LoadConfigOptions {
  /**
   * The config file, relative to `projectDir` (or absolute).
   * @default "werf.yaml", then "werf.yml"
   */
  configPath?: string;
  /** See {@link ParseConfigOptions.allowContextAddFiles}. @default false */
  allowContextAddFiles?: boolean;
  /** See {@link ParseConfigOptions.hostPlatform}. @default the platform of this Node process ({@link hostPlatformOf}) */
  hostPlatform?: string;
  /**
   * Where the config, its partials and `.Files` are read from: a commit (giterminism) or the
   * working tree.
   * @default new WorkingTreeConfigSource(projectDir) (the working tree, no `.Commit`)
   */
  source?: ConfigSource;
  /** The environment templates read with `env`. @default {} (the caller passes `process.env` explicitly) */
  env?: Readonly<Record<string, string | undefined>>;
  /**
   * Variables `env` may read, added to those `werf-giterminism.yaml` (from the source) allows in
   * `config.goTemplateRendering.allowEnvVariables`. Names, or `/regex/` entries.
   * @default []
   */
  allowedEnv?: readonly string[];
  /** werf's `--env`, seen as `.Env` by templates. @default "" */
  werfEnv?: string;
  /** werf's `--config-templates-dir`: where `**\/*.tmpl` partials live, relative to the project. @default ".werf" */
  templatesDir?: string;
  signal?: AbortSignal;
}

/** Candidate file names, in the order werf looks for them. */
export const DEFAULT_CONFIG_FILES = ['werf.yaml', 'werf.yml'] as const;

/** werf's giterminism config, read from the project's source. */
const GITERMINISM_FILE = 'werf-giterminism.yaml';

/** A config file read and made ready to parse: plain YAML, or a template with what renders it. */
interface ConfigInput {
  file: string;
  text: string;
  template?: ConfigTemplateOptions;
}

/** The outcome of {@link renderConfig}. */
export type RenderConfigResult = { ok: true; file: string; text: string; templated: boolean } | { ok: false; problems: ConfigProblem[] };

/**
 * Finds and parses the project's config, read from `options.source` (the working tree by default).
 * A templated config (one with `{{`) is rendered first with werf's functions and data: partials
 * from the templates directory, `.Files` from the same source (only the files the template reads
 * are loaded), `.Commit` from the source, `env` limited to the allowed variables. A missing file is
 * a `CONFIG_NOT_FOUND` problem naming the paths tried; an unreadable one is `CONFIG_READ_FAILED`.
 * Aborting rejects with the signal's reason. Problem and config file paths are
 * `join(projectDir, <file>)`.
 */
export async function loadConfig(projectDir: string, options: LoadConfigOptions = {}): Promise<ParseResult> {
  const input = await readConfigInput(projectDir, options);
  if ('problems' in input) return { ok: false, problems: input.problems };
  return parseConfig(input.text, {
    path: input.file,
    allowContextAddFiles: options.allowContextAddFiles ?? false,
    hostPlatform: options.hostPlatform ?? hostPlatformOf(process.arch),
    ...(input.template === undefined ? {} : { template: input.template }),
  });
}

/**
 * Reads the config like {@link loadConfig} and returns the YAML text it would parse (the rendered
 * template, or the file as is), without validating it: `strata config render`.
 */
export async function renderConfig(projectDir: string, options: LoadConfigOptions = {}): Promise<RenderConfigResult> {
  const input = await readConfigInput(projectDir, options);
  if ('problems' in input) return { ok: false, problems: input.problems };
  const result = renderConfigText(input.text, input.file, input.template);
  return result.ok ? { ok: true, file: input.file, text: result.text, templated: input.template !== undefined } : result;
}

async function readConfigInput(projectDir: string, options: LoadConfigOptions): Promise<ConfigInput | { problems: ConfigProblem[] }> {
  const source = options.source ?? new WorkingTreeConfigSource(projectDir);
  const signal = options.signal;
  const candidates = options.configPath !== undefined
    ? [toProjectPath(projectDir, options.configPath)]
    : [...DEFAULT_CONFIG_FILES];
  for (const candidate of candidates) {
    signal?.throwIfAborted();
    const path = join(projectDir, candidate);
    let text: string | undefined;
    try {
      text = await source.findFile(candidate, { signal });
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { problems: [fileProblem('CONFIG_READ_FAILED', path, `cannot read the config file from ${source.description}: ${(error as Error).message}`, 'Check the file permissions.')] };
    }
    if (text === undefined) continue;
    if (!isTemplated(text)) return { file: path, text };
    try {
      return { file: path, text, template: await templateOptions(projectDir, candidate, text, { source, ...options }) };
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      return { problems: [fileProblem('CONFIG_READ_FAILED', path, `cannot read the files the config template needs from ${source.description}: ${(error as Error).message}`, 'Check the file permissions.')] };
    }
  }
  const tried = candidates.map((candidate) => join(projectDir, candidate));
  const first = tried[0] ?? join(projectDir, 'werf.yaml');
  return {
    problems: [
      fileProblem('CONFIG_NOT_FOUND', first, `no config file found in ${source.description}; tried ${tried.join(', ')}`, 'Create werf.yaml in the project directory (and commit it, unless in development mode), or pass the config path.'),
    ],
  };
}

/** A config path as the source sees it: relative to the project, `/`-separated. */
function toProjectPath(projectDir: string, configPath: string): string {
  const rel = isAbsolute(configPath) ? relative(projectDir, configPath) : configPath;
  return rel.split(sep).join('/');
}

/** How many render passes may discover new files before loading gives up on discovering more. */
const MAX_DISCOVERY_PASSES = 32;

/**
 * Gathers everything a template render needs from the source. Template functions are synchronous,
 * so `.Files` is a snapshot: the template is rendered, the files it asked for are loaded, and it is
 * rendered again until it asks for nothing new. Only the files it reads are loaded (the listing only
 * when it globs or checks existence).
 */
async function templateOptions(
  projectDir: string,
  configPath: string,
  text: string,
  options: LoadConfigOptions & { source: ConfigSource },
): Promise<ConfigTemplateOptions> {
  const { source, signal } = options;
  const templatesDir = (options.templatesDir ?? '.werf').replace(/^\.\/+/, '').replace(/\/+$/, '');
  const [partialPaths, giterminism, commit] = await Promise.all([
    source.listFiles(templatesDir, { signal }),
    source.findFile(GITERMINISM_FILE, { signal }),
    source.findCommit({ signal }),
  ]);
  const partials = await Promise.all(
    partialPaths.filter((p) => p.endsWith('.tmpl')).map(async (path) => ({ path, text: (await source.findFile(path, { signal })) ?? '' })),
  );
  const allowedEnv = [...(options.allowedEnv ?? []), ...allowedEnvOf(giterminism)];
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;

  const known = new Map<string, string | undefined>();
  let listing: string[] | undefined;
  const base: ConfigTemplateOptions = {
    configPath,
    projectDir,
    partials,
    templatesDir,
    env: options.env ?? {},
    allowedEnv,
    werfEnv: options.werfEnv,
    commit,
    signal,
  };
  for (let pass = 0; pass < MAX_DISCOVERY_PASSES; pass++) {
    signal?.throwIfAborted();
    const wanted = new Set<string>();
    let wantsListing = false;
    const files: TemplateFiles = {
      find(path) {
        if (known.has(path)) return known.get(path);
        wanted.add(path);
        return ''; // a placeholder: this pass's output is discarded
      },
      paths() {
        if (listing !== undefined) return listing;
        wantsListing = true;
        return [];
      },
    };
    renderConfigText(body, configPath, { ...base, files });
    if (wanted.size === 0 && !wantsListing) break;
    if (wantsListing) listing = await source.listFiles('', { signal });
    await Promise.all([...wanted].map(async (path) => known.set(path, await source.findFile(path, { signal }))));
  }
  const snapshot: TemplateFiles = {
    find: (path) => known.get(path),
    paths: () => listing ?? [...known].filter(([, content]) => content !== undefined).map(([path]) => path),
  };
  return { ...base, files: snapshot };
}

/** `config.goTemplateRendering.allowEnvVariables` of a werf-giterminism.yaml text (none when absent or malformed). */
function allowedEnvOf(text: string | undefined): string[] {
  if (text === undefined) return [];
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch {
    return [];
  }
  const list = (doc as { config?: { goTemplateRendering?: { allowEnvVariables?: unknown } } } | null)?.config?.goTemplateRendering?.allowEnvVariables;
  return Array.isArray(list) ? list.filter((v): v is string => typeof v === 'string') : [];
}

/**
 * Like {@link loadConfig}, but throws a {@link ConfigError} (with every problem in `data.problems`)
 * instead of returning problems.
 */
export async function getConfig(projectDir: string, options: LoadConfigOptions = {}): Promise<{ config: ResolvedConfig; warnings: ConfigProblem[] }> {
  const result = await loadConfig(projectDir, options);
  if (!result.ok) throw new ConfigError(result.problems[0]?.file ?? projectDir, result.problems);
  return { config: result.config, warnings: result.warnings };
}

/** The OCI platform (`linux/amd64`) of a Node `process.arch` value. */
export function hostPlatformOf(arch: string): string {
  const map: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm/v7', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };
  return `linux/${map[arch] ?? arch}`;
}

function fileProblem(code: 'CONFIG_NOT_FOUND' | 'CONFIG_READ_FAILED', file: string, message: string, hint: string): ConfigProblem {
  return { code, severity: 'error', message, file, line: 1, column: 1, path: '', pathSegments: [], hint };
}
