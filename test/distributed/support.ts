/**
 * Kit for the distributed end-to-end tests: example projects made into git repositories (and cloned),
 * `strata build` run as real OS processes, and direct registry reads (tags, manifests, blobs) that
 * bypass the client under test.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BuildReport } from '../../packages/core/src/index.js';
import { runCommand } from '../support/services.js';

export const repoRoot = path.resolve(import.meta.dirname, '../..');
const BIN = path.join(repoRoot, 'packages/cli/src/bin.ts');

export const unique = (): string => randomBytes(4).toString('hex');

/**
 * Makes `examples/<example>` a git repository in `dir` whose werf.yaml names `project` (so no earlier
 * run's stages match), committed; returns the HEAD commit.
 */
export async function makeExample(example: string, dir: string, project: string): Promise<string> {
  await runCommand('bash', [path.join(repoRoot, 'examples/make-repo.sh'), example, dir]);
  const file = path.join(dir, 'werf.yaml');
  writeFileSync(file, readFileSync(file, 'utf8').replace(/^project: .*$/m, `project: ${project}`));
  const env = { ...process.env, GIT_AUTHOR_DATE: '2026-01-03T00:00:00Z', GIT_COMMITTER_DATE: '2026-01-03T00:00:00Z' };
  await runCommand('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', 'commit', '-q', '-am', 'project name'], { cwd: dir, env });
  return (await runCommand('git', ['rev-parse', 'HEAD'], { cwd: dir })).stdout.trim();
}

export interface StrataRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Environment of a CLI process: PATH and HOME only, plus `extra` (no inherited STRATA_/WERF_/DOCKER_ vars). */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: process.env.HOME, ...extra };
}

/** Starts `strata <argv>` as its own OS process (tsx from source, the `@strata/source` condition). */
export function spawnStrata(argv: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): { child: ChildProcess; done: Promise<StrataRun> } {
  return spawnTs(BIN, argv, options);
}

