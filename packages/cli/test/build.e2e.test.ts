/**
 * `strata build` end to end, in-process, on the real Docker engine (and the registry of
 * `scripts/services.sh` for `--repo`): the example projects made into git repositories, built, built
 * again (everything reused), and run. Skips with a reason without the services; fails under CI=true.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BuildReport } from '@strata/core';
import { main } from '@strata/cli';
import { REDIS_URL, REGISTRY, requireServices, runCommand } from '../../../test/support/services.js';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-cli-e2e-'));
/** Projects whose images the tests made, removed from the daemon at the end. */
const projects: string[] = [];

afterAll(async () => {
  for (const project of projects) await removeProjectImages(project).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}, 120_000);

const unique = (): string => randomBytes(4).toString('hex');

/**
 * Makes `examples/<example>` a git repository with a project name of its own (so no earlier run's
 * stages are found), optionally with an edit to werf.yaml; returns its directory and project.
 */
async function exampleRepo(example: string, edit?: (werfYaml: string) => string): Promise<{ dir: string; project: string }> {
  const dir = path.join(scratch, `${example}-${unique()}`);
  await runCommand('bash', [path.join(repoRoot, 'examples/make-repo.sh'), example, dir]);
  const project = `strata-cli-e2e-${example}-${unique()}`;
  const file = path.join(dir, 'werf.yaml');
  const original = readFileSync(file, 'utf8');
  const text = original.replace(/^project: .*$/m, `project: ${project}`);
  writeFileSync(file, edit ? edit(text) : text);
  const git = ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid'];
  await runCommand('git', [...git, 'commit', '-q', '-am', 'unique project name'], { cwd: dir });
  projects.push(project);
  return { dir, project };
}

async function strata(argv: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd: scratch, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  return { code, stdout, stderr };
}

function readReport(file: string): BuildReport {
  return JSON.parse(readFileSync(file, 'utf8')) as BuildReport;
}

/** Removes every image of `project` from the daemon: rounds of removals, as children must go before their parents. */
async function removeProjectImages(project: string): Promise<void> {
  for (let round = 0; round < 20; round += 1) {
    const { stdout } = await runCommand('docker', ['images', '--no-trunc', '--filter', `label=werf=${project}`, '--format', '{{.ID}}']);
    const ids = [...new Set(stdout.split('\n').filter((id) => id !== ''))];
    if (ids.length === 0) return;
    for (const id of ids) await runCommand('docker', ['rmi', '--force', id]).catch(() => undefined);
  }
  throw new Error(`images of ${project} could not all be removed`);
}

async function dockerImageIds(project: string): Promise<string[]> {
  const { stdout } = await runCommand('docker', ['images', '--no-trunc', '--filter', `label=werf=${project}`, '--format', '{{.ID}} {{.Repository}}:{{.Tag}}']);
  return stdout.split('\n').filter((line) => line !== '').sort();
}

