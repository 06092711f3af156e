/**
 * The async edge of the `dockerfile` stage: reads the Dockerfile and `.dockerignore` from the commit,
 * checksums `COPY`/`ADD` sources through the `GitRepository` port, and `contextAddFiles` from the
 * working tree when the caller allows it.
 */
import type { DockerfileImage } from '@strata/config';
import type { GitRepository, ObjectId } from '@strata/git';
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import picomatch from 'picomatch';
import { DigestError } from '../digest/errors.js';
import { cleanPath } from '../digest/paths.js';
import { hashArgs, sha256Concat, type HashArg } from '../digest/hash.js';
import type { DigestInput } from '../digest/inputs.js';
import { analyzeDockerfile, contextSources, type AnalyzedDockerfile } from './analyze.js';
import { dockerfileStageInputs, sourceKey } from './inputs.js';

export interface GatherDockerfileOptions {
  repository: GitRepository;
  /** The commit the build context comes from. */
  commit: ObjectId;
  /**
   * Whether `contextAddFiles` (untracked working-tree files) may be read. SPEC §1: forbidden unless the
   * caller explicitly allows it.
   * @default false
   */
  allowContextAddFiles?: boolean | undefined;
  /** Build args from `dependencies` (`targetBuildArg`), resolved by the engine; they win over `args`. */
  dependencyArgs?: Readonly<Record<string, string>> | undefined;
  /** The image's effective cache version (image `cacheVersion`, else `build.cacheVersion`). */
  cacheVersion?: string | undefined;
  /** Target platform for BuildKit's automatic platform args. @default "linux/amd64" */
  platform?: string | undefined;
  signal?: AbortSignal | undefined;
}

export interface DockerfileFacts {
  dockerfile: AnalyzedDockerfile;
  /** Per `COPY`/`ADD` with context sources (`sourceKey`), the sources checksum. */
  sourceChecksums: Record<string, string>;
  /** The `dockerfile` stage's inputs. */
  inputs: DigestInput[];
}

function joinPath(base: string, path: string): string {
  const clean = (value: string): string =>
    value === '.' ? '' : value.replace(/^(\.\/)+/, '').replace(/^\/+/, '').replace(/\/+$/, '');
  const left = clean(base);
  const right = clean(path);
  if (left === '' || left === '.') return right;
  return right === '' ? left : `${left}/${right}`;
}

/** `.dockerignore` lines: comments (`#` first) and blank lines dropped, the rest trimmed. */
export function parseDockerignore(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * A `COPY`/`ADD` source as a path filter relative to the context (werf
 * `NormalizeCopyAddSourcesForPathMatcher`: Go `path.Clean`, leading `/` dropped); the whole context
 * (`.`, `/`) becomes `**`. URLs (`ADD https://…`) never match a context file and are dropped.
 */
export function normalizeCopySource(source: string): string | undefined {
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) return undefined;
  const cleaned = cleanPath(source).replace(/^\/+/, '');
  return cleaned === '' || cleaned === '.' ? '**' : cleaned;
}

function matchesSource(path: string, sources: readonly string[]): boolean {
  return sources.some(
    (source) => source === '**' || path === source || path.startsWith(`${source}/`) || picomatch(source, { dot: true })(path),
  );
}

/**
 * The working-tree files a `contextAddFiles` entry names: the file itself, or every file under a
 * directory in lexical walk order (werf `GetContextAddFilesPaths`); repository-relative paths.
 */
async function contextAddPaths(image: DockerfileImage, options: GatherDockerfileOptions): Promise<string[]> {
  const seen = new Set<string>();
  const paths: string[] = [];
  const add = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    paths.push(path);
  };
  const walk = async (path: string): Promise<void> => {
    options.signal?.throwIfAborted();
    const entries = await readdir(join(options.repository.root, path), { withFileTypes: true });
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const child = joinPath(path, entry.name);
      if (entry.isDirectory()) await walk(child);
      else add(child);
    }
  };
  for (const file of image.contextAddFiles) {
    const path = joinPath(image.context, file);
    const info = await lstat(join(options.repository.root, path)).catch(() => undefined);
    if (info === undefined) {
      throw new DigestError('CONTEXT_ADD_FILE_NOT_FOUND', `contextAddFiles entry ${file} of image ${image.key} is not in the working tree`, {
        hint: 'contextAddFiles lists files or directories relative to the context; create it or remove the entry.',
        data: { image: image.key, path },
      });
    }
    if (info.isDirectory()) await walk(path);
    else add(path);
  }
  return paths;
}

/**
 * werf `ContextAddFilesChecksum`: for each added file matched by the instruction's sources, in order, its
 * project-relative path then its content (regular files only) into one SHA-256; `""` when none match.
 * Decision: the project directory is the repository root.
 */
