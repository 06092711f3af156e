/**
 * Test kit for the Docker adapters on the real engine: a client, unique names, a janitor for the images
 * and containers a test makes, git repositories in temp dirs, and `docker run`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, rm, symlink, writeFile, chmod, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Dockerode from 'dockerode';
import { parseStageDigest, stageLabels, type StageDigest, type StageName } from '@strata/core';
import { NativeGitRepository } from '@strata/git';
import { BASE_IMAGE, dockerSocketPath, runCommand } from '../../../../test/support/services.js';

export { BASE_IMAGE };

export function dockerClient(): Dockerode {
  return new Dockerode({ socketPath: dockerSocketPath() ?? '/var/run/docker.sock' });
}

export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`;
}

let digestCounter = 0;
/** A fresh, valid stage digest. */
export function freshDigest(): StageDigest {
  digestCounter += 1;
  const seed = `${randomBytes(28).toString('hex')}${digestCounter.toString(16).padStart(8, '0')}`;
  return parseStageDigest(seed.slice(0, 56));
}

/** The fields every executor request carries, with real stage labels. */
export function common(project: string, stage: StageName, image = 'app'): { image: string; stage: StageName; digest: StageDigest; labels: Record<string, string> } {
  const digest = freshDigest();
  return {
    image,
    stage,
    digest,
    labels: stageLabels({ project, digest, contentDigest: `content-${digest.slice(0, 8)}`, commits: {}, importChecksums: {} }),
  };
}

/** Removes what a test made in the engine. */
export class Janitor {
  readonly images = new Set<string>();
  constructor(private readonly docker: Dockerode) {}

  track<T extends { imageId: string }>(built: T): T {
    this.images.add(built.imageId);
    return built;
  }

  async removeProjectImages(project: string): Promise<void> {
    const images = await this.docker.listImages({ filters: { label: [`werf=${project}`] } });
    for (const image of images) this.images.add(image.Id);
  }

  async clean(): Promise<void> {
    for (const id of [...this.images].reverse()) {
      await this.docker.getImage(id).remove({ force: true }).catch(() => undefined);
    }
    this.images.clear();
  }
}

/** Ids of containers (any state) whose name starts with `prefix`. */
export async function containersNamed(docker: Dockerode, prefix: string): Promise<string[]> {
  const all = await docker.listContainers({ all: true, filters: { name: [prefix] } });
  return all.filter((c) => c.Names.some((n) => n.replace(/^\//, '').startsWith(prefix))).map((c) => c.Id);
}

/** `docker run --rm --network none IMAGE ARGS…`: stdout. */
export async function dockerRun(image: string, args: readonly string[], options: { entrypoint?: string } = {}): Promise<string> {
  const extra = options.entrypoint === undefined ? [] : ['--entrypoint', options.entrypoint];
  const { stdout } = await runCommand('docker', ['run', '--rm', '--network', 'none', ...extra, image, ...args], { timeoutMs: 60_000 });
  return stdout;
}

export type RepoFile = string | { content: string; mode?: number } | { symlink: string } | null;

/** A real git repository in a temp dir; `commit` writes files (null deletes) and commits them. */
export class TestRepo {
  private constructor(readonly dir: string) {}

  static async create(): Promise<TestRepo> {
    const dir = await mkdtemp(path.join(tmpdir(), 'strata-docker-'));
    const repo = new TestRepo(dir);
    await repo.git('init', '-q', '-b', 'main');
    await repo.git('config', 'user.email', 'test@example.com');
    await repo.git('config', 'user.name', 'Test');
    return repo;
  }

  async git(...args: string[]): Promise<string> {
    return (await runCommand('git', args, { cwd: this.dir })).stdout.trim();
  }

  async write(files: Record<string, RepoFile>): Promise<void> {
    for (const [name, file] of Object.entries(files)) {
      const full = path.join(this.dir, name);
      await rm(full, { recursive: true, force: true });
      if (file === null) continue;
      await mkdir(path.dirname(full), { recursive: true });
      if (typeof file === 'string') await writeFile(full, file);
      else if ('symlink' in file) await symlink(file.symlink, full);
      else {
        await writeFile(full, file.content);
        if (file.mode !== undefined) await chmod(full, file.mode);
      }
    }
  }

  async commit(files: Record<string, RepoFile>, message = 'change'): Promise<string> {
    await this.write(files);
    await this.git('add', '-A');
    await this.git('commit', '-q', '--allow-empty', '-m', message);
    return this.git('rev-parse', 'HEAD');
  }

  open(): Promise<NativeGitRepository> {
    return NativeGitRepository.open(this.dir);
  }

  async remove(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }

  async unlinkWorkTreeFile(name: string): Promise<void> {
    await unlink(path.join(this.dir, name));
  }
}
