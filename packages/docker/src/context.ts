/**
 * The build context of a Dockerfile stage: the `context` directory at the stage's commit (not the work
 * tree), filtered by its `.dockerignore`, plus `contextAddFiles` from the work tree (SPEC §4.3).
 */
import path from 'node:path';
import { Readable } from 'node:stream';
import ignore from '@balena/dockerignore';
import type { DockerfileStageRequest } from '@strata/core';
import tar from 'tar-stream';
import { DockerError } from './errors.js';
import type { ExecutorGit } from './executor.js';

/** A tar header as written: everything but the name optional. */
type TarHeader = Partial<tar.Header> & { name: string };

/** Name given to a Dockerfile that lives outside the context directory. */
const OUTSIDE_DOCKERFILE = '.strata.Dockerfile';

function repoRelative(p: string): string {
  const normalized = path.posix.normalize(`/${p}`).replace(/^\/+/, '').replace(/\/+$/, '');
  return normalized === '.' ? '' : normalized;
}

/** The context tar and the Dockerfile's name inside it. */
export interface BuildContext {
  stream: Readable;
  dockerfile: string;
}

/** Parses `.dockerignore` text into patterns (comments and blank lines dropped). */
export function dockerignorePatterns(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
}

/**
 * Builds the context tar. The Dockerfile and `.dockerignore` are always sent (as the Docker CLI does;
 * the engine drops them from the context when `.dockerignore` lists them). A Dockerfile outside the
 * context is sent as `.strata.Dockerfile`, and `.dockerignore` is extended so the engine drops it.
 */
export async function createBuildContext(git: ExecutorGit, request: DockerfileStageRequest, signal?: AbortSignal): Promise<BuildContext> {
  const contextDir = repoRelative(request.context);
  const dockerfilePath = repoRelative(request.dockerfile);
  const inContext = contextDir === '' || dockerfilePath.startsWith(`${contextDir}/`);
  const dockerfileName = inContext ? path.posix.relative(contextDir, dockerfilePath) : OUTSIDE_DOCKERFILE;
  const dockerfile = await git.findFile(request.commit, dockerfilePath, { signal });
  if (dockerfile === undefined) {
    throw new DockerError('DOCKER_INVALID_INSTRUCTION', `Dockerfile ${dockerfilePath} is not in commit ${request.commit}`, {
      hint: 'Commit the Dockerfile: Strata reads it from git, not from the work tree.',
      data: { image: request.image, stage: request.stage, value: dockerfilePath },
    });
  }
  const ignoreFile = await git.findFile(request.commit, path.posix.join(contextDir, '.dockerignore'), { signal });
  let ignoreText = ignoreFile === undefined ? '' : Buffer.from(ignoreFile).toString('utf8');
  const matcher = ignore.default().add(dockerignorePatterns(ignoreText));
  if (!inContext) ignoreText = `${ignoreText}${ignoreText === '' || ignoreText.endsWith('\n') ? '' : '\n'}${OUTSIDE_DOCKERFILE}\n`;

  const added = new Map<string, Uint8Array>();
  for (const file of request.contextAddFiles) {
    const name = repoRelative(path.posix.join(contextDir, file));
    const content = await git.findWorkingTreeFile(name, { signal });
    if (content === undefined) {
      throw new DockerError('DOCKER_INVALID_INSTRUCTION', `contextAddFiles entry ${file} is not a file in the work tree`, {
        hint: 'Create the file or remove it from contextAddFiles.',
        data: { image: request.image, stage: request.stage, value: file },
      });
    }
    added.set(contextDir === '' ? name : path.posix.relative(contextDir, name), content);
  }

  const pack = tar.pack();
  const write = (header: TarHeader, body: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      pack.entry(header, body, (error) => (error ? reject(error) : resolve()));
    });
  const always = new Set([dockerfileName, '.dockerignore']);
  const source = git.archive({ commit: request.commit, basePath: contextDir }, { signal });
  const run = async (): Promise<void> => {
    const extract = tar.extract();
    source.pipe(extract);
    source.on('error', (error) => extract.destroy(error));
    for await (const entry of extract) {
      const chunks: Buffer[] = [];
      for await (const chunk of entry) chunks.push(chunk as Buffer);
      const name = entry.header.name.replace(/\/+$/, '');
      if (added.has(name) || (name === '.dockerignore' && !inContext)) continue;
      if (!always.has(name) && matcher.ignores(name)) continue;
      await write(entry.header, Buffer.concat(chunks));
    }
    const mtime = new Date((await git.commitInfo(request.commit, { signal })).timeMs);
    if (!inContext) {
      await write({ name: OUTSIDE_DOCKERFILE, type: 'file', mode: 0o644, mtime }, Buffer.from(dockerfile));
      await write({ name: '.dockerignore', type: 'file', mode: 0o644, mtime }, Buffer.from(ignoreText));
    }
    for (const [name, content] of added) await write({ name, type: 'file', mode: 0o644, mtime }, Buffer.from(content));
  };
  run().then(
    () => pack.finalize(),
    (error: unknown) => pack.destroy(error as Error),
  );
  return { stream: Readable.from(pack as AsyncIterable<Buffer>), dockerfile: dockerfileName };
}