describe('strata build with local Docker storage', () => {
  it('builds stapel-app, prints plan, progress and summary, writes the report; a second build reuses every stage', async (ctx) => {
    await requireServices(ctx, 'docker');
    const { dir, project } = await exampleRepo('stapel-app');
    const reportPath = path.join(scratch, `report-${unique()}.json`);

    const first = await strata(['build', '--dir', dir, '--report-path', reportPath]);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const planAt = first.stdout.indexOf('┌ Concurrent builds plan (no more than 5 images at the same time)');
    expect(planAt).toBeGreaterThanOrEqual(0);
    expect(first.stdout).toContain('│ - 🛸 artifact assets');
    expect(first.stdout.indexOf('[assets] from: built')).toBeGreaterThan(planAt);
    expect(first.stdout).toMatch(/\[app\] setup: built \([0-9a-f]{12}, \d+\.\d\ds\)/);
    expect(first.stdout).toMatch(/\nIMAGE\s+TIME\s+STAGES\s+IMAGE NAME\n/);

    const report = readReport(reportPath);
    expect(Object.keys(report.Images).sort()).toEqual(['app', 'assets']);
    const app = report.Images.app;
    expect(app).toMatchObject({ WerfImageName: 'app', Final: true, Rebuilt: true, DockerRepo: project });
    expect(report.Images.assets?.Final).toBe(false);
    const appStatuses = app?.Stages.map((stage) => stage.Status);
    // `from` is shared with the artifact (same base, same digest): obtained once, reused by the other.
    expect(appStatuses?.filter((status) => status !== 'built')).toEqual(['reused']);
    expect(app?.Stages.map((stage) => stage.Name)).toEqual(['from', 'beforeInstall', 'gitArchive', 'install', 'dependenciesAfterInstall', 'setup', 'dockerInstructions']);
    for (const stage of app?.Stages ?? []) {
      expect(stage.StageID).toBe(stage.DockerTag);
      expect(stage.StageID.startsWith(`${stage.Digest}-`)).toBe(true);
      expect(stage.DockerImageName).toBe(`${project}:${stage.StageID}`);
    }
    expect(app?.DockerImageName).toBe(app?.Stages.at(-1)?.DockerImageName);
    const imagesAfterFirst = await dockerImageIds(project);

    const second = await strata(['build', '--dir', dir, '--report-path', reportPath]);
    expect(second.code).toBe(0);
    expect(second.stdout).not.toMatch(/: built \(/);
    const again = readReport(reportPath);
    for (const image of Object.values(again.Images)) {
      expect(image.Rebuilt).toBe(false);
      expect(image.Stages.every((stage) => stage.Status === 'reused')).toBe(true);
    }
    expect(again.Images.app?.DockerImageName).toBe(app?.DockerImageName);
    // Nothing was built or tagged: the daemon holds exactly the images of the first build.
    expect(await dockerImageIds(project)).toEqual(imagesAfterFirst);

    const run = await runCommand('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', app?.DockerImageName ?? '', '-c', 'cat /etc/app/app.conf /app/public/MANIFEST /var/lib/app/installed-deps; id -un; pwd']);
    expect(run.stdout).toContain('deps=');
    expect(run.stdout).toContain('/out/public/index.html'); // the artifact's manifest, imported
    expect(run.stdout.trim().split('\n').slice(-2)).toEqual(['app', '/app']); // docker USER and WORKDIR

    // plan: the stored stages are reused (up to the import checksum, known only during the build).
    const planned = await strata(['plan', '--dir', dir, '--json']);
    expect(planned.code).toBe(0);
    const plan = JSON.parse(planned.stdout) as { images: { image: string; stages: { name: string; digest: string; decision: { kind: string; stageId?: string } }[] }[] };
    const plannedApp = plan.images.find((image) => image.image === 'app');
    expect(plannedApp?.stages.map((stage) => stage.decision.kind)).toEqual(['reuse', 'reuse', 'reuse', 'reuse']);
    expect(plannedApp?.stages.map((stage) => stage.decision.stageId)).toEqual(app?.Stages.slice(0, 4).map((stage) => stage.StageID));

    // explain: change the setup command; the setup stage would be rebuilt, and the first differing input is named.
    writeFileSync(path.join(dir, 'werf.yaml'), readFileSync(path.join(dir, 'werf.yaml'), 'utf8').replace('  - sh /app/bin/configure.sh', '  - sh /app/bin/configure.sh --verbose'));
    await runCommand('git', ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid', 'commit', '-q', '-am', 'change setup'], { cwd: dir });
    const explained = await strata(['explain', 'app', '--stage', 'setup', '--dir', dir]);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(/^stage setup {2}[0-9a-f]{56}$/m);
    expect(explained.stdout).toMatch(/build: .*command\[0\]: "sh \/app\/bin\/configure\.sh" → "sh \/app\/bin\/configure\.sh --verbose" \(vs [0-9a-f]{56}-\d+\)/);
    expect(explained.stdout).toContain('command[0] = "sh /app/bin/configure.sh --verbose"');
    expect((await strata(['explain', 'app', '--stage', 'nope', '--dir', dir])).code).toBe(2);
  });

  it('builds multi-image in dependency order; the bundle carries its dependencies\' image names', async (ctx) => {
    await requireServices(ctx, 'docker');
    const { dir, project } = await exampleRepo('multi-image');
    const reportPath = path.join(scratch, `report-${unique()}.json`);
    const result = await strata(['build', '--dir', dir, '--report-path', reportPath, '--parallel-tasks-limit', '2', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const events = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; text?: string; image?: string; status?: string });
    expect(events[0]?.type).toBe('plan');
    expect(events[0]?.text).toContain('(no more than 2 images at the same time)');
    expect(events.at(-1)?.type).toBe('summary');
    const done = events.filter((event) => event.type === 'imageDone').map((event) => event.image);
    expect(done.indexOf('bundle')).toBe(done.length - 1);
    expect(done.indexOf('runtime')).toBeLessThan(done.indexOf('api'));
    const report = readReport(reportPath);
    expect(Object.keys(report.Images).sort()).toEqual(['api', 'base', 'bundle', 'runtime', 'tools', 'worker']);
    const bundle = report.Images.bundle?.DockerImageName ?? '';
    const run = await runCommand('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', bundle, '-c', 'cat /bundle/IMAGES /bundle/api/VERSION']);
    expect(run.stdout).toContain(`api=${report.Images.api?.DockerImageName ?? '?'} worker=${report.Images.worker?.DockerImageName ?? '?'}`);
    expect(run.stdout).toMatch(/^api .+/m);
    expect(project).toMatch(/^strata-cli-e2e-multi-image-/);
  });

  it('builds a Go-templated config rendered from the HEAD commit (env allowed with --allow-env, .Files from git)', async (ctx) => {
    await requireServices(ctx, 'docker');
    const { dir } = await exampleRepo('stapel-app');
    const project = `strata-cli-e2e-templated-${unique()}`;
    projects.push(project);
    mkdirSync(path.join(dir, '.werf'), { recursive: true });
    writeFileSync(path.join(dir, '.werf', 'greeting.tmpl'), '{{- define "greeting" }}hello from {{ .name }}{{ end }}\n');
    writeFileSync(path.join(dir, 'motd.txt'), 'committed motd\n');
    writeFileSync(
      path.join(dir, 'werf.yaml'),
      [
        `project: {{ env "PROJECT_NAME" }}`,
        'configVersion: 1',
        '---',
        'image: hello',
        'from: busybox:local',
        'shell:',
        '  install:',
        `  - echo '{{ include "greeting" (dict "name" "templates") }}' > /greeting`,
        `  - echo '{{ .Files.Get "motd.txt" | trim }}' > /motd`,
        '',
      ].join('\n'),
    );
    const git = ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid'];
    await runCommand('git', ['add', '-A'], { cwd: dir });
    await runCommand('git', [...git, 'commit', '-q', '-m', 'templated config'], { cwd: dir });
    // Uncommitted edits are not part of the build (giterminism).
    writeFileSync(path.join(dir, 'motd.txt'), 'uncommitted motd\n');

    const forbidden = await strata(['build', '--dir', dir], { PROJECT_NAME: project });
    expect(forbidden.code).toBe(2);
    expect(forbidden.stderr).toMatch(/PROJECT_NAME/);

    const reportPath = path.join(scratch, `report-${unique()}.json`);
    const result = await strata(['build', '--dir', dir, '--allow-env', 'PROJECT_NAME', '--report-path', reportPath], { PROJECT_NAME: project });
    expect(result.code, result.stderr).toBe(0);
    const image = readReport(reportPath).Images.hello?.DockerImageName ?? '';
    expect(image.startsWith(`${project}:`)).toBe(true);
    const run = await runCommand('docker', ['run', '--rm', '--network', 'none', image, 'cat', '/greeting', '/motd']);
    expect(run.stdout).toBe('hello from templates\ncommitted motd\n');
  });

  it('a failing command exits 1 naming the image, the stage, the command and its output', async (ctx) => {
    await requireServices(ctx, 'docker');
    const { dir } = await exampleRepo('stapel-app', (text) =>
      text.replace('  - sort /app/deps.txt > /var/lib/app/installed-deps', '  - sort /app/deps.txt > /var/lib/app/installed-deps\n  - echo "about to fail" && exit 7'),
    );
    const result = await strata(['build', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/build failed: image app, stage install/);
    expect(result.stderr).toContain('echo "about to fail" && exit 7');
    expect(result.stderr).toMatch(/exit code: 7/);
    expect(result.stderr).toMatch(/\| about to fail/);

    const json = await strata(['build', '--dir', dir, '--json']);
    expect(json.code).toBe(1);
    const last = JSON.parse(json.stdout.trim().split('\n').at(-1) ?? '{}') as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'failure', exitCode: 1, code: 'BUILD_FAILED', image: 'app', stage: 'install' });

    const unknown = await strata(['build', '--dir', dir, 'no-such-image']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/UNKNOWN_IMAGE/);
  });

  it('config errors exit 2 with located problems; a directory outside git exits 2', async () => {
    const { dir } = await exampleRepo('stapel-app', (text) => text.replace('shell:\n  beforeInstall:', 'shel:\n  beforeInstall:'));
    const broken = await strata(['build', '--dir', dir]);
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/werf\.yaml:\d+:\d+: [A-Z_]+: /);
    const plain = mkdtempSync(path.join(scratch, 'no-git-'));
    writeFileSync(path.join(plain, 'werf.yaml'), 'project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: busybox:local\n');
    const notGit = await strata(['plan', '--dir', plain]);
    expect(notGit.code).toBe(2);
    expect(notGit.stderr).toMatch(/GIT_NOT_A_REPOSITORY/);
  });

  it('an aborted build exits 130 and leaves no build container', async (ctx) => {
    await requireServices(ctx, 'docker');
    const { dir } = await exampleRepo('stapel-app', (text) => text.replace('  - mkdir -p /var/lib/app', '  - sleep 30\n  - mkdir -p /var/lib/app'));
    const controller = new AbortController();
    let stderr = '';
    let stdout = '';
    let installDigest: string | undefined;
    const running = main(['build', '--dir', dir], {
      stdout: (t) => {
        stdout += t;
        // On a terminal started stages are shown with their digest: abort once the long stage is under way.
        const started = /\[app\] install: … \(([0-9a-f]{12})\)/.exec(stdout);
        if (started && installDigest === undefined) {
          installDigest = started[1];
          setTimeout(() => controller.abort(new Error('interrupted by SIGINT')), 1500);
        }
      },
      isTTY: true,
      stderr: (t) => (stderr += t),
      cwd: scratch,
      env: {},
      signal: controller.signal,
    });
    const started = Date.now();
    expect(await running).toBe(130);
    expect(Date.now() - started).toBeLessThan(25_000);
    expect(stderr).toMatch(/interrupted \(interrupted by SIGINT\)/);
    expect(installDigest).toMatch(/^[0-9a-f]{12}$/);
    const containers = async (): Promise<string> =>
      (await runCommand('docker', ['ps', '-a', '--filter', `name=strata-build-${installDigest ?? ''}`, '--format', '{{.Names}}'])).stdout.trim();
    // main() returns only after the executor removed its build container.
    expect(await containers()).toBe('');
  });
});