async function contextAddChecksum(
  image: DockerfileImage,
  sources: readonly string[],
  paths: readonly string[],
  options: GatherDockerfileOptions,
): Promise<string> {
  const chunks: HashArg[] = [];
  for (const path of paths) {
    const relative = image.context === '.' || image.context === '' ? path : path.slice(joinPath(image.context, '').length + 1);
    if (!matchesSource(relative, sources)) continue;
    chunks.push(path);
    const content = await options.repository.findWorkingTreeFile(path, { signal: options.signal });
    if (content !== undefined) chunks.push(content);
  }
  return chunks.length === 0 ? '' : sha256Concat(chunks);
}

/**
 * Reads and analyses the image's Dockerfile at `commit` and checksums every `COPY`/`ADD` source of the
 * stages the target needs: `H(lsTreeChecksum)` of the context at `commit` filtered by `.dockerignore`
 * and the instruction's sources (werf `calculateFilesChecksumWithGit`), then `H(that, contextAdd)` when
 * allowed `contextAddFiles` match the sources.
 *
 * Throws `DOCKERFILE_NOT_FOUND`, `DOCKERFILE_TARGET_NOT_FOUND`, `DOCKERFILE_INVALID`,
 * `CONTEXT_ADD_FILES_FORBIDDEN`, `CONTEXT_ADD_FILE_NOT_FOUND`.
 */
export async function gatherDockerfileFacts(image: DockerfileImage, options: GatherDockerfileOptions): Promise<DockerfileFacts> {
  const { repository, commit, signal } = options;
  if (image.contextAddFiles.length > 0 && options.allowContextAddFiles !== true) {
    throw new DigestError('CONTEXT_ADD_FILES_FORBIDDEN', `image ${image.key} uses contextAddFiles, which reads untracked files`, {
      hint: 'Allow contextAddFiles explicitly (the caller option), or commit the files and remove contextAddFiles.',
      data: { image: image.key },
    });
  }
  const bytes = await repository.findFile(commit, image.dockerfile, { signal });
  if (bytes === undefined) {
    throw new DigestError('DOCKERFILE_NOT_FOUND', `Dockerfile ${image.dockerfile} of image ${image.key} is not in commit ${commit}`, {
      hint: 'Commit the Dockerfile: files come from the current git commit, not the working tree.',
      data: { image: image.key, dockerfile: image.dockerfile, commit },
    });
  }
  const dockerfile = analyzeDockerfile(Buffer.from(bytes).toString('utf8'), {
    path: image.dockerfile,
    target: image.target,
    buildArgs: { ...image.args, ...options.dependencyArgs },
    platform: options.platform,
  });
  const ignoreBytes = await repository.findFile(commit, joinPath(image.context, '.dockerignore'), { signal });
  const dockerignore = ignoreBytes === undefined ? [] : parseDockerignore(Buffer.from(ignoreBytes).toString('utf8'));

  const addedPaths = image.contextAddFiles.length > 0 ? await contextAddPaths(image, options) : [];
  const sourceChecksums: Record<string, string> = {};
  for (const entry of contextSources(dockerfile)) {
    const sources = entry.sources.map(normalizeCopySource).filter((source): source is string => source !== undefined);
    const lsTree =
      sources.length === 0
        ? ''
        : await repository.lsTreeChecksum(
            {
              commit,
              basePath: image.context,
              includePaths: sources.includes('**') ? [] : sources,
              dockerignore,
            },
            { signal },
          );
    let checksum = hashArgs(lsTree);
    if (addedPaths.length > 0) {
      const added = await contextAddChecksum(image, sources, addedPaths, options);
      if (added !== '') checksum = hashArgs(checksum, added);
    }
    sourceChecksums[sourceKey(entry.stage, entry.instruction)] = checksum;
  }
  const inputs = dockerfileStageInputs(dockerfile, {
    sourceChecksums,
    addHost: image.addHost,
    cacheVersion: options.cacheVersion,
  });
  return { dockerfile, sourceChecksums, inputs };
}

/** How a dependency image is referred to, resolved by the engine once the image is built. */
export interface DependencyImageRefs {
  /** `repo:tag` of its last stage. */
  name: string;
  repo: string;
  tag: string;
  /** Image id (`sha256:…`). */
  id: string;
  /** Registry digest (`sha256:…`), empty for local storage. */
  digest: string;
}

/**
 * Build args a Dockerfile image gets from its `dependencies` (werf `ResolveDependenciesArgs`): each
 * import's `targetBuildArg` set to the dependency's name, tag, repo, id or digest. Pass the result as
 * `dependencyArgs`; it wins over the image's own `args`.
 */
export function dependencyBuildArgs(
  image: Pick<DockerfileImage, 'dependencies'>,
  resolve: (imageName: string) => DependencyImageRefs,
): Record<string, string> {
  const args: Record<string, string> = {};
  for (const dependency of image.dependencies) {
    const refs = resolve(dependency.image);
    for (const entry of dependency.imports) {
      if (entry.targetBuildArg === undefined) continue;
      const values: Record<typeof entry.type, string> = {
        ImageName: refs.name,
        ImageTag: refs.tag,
        ImageRepo: refs.repo,
        ImageID: refs.id,
        ImageDigest: refs.digest,
      };
      args[entry.targetBuildArg] = values[entry.type];
    }
  }
  return args;
}