/** Runs a TypeScript `script` of the workspace in its own Node process, as {@link spawnStrata} runs the CLI. */
export function spawnTs(script: string, argv: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): { child: ChildProcess; done: Promise<StrataRun> } {
  const child = spawn(process.execPath, ['--conditions=@strata/source', '--import', 'tsx', script, ...argv], {
    cwd: options.cwd ?? repoRoot,
    env: cliEnv(options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (text: string) => (stdout += text));
  child.stderr?.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const done = new Promise<StrataRun>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done };
}

export function runStrata(argv: readonly string[], options: { env?: Record<string, string>; cwd?: string } = {}): Promise<StrataRun> {
  return spawnStrata(argv, options).done;
}

/** Formats a failed run for an assertion message. */
export function describeRun(run: StrataRun): string {
  return `exit ${run.code ?? run.signal}\n--- stdout ---\n${run.stdout.slice(-4000)}\n--- stderr ---\n${run.stderr.slice(-4000)}`;
}

export function readReport(file: string): BuildReport {
  return JSON.parse(readFileSync(file, 'utf8')) as BuildReport;
}

/** Every stage of every image of a report (an image's stages in order). */
export function reportStages(report: BuildReport): { image: string; name: string; digest: string; id: string; status: string }[] {
  return Object.entries(report.Images).flatMap(([image, entry]) =>
    entry.Stages.map((stage) => ({ image, name: stage.Name, digest: stage.Digest, id: stage.StageID, status: stage.Status })),
  );
}

/** Stages whose content comes from git (werf's git stages), which the issue exempts from "stored once". */
export const GIT_STAGES = new Set(['gitArchive', 'gitCache', 'gitLatestPatch']);

/** Removes every image labelled `werf=<project>` from the daemon, children before parents. */
export async function removeProjectImages(project: string): Promise<void> {
  for (let round = 0; round < 20; round += 1) {
    const { stdout } = await runCommand('docker', ['images', '--no-trunc', '--filter', `label=werf=${project}`, '--format', '{{.ID}}']);
    const ids = [...new Set(stdout.split('\n').filter((id) => id !== ''))];
    if (ids.length === 0) return;
    for (const id of ids) await runCommand('docker', ['rmi', '--force', id]).catch(() => undefined);
  }
}

// ---------------------------------------------------------------------------------------------
// Direct registry reads (plain fetch, no Strata code)

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

/** `host/path` split at the first slash. */
export function splitRepo(repo: string): { host: string; path: string } {
  const slash = repo.indexOf('/');
  return { host: repo.slice(0, slash), path: repo.slice(slash + 1) };
}

/** Every tag of `repo`, sorted, following `Link` pages; `[]` when the repository is unknown. */
export async function listTags(repo: string, headers: Record<string, string> = {}): Promise<string[]> {
  const { host, path: name } = splitRepo(repo);
  const tags: string[] = [];
  let next: string | undefined = `/v2/${name}/tags/list`;
  while (next !== undefined) {
    const res: Response = await fetch(`http://${host}${next}`, { headers });
    if (res.status === 404) return [];
    if (res.status !== 200) throw new Error(`GET ${next} on ${host} answered ${res.status}`);
    const body = (await res.json()) as { tags: string[] | null };
    tags.push(...(body.tags ?? []));
    const link = res.headers.get('link');
    next = link === null ? undefined : /<([^>]+)>/.exec(link)?.[1];
  }
  return [...new Set(tags)].sort();
}

export interface ManifestInfo {
  digest: string;
  mediaType: string;
  config: { digest: string } | undefined;
  layers: { digest: string }[];
  manifests: { digest: string }[];
}

/** The manifest under `reference` (tag or digest), or undefined on 404. */
export async function findManifest(repo: string, reference: string, headers: Record<string, string> = {}): Promise<ManifestInfo | undefined> {
  const { host, path: name } = splitRepo(repo);
  const res = await fetch(`http://${host}/v2/${name}/manifests/${reference}`, { headers: { accept: MANIFEST_ACCEPT, ...headers } });
  if (res.status === 404) {
    await res.body?.cancel();
    return undefined;
  }
  if (res.status !== 200) throw new Error(`GET manifest ${repo}:${reference} answered ${res.status}`);
  const body = (await res.json()) as { mediaType?: string; config?: { digest: string }; layers?: { digest: string }[]; manifests?: { digest: string }[] };
  return {
    digest: res.headers.get('docker-content-digest') ?? '',
    mediaType: body.mediaType ?? res.headers.get('content-type') ?? '',
    config: body.config,
    layers: body.layers ?? [],
    manifests: body.manifests ?? [],
  };
}

export async function blobExists(repo: string, digest: string): Promise<boolean> {
  const { host, path: name } = splitRepo(repo);
  const res = await fetch(`http://${host}/v2/${name}/blobs/${digest}`, { method: 'HEAD' });
  return res.status === 200;
}

export async function deleteManifest(repo: string, digest: string): Promise<number> {
  const { host, path: name } = splitRepo(repo);
  const res = await fetch(`http://${host}/v2/${name}/manifests/${digest}`, { method: 'DELETE' });
  await res.body?.cancel();
  return res.status;
}

/**
 * Checks that every tag of `repo` resolves to a manifest whose config and layers (or, for an index,
 * child manifests) are all present; returns the problems found (empty when the repository is whole).
 */
export async function findBrokenTags(repo: string): Promise<string[]> {
  const problems: string[] = [];
  for (const tag of await listTags(repo)) {
    const manifest = await findManifest(repo, tag);
    if (manifest === undefined) {
      problems.push(`${tag}: manifest missing`);
      continue;
    }
    for (const child of manifest.manifests) {
      if ((await findManifest(repo, child.digest)) === undefined) problems.push(`${tag}: child manifest ${child.digest} missing`);
    }
    for (const blob of [...(manifest.config ? [manifest.config] : []), ...manifest.layers]) {
      if (!(await blobExists(repo, blob.digest))) problems.push(`${tag}: blob ${blob.digest} missing`);
    }
  }
  return problems;
}