describe('strata build with a primary repository', () => {
  it('pushes stages to the registry; with the local cache wiped a second build reuses them from the registry', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry');
    const { dir, project } = await exampleRepo('stapel-app');
    const repo = `${REGISTRY}/strata-cli-test-${unique()}`;
    const reportPath = path.join(scratch, `report-${unique()}.json`);

    const first = await strata(['build', '--dir', dir, '--report-path', reportPath], { STRATA_REPO: repo });
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`Stages storage: repository ${repo}`);
    const report = readReport(reportPath);
    const app = report.Images.app;
    expect(app?.DockerRepo).toBe(repo);
    expect(app?.DockerImageDigest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const stage of app?.Stages ?? []) expect(stage.DockerImageName).toBe(`${repo}:${stage.StageID}`);
    const tags = await fetch(`http://${REGISTRY}/v2/${repo.slice(REGISTRY.length + 1)}/tags/list`).then((res) => res.json() as Promise<{ tags: string[] }>);
    const expectedTags = [...new Set(Object.values(report.Images).flatMap((image) => image.Stages.map((stage) => stage.StageID)))].sort();
    expect(tags.tags.sort()).toEqual(expectedTags);

    // Wipe the local copies: the daemon is only a cache when a primary repository is used.
    const local = await dockerImageIds(project);
    expect(local.length).toBeGreaterThan(0);
    await removeProjectImages(project);
    expect(await dockerImageIds(project)).toEqual([]);

    const second = await strata(['build', '--dir', dir, '--report-path', reportPath, '--repo', repo]);
    expect(second.code).toBe(0);
    const again = readReport(reportPath);
    for (const image of Object.values(again.Images)) expect(image.Stages.every((stage) => stage.Status === 'reused')).toBe(true);
    expect(again.Images.app?.DockerImageName).toBe(app?.DockerImageName);
    // Nothing is pulled when everything is reused, except an import's source: the checksum of the
    // imported files (part of dependenciesAfterInstall's digest) is computed in a container of it.
    const pulled = (await dockerImageIds(project)).map((line) => line.split(' ')[1]);
    expect(pulled).toEqual([report.Images.assets?.DockerImageName]);

    const run = await runCommand('docker', ['run', '--rm', '--network', 'none', '--entrypoint', '/bin/sh', app?.DockerImageName ?? '', '-c', 'cat /etc/app/app.conf']);
    expect(run.stdout).toContain('deps=');
  });
});

