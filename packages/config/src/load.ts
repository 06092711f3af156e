import { readFile } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import { ConfigError, type ConfigProblem, type ParseResult } from './problems.js';
import { parseConfig } from './parse.js';
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
  signal?: AbortSignal;
}

/** Candidate file names, in the order werf looks for them. */
export const DEFAULT_CONFIG_FILES = ['werf.yaml', 'werf.yml'] as const;

/**
 * Finds and parses the project's config. Reads the working-tree file (templates and giterminism's
 * "read from the commit" come later). A missing file is a `CONFIG_NOT_FOUND` problem naming the
 * paths tried; an unreadable one is `CONFIG_READ_FAILED`. Aborting rejects with the signal's reason.
 * Problem and config file paths are `join(projectDir, <file>)`.
 */
export async function loadConfig(projectDir: string, options: LoadConfigOptions = {}): Promise<ParseResult> {
  const candidates = options.configPath !== undefined
    ? [isAbsolute(options.configPath) ? options.configPath : join(projectDir, options.configPath)]
    : DEFAULT_CONFIG_FILES.map((name) => join(projectDir, name));
  for (const path of candidates) {
    options.signal?.throwIfAborted();
    let text: string;
    try {
      text = await readFile(path, { encoding: 'utf8', signal: options.signal });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') continue;
      return { ok: false, problems: [fileProblem('CONFIG_READ_FAILED', path, `cannot read the config file: ${(error as Error).message}`, 'Check the file permissions.')] };
    }
    return parseConfig(text, {
      path,
      allowContextAddFiles: options.allowContextAddFiles ?? false,
      hostPlatform: options.hostPlatform ?? hostPlatformOf(process.arch),
    });
  }
  const first = candidates[0] ?? join(projectDir, 'werf.yaml');
  return {
    ok: false,
    problems: [
      fileProblem('CONFIG_NOT_FOUND', first, `no config file found; tried ${candidates.join(', ')}`, 'Create werf.yaml in the project directory, or pass the config path.'),
    ],
  };
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
