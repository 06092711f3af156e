/**
 * `@strata/config`: werf.yaml → {@link ResolvedConfig}, with located, actionable problems.
 * Parsing (and rendering Go templates) is pure ({@link parseConfig}); {@link loadConfig} adds finding
 * and reading the files from a {@link ConfigSource} (a commit or the working tree).
 */
export type {
  ResolvedConfig,
  ResolvedBuildSettings,
  ResolvedDeploySettings,
  ResolvedCleanupSettings,
  CleanupKeepPolicy,
  CleanupReferences,
  CleanupLimit,
  ResolvedGitWorktreeSettings,
  ResolvedImage,
  ImageCommon,
  DockerfileImage,
  StapelImage,
  StapelFrom,
  GitMapping,
  GitStageDependencies,
  ShellStageName,
  ShellInstructions,
  StageAnchor,
  Import,
  DockerInstructions,
  Mount,
  Dependency,
  DependencyImport,
  DependencyImportType,
  ResolvedImageSpec,
  ResolvedImageSpecConfig,
  ImageSpecHealthcheck,
  SourcePosition,
} from './types.js';
export { NAMELESS_IMAGE_KEY, imageKey } from './types.js';
export type { ConfigProblem, ConfigProblemCode, ParseResult, ConfigErrorCode } from './problems.js';
export { formatProblem, ConfigError } from './problems.js';
export { parseConfig, DEFAULT_HOST_PLATFORM } from './parse.js';
export type { ParseConfigOptions } from './parse.js';
export { loadConfig, getConfig, renderConfig, hostPlatformOf, DEFAULT_CONFIG_FILES } from './load.js';
export type { LoadConfigOptions, RenderConfigResult } from './load.js';
export { renderConfigText } from './text.js';
export type { RenderResult } from './text.js';
export type { ConfigTemplateOptions, ConfigTemplateFile } from './template.js';
export { WorkingTreeConfigSource } from './source.js';
export type { ConfigSource, ConfigSourceCallOptions, ConfigCommit, WorkingTreeConfigSourceOptions } from './source.js';