describe('strata build with primary, cache, final and secondary repositories and Redis locks', () => {
  it('publishes to the primary and the cache, the final image to the final repository only; a secondary is copied from', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry', 'redis');
    const dir = path.join(scratch, `tiny-${unique()}`);
    const project = `strata-cli-e2e-tiny-${unique()}`;
    projects.push(project);
    mkdirSync(dir);
    writeFileSync(
      path.join(dir, 'werf.yaml'),
      `project: ${project}\nconfigVersion: 1\n---\nimage: app\nfrom: busybox:local\nshell:\n  beforeInstall:\n  - echo tiny > /tiny\n  install:\n  - cat /tiny > /tiny2\n`,
    );
    const git = ['-c', 'user.name=t', '-c', 'user.email=t@t.invalid'];
    await runCommand('git', ['init', '-q', '-b', 'main', dir]);
    await runCommand('git', [...git, 'add', '-A'], { cwd: dir });
    await runCommand('git', [...git, 'commit', '-q', '-m', 'tiny'], { cwd: dir });
    const id = unique();
    const [primary, cache, final] = ['primary', 'cache', 'final'].map((kind) => `${REGISTRY}/strata-cli-test-${id}-${kind}`) as [string, string, string];
    const reportPath = path.join(scratch, `report-${unique()}.json`);
    const result = await strata(['build', '--dir', dir, '--report-path', reportPath, '--final-repo', final], {
      STRATA_REPO: primary,
      WERF_CACHE_REPO_FAST: cache,
      WERF_SYNCHRONIZATION: REDIS_URL,
    });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const report = readReport(reportPath);
    const stages = report.Images.app?.Stages ?? [];
    expect(stages.map((stage) => stage.Status)).toEqual(['built', 'built', 'built']);
    const tagsOf = async (repo: string): Promise<string[]> => {
      const res = await fetch(`http://${REGISTRY}/v2/${repo.slice(REGISTRY.length + 1)}/tags/list`);
      return res.status === 200 ? ((await res.json()) as { tags: string[] }).tags.sort() : [];
    };
    const ids = stages.map((stage) => stage.StageID).sort();
    expect(await tagsOf(primary)).toEqual(ids);
    expect(await tagsOf(cache)).toEqual(ids);
    expect(await tagsOf(final)).toEqual([stages.at(-1)?.StageID]);

    // Another installation reading this primary as a secondary copies the stages, keeping their ids.
    const other = `${REGISTRY}/strata-cli-test-${id}-other`;
    const copied = await strata(['build', '--dir', dir, '--report-path', reportPath, '--repo', other, '--secondary-repo', primary]);
    expect(copied.code).toBe(0);
    const copiedStages = readReport(reportPath).Images.app?.Stages ?? [];
    expect(copiedStages.map((stage) => stage.Status)).toEqual(['copied', 'copied', 'copied']);
    expect(copiedStages.map((stage) => stage.StageID)).toEqual(stages.map((stage) => stage.StageID));
    expect(await tagsOf(other)).toEqual(ids);
  });
});
