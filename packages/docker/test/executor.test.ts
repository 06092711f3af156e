/**
 * DockerExecutor on the real engine: every stage kind, the files and config of the results, failures
 * and aborts. Needs the Docker engine and busybox:local (`bash scripts/services.sh start`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuiltStage, StageBuildRequest } from '@strata/core';
import type { NativeGitRepository } from '@strata/git';
import { DockerBuildError, DockerExecutor } from '../src/index.js';
import { findMissingServices, requireServices, runCommand } from '../../../test/support/services.js';
import { BASE_IMAGE, Janitor, TestRepo, common, containersNamed, dockerClient, dockerRun, uniqueName } from './support/kit.js';

const missing = await findMissingServices('docker');
const docker = dockerClient();
const janitor = new Janitor(docker);
const project = uniqueName('strata-exec-test');
const prefix = uniqueName('strata-test');
let repo: TestRepo;
let git: NativeGitRepository;
let executor: DockerExecutor;
let c1: string;
let c2: string;
const output: string[] = [];

const mapping = { paramsHash: 'a'.repeat(64), add: '/app', to: '/srv/app', includePaths: [], excludePaths: ['secret'], owner: 'nobody', group: 'nogroup' };

beforeAll(async () => {
  if (missing) return;
  repo = await TestRepo.create();
  c1 = await repo.commit({
    'app/readme.txt': 'hello\n',
    'app/bin/run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
    'app/link': { symlink: 'readme.txt' },
    'app/old/gone.txt': 'bye\n',
    'app/mode.txt': 'mode\n',
    'app/filedir': 'a file for now\n',
    'app/dir2file/x.txt': 'x\n',
    "app/it's here.txt": 'quoted\n',
    'app/secret/key': 'k\n',
    'other/outside.txt': 'not mapped\n',
  });
  c2 = await repo.commit({
    'app/readme.txt': 'hello v2\n',
    'app/old/gone.txt': null,
    'app/link': { symlink: 'bin/run.sh' },
    'app/newlink': { symlink: 'readme.txt' },
    'app/mode.txt': { content: 'mode\n', mode: 0o755 },
    'app/filedir': null,
    'app/filedir/inner.txt': 'now a dir\n',
    'app/dir2file': 'now a file\n',
    "app/it's here.txt": null,
    'app/added/deep/new.txt': 'new\n',
    'app/secret/key': 'k2\n',
  });
  git = await repo.open();
  executor = new DockerExecutor({ docker, git, containerNamePrefix: prefix, onOutput: (line) => output.push(line) });
});

afterAll(async () => {
  if (missing) return;
  await git.close();
  await repo.remove();
  await janitor.removeProjectImages(project);
  await janitor.clean();
});

async function build(request: StageBuildRequest, signal?: AbortSignal): Promise<BuiltStage> {
  return janitor.track(await executor.buildStage(request, { signal }));
}

async function fromBusybox(): Promise<BuiltStage> {
  return build({ ...common(project, 'from'), kind: 'from', base: { kind: 'external', ref: BASE_IMAGE }, mounts: [] });
}

/** Every path under `dir` in the image: type, mode, owner, and content md5 or link target. */
async function tree(image: string, dir: string): Promise<string[]> {
  const script = `cd ${dir} && find . ! -name . | sort | while read -r f; do
    printf '%s|%s|%s|' "$f" "$(stat -c '%F' "$f")" "$(stat -c '%U:%G' "$f")"
    if [ -L "$f" ]; then readlink "$f"; elif [ -f "$f" ]; then printf '%s|' "$(stat -c '%a' "$f")"; md5sum < "$f"; else stat -c '%a' "$f"; fi
  done`;
  return (await dockerRun(image, ['-c', script], { entrypoint: '/bin/sh' })).trim().split('\n');
}

async function inspectConfig(image: string): Promise<{ Entrypoint?: unknown; Cmd?: unknown; Env?: string[]; Labels?: Record<string, string>; User?: string; WorkingDir?: string }> {
  return (await docker.getImage(image).inspect()).Config;
}

async function leftoverContainers(): Promise<string[]> {
  return containersNamed(docker, prefix);
}

describe.runIf(!missing)('DockerExecutor on the engine', () => {
  it('from: labels the external base and restores its CMD, with [""] for the missing ENTRYPOINT', async (ctx) => {
    await requireServices(ctx, 'docker');
    const request = { ...common(project, 'from'), kind: 'from' as const, base: { kind: 'external' as const, ref: BASE_IMAGE }, mounts: [] };
    const built = await build(request);
    expect(built.imageId).toMatch(/^sha256:/);
    expect(built.imageRef).toBe(built.imageId);
    expect(built.size).toBeGreaterThan(0);
    const config = await inspectConfig(built.imageRef);
    expect(config.Labels).toMatchObject(request.labels);
    expect(config.Entrypoint).toEqual(['']);
    expect(config.Cmd).toEqual(['/bin/sh']);
    expect(config.User).toBe('');
    expect(config.WorkingDir).toBe('');
    // No layer is added to the base.
    const [mine, base] = await Promise.all([docker.getImage(built.imageRef).inspect(), docker.getImage(BASE_IMAGE).inspect()]);
    expect(mine.RootFS.Layers).toEqual(base.RootFS.Layers);
    expect((await dockerRun(built.imageRef, ['echo', 'runs'])).trim()).toBe('runs');
  });

  it('from: on another image\'s stage, the stage labels replace its identity labels', async (ctx) => {
    await requireServices(ctx, 'docker');
    const upstream = await fromBusybox();
    const labelled = await build({
      ...common(project, 'setup', 'upstream'),
      labels: { ...common(project, 'setup').labels, 'werf.io/parent-stage-id': `${'b'.repeat(56)}-1`, 'werf-project-repo-commit': 'c'.repeat(40) },
      kind: 'shell',
      baseImageRef: upstream.imageRef,
      commands: ['touch /from-upstream'],
      gitPatches: [],
      mounts: [],
    });
    const request = { ...common(project, 'from'), kind: 'from' as const, base: { kind: 'stage' as const, imageRef: labelled.imageRef, image: 'upstream' }, mounts: [] };
    const built = await build(request);
    const labels = (await inspectConfig(built.imageRef)).Labels ?? {};
    expect(labels).toMatchObject({ ...request.labels, 'werf.io/parent-stage-id': '', 'werf-project-repo-commit': '' });
    expect(await dockerRun(built.imageRef, ['ls', '/from-upstream'])).toBe('/from-upstream\n');
  });

  it('from: pulls an external base the engine does not have (loopback registry)', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry');
    const ref = `127.0.0.1:5000/${uniqueName('strata-pull-test')}:1`;
    await runCommand('docker', ['tag', BASE_IMAGE, ref]);
    await runCommand('docker', ['push', ref], { timeoutMs: 60_000 });
    await runCommand('docker', ['rmi', ref]);
    try {
      const built = await build({ ...common(project, 'from'), kind: 'from', base: { kind: 'external', ref }, mounts: [] });
      expect((await dockerRun(built.imageRef, ['echo', 'pulled'])).trim()).toBe('pulled');
      expect((await docker.getImage(ref).inspect()).RepoTags).toContain(ref);
    } finally {
      await runCommand('docker', ['rmi', ref]).catch(() => undefined);
    }
  });

  it('from: fails with DOCKER_IMAGE_NOT_FOUND when the base is missing and cannot be pulled', async (ctx) => {
    await requireServices(ctx, 'docker');
    const ref = '127.0.0.1:5000/strata-missing/none:1';
    await expect(build({ ...common(project, 'from'), kind: 'from', base: { kind: 'external', ref }, mounts: [] })).rejects.toMatchObject({
      code: 'DOCKER_IMAGE_NOT_FOUND',
      message: expect.stringContaining(ref) as unknown,
      hint: expect.stringContaining('docker load') as unknown,
    });
  });

  it('gitArchive: files at the commit under `to`, with owner, group, modes and symlinks; excludes honoured', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const built = await build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, commit: c1 }] });
    const listing = await tree(built.imageRef, '/srv/app');
    expect(listing).toContain('./readme.txt|regular file|nobody:nogroup|644|b1946ac92492d2347c6235b4d2611184  -');
    expect(listing).toContain('./bin/run.sh|regular file|nobody:nogroup|755|' + listing.find((l) => l.startsWith('./bin/run.sh'))!.split('|')[4]);
    expect(listing).toContain('./bin|directory|nobody:nogroup|755');
    expect(listing).toContain('./link|symbolic link|nobody:nogroup|readme.txt');
    expect(listing.some((l) => l.startsWith('./secret'))).toBe(false);
    expect(listing.some((l) => l.includes('outside'))).toBe(false);
    expect((await dockerRun(built.imageRef, ['/srv/app/bin/run.sh'])).trim()).toBe('run');
  });

  it('gitPatch: archive(c1) + patch(c1→c2) equals archive(c2): edits, deletions, modes, symlinks, file↔dir', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const archived = await build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, commit: c1 }] });
    const patched = await build({
      ...common(project, 'gitLatestPatch'),
      kind: 'gitPatch',
      baseImageRef: archived.imageRef,
      patches: [{ ...mapping, fromCommit: c1, toCommit: c2 }],
    });
    const fresh = await build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, commit: c2 }] });
    const [got, want] = await Promise.all([tree(patched.imageRef, '/srv/app'), tree(fresh.imageRef, '/srv/app')]);
    expect(got).toEqual(want);
    expect(got).toContain('./link|symbolic link|nobody:nogroup|bin/run.sh');
    expect(got).toContain('./newlink|symbolic link|nobody:nogroup|readme.txt');
    expect(got.find((l) => l.startsWith('./mode.txt'))).toMatch(/\|755\|/);
    expect(got.find((l) => l.startsWith('./dir2file|'))).toMatch(/regular file/);
    expect(got.find((l) => l.startsWith('./filedir|'))).toMatch(/directory/);
    expect(got.some((l) => l.startsWith('./old'))).toBe(false);
    expect(got.some((l) => l.startsWith("./it's"))).toBe(false);
    // The patch stage keeps the stapel image's runtime config.
    expect((await inspectConfig(patched.imageRef)).Cmd).toEqual(['/bin/sh']);
    expect(await leftoverContainers()).toEqual([]);
  });

  it('shell: runs commands as root in / on network none, after applying the git patch; the image runs', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const archived = await build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, commit: c1 }] });
    output.length = 0;
    const built = await build({
      ...common(project, 'install'),
      kind: 'shell',
      baseImageRef: archived.imageRef,
      commands: [
        'echo "id=$(id -u):$(id -g) pwd=$PWD"',
        'cp /srv/app/readme.txt /seen-readme',
        'ls /sys/class/net > /net',
        "printf 'multi\\nline\\n' > /multi",
      ],
      gitPatches: [{ ...mapping, fromCommit: c1, toCommit: c2 }],
      mounts: [],
    });
    expect(output).toContain('id=0:0 pwd=/');
    expect(await dockerRun(built.imageRef, ['cat', '/seen-readme'])).toBe('hello v2\n');
    expect((await dockerRun(built.imageRef, ['cat', '/net'])).trim().split('\n')).toEqual(['lo']);
    expect(await dockerRun(built.imageRef, ['cat', '/multi'])).toBe('multi\nline\n');
    const config = await inspectConfig(built.imageRef);
    expect(config.Entrypoint).toEqual(['']);
    expect(config.Cmd).toEqual(['/bin/sh']);
    expect(await leftoverContainers()).toEqual([]);
  });

  it('shell: a failing command names image, stage, command, exit code and output tail; nothing is left behind', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const request = {
      ...common(project, 'setup', 'backend'),
      kind: 'shell' as const,
      baseImageRef: base.imageRef,
      commands: ['echo first', 'for i in $(seq 1 30); do echo "line $i"; done; exit 3', 'echo never'],
      gitPatches: [],
      mounts: [],
    };
    const error = await build(request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerBuildError);
    const e = error as DockerBuildError;
    expect(e.code).toBe('DOCKER_COMMAND_FAILED');
    expect(e.data).toMatchObject({ image: 'backend', stage: 'setup', digest: request.digest, command: request.commands[1], exitCode: 3 });
    expect(e.data?.outputTail).toHaveLength(20);
    expect(e.data?.outputTail.at(-1)).toBe('line 30');
    expect(e.message).toContain('backend');
    expect(e.message).toContain('setup');
    expect(e.message).toContain('exited with code 3');
    expect(e.message).toContain('line 30');
    expect(e.message).not.toContain('__strata_step_failed__');
    expect(await leftoverContainers()).toEqual([]);
    const stored = await docker.listImages({ filters: { label: [`werf-stage-digest=${request.digest}`] } });
    expect(stored).toEqual([]);
  });

  it('shell: an aborted build stops its container within a few seconds and rejects with the reason', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const controller = new AbortController();
    const reason = new Error('user cancelled');
    const request = { ...common(project, 'install'), kind: 'shell' as const, baseImageRef: base.imageRef, commands: ['echo started', 'sleep 300'], gitPatches: [], mounts: [] };
    const pending = build(request, controller.signal).catch((e: unknown) => e);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const [id] = await leftoverContainers();
      if (id !== undefined && (await docker.getContainer(id).inspect()).State.Running) break;
      if (Date.now() > deadline) throw new Error('the build container never started');
      await new Promise((r) => setTimeout(r, 100));
    }
    const abortedAt = Date.now();
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    expect(await leftoverContainers()).toEqual([]);
    expect(await docker.listImages({ filters: { label: [`werf-stage-digest=${request.digest}`] } })).toEqual([]);
  });

  it('shell: an owner that the image does not know fails with DOCKER_UNKNOWN_OWNER', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    await expect(
      build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, owner: 'ghost', commit: c1 }] }),
    ).rejects.toMatchObject({ code: 'DOCKER_UNKNOWN_OWNER' });
    expect(await leftoverContainers()).toEqual([]);
  });

  it('shell: a script longer than one exec argument allows runs from a file that is not committed', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const long = `: ${'x'.repeat(200_000)}`;
    const built = await build({
      ...common(project, 'install'),
      kind: 'shell',
      baseImageRef: base.imageRef,
      commands: [long, 'echo ok > /long-done', 'ls -A / > /root-listing'],
      gitPatches: [],
      mounts: [],
    });
    expect(await dockerRun(built.imageRef, ['cat', '/long-done'])).toBe('ok\n');
    expect(await dockerRun(built.imageRef, ['cat', '/root-listing'])).not.toContain('.strata-build');
    expect(await dockerRun(built.imageRef, ['ls', '-A', '/'])).not.toContain('.strata-build');
    expect((await inspectConfig(built.imageRef)).Cmd).toEqual(['/bin/sh']);
  });

  it('shell: tmp_dir is not committed; build_dir persists between builds of the project', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const buildDirProject = uniqueName('strata-mnt');
    const labels = { ...common(project, 'install').labels, werf: buildDirProject };
    const mounts = [
      { type: 'tmp_dir' as const, to: '/scratch' },
      { type: 'build_dir' as const, to: '/cache' },
    ];
    try {
      const first = await build({
        ...common(project, 'install'),
        labels,
        kind: 'shell',
        baseImageRef: base.imageRef,
        commands: ['echo tmp > /scratch/file', 'echo kept > /cache/file'],
        gitPatches: [],
        mounts,
      });
      expect(await dockerRun(first.imageRef, ['sh', '-c', 'ls -A /scratch /cache'])).toBe('/cache:\n\n/scratch:\n');
      const second = await build({
        ...common(project, 'install'),
        labels,
        kind: 'shell',
        baseImageRef: base.imageRef,
        commands: ['cp /cache/file /from-cache'],
        gitPatches: [],
        mounts,
      });
      expect(await dockerRun(second.imageRef, ['cat', '/from-cache'])).toBe('kept\n');
    } finally {
      await docker.getVolume(`strata-build-dir-${buildDirProject}-cache`).remove().catch(() => undefined);
    }
  });

  it('dependencies: imports selected files from another image with owner and `to`, and sets env', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const source = await build({ ...common(project, 'gitArchive', 'src'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, owner: undefined, group: undefined, commit: c2 }] });
    const built = await build({
      ...common(project, 'dependenciesAfterInstall'),
      kind: 'dependencies',
      baseImageRef: base.imageRef,
      imports: [
        { sourceImageRef: source.imageRef, sourceImage: 'src', add: '/srv/app', to: '/imported', includePaths: ['bin', '*.txt', 'link'], excludePaths: ['mode.txt'], owner: 'nobody', group: '65534' },
        { sourceImageRef: source.imageRef, sourceImage: 'src', add: '/srv/app/readme.txt', to: '/single/readme', includePaths: [], excludePaths: [] },
      ],
      env: { SRC_IMAGE: 'src:tag', WITH_EQUALS: 'a=b c' },
    });
    const listing = await tree(built.imageRef, '/imported');
    expect(listing.map((l) => l.split('|')[0])).toEqual(['./bin', './bin/run.sh', './link', './readme.txt']);
    expect(listing.every((l) => l.split('|')[2] === 'nobody:nogroup')).toBe(true);
    expect(await dockerRun(built.imageRef, ['cat', '/single/readme'])).toBe('hello v2\n');
    const env = await dockerRun(built.imageRef, ['env']);
    expect(env).toContain('SRC_IMAGE=src:tag\n');
    expect(env).toContain('WITH_EQUALS=a=b c\n');
    expect(env).toContain('PATH=');
    expect(await leftoverContainers()).toEqual([]);
  });

  it('dependencies: a missing import path fails with DOCKER_PATH_NOT_FOUND', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    await expect(
      build({
        ...common(project, 'dependenciesBeforeSetup'),
        kind: 'dependencies',
        baseImageRef: base.imageRef,
        imports: [{ sourceImageRef: base.imageRef, sourceImage: 'base', add: '/no/such', to: '/x', includePaths: [], excludePaths: [] }],
        env: {},
      }),
    ).rejects.toMatchObject({ code: 'DOCKER_PATH_NOT_FOUND' });
    expect(await leftoverContainers()).toEqual([]);
  });

  it('importChecksum: runs the given command in the source image and returns its first field', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const one = await build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, commit: c1 }] });
    const two = await build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: base.imageRef, mappings: [{ ...mapping, commit: c2 }] });
    const command = `find /srv/app -type f \\( -wholename "/srv/app/bin" -or -wholename "/srv/app/bin/**" \\) | sort -n | xargs md5sum | md5sum | cut -d ' ' -f 1`;
    const request = { add: '/srv/app', includePaths: ['bin'], excludePaths: [], command };
    const a = await executor.importChecksum({ ...request, sourceImageRef: one.imageRef });
    expect(a).toMatch(/^[0-9a-f]{32}$/);
    expect(a).toBe((await dockerRun(one.imageRef, ['-c', command], { entrypoint: '/bin/sh' })).trim());
    expect((await dockerRun(one.imageRef, ['-c', 'md5sum /srv/app/bin/run.sh | md5sum'], { entrypoint: '/bin/sh' })).split(' ')[0]).toBe(a);
    // Same files in both commits under bin/; the whole tree differs.
    expect(await executor.importChecksum({ ...request, sourceImageRef: two.imageRef })).toBe(a);
    const all = { ...request, includePaths: [], command: 'find /srv/app -type f | sort -n | xargs md5sum | md5sum | cut -d \' \' -f 1' };
    expect(await executor.importChecksum({ ...all, sourceImageRef: one.imageRef })).not.toBe(await executor.importChecksum({ ...all, sourceImageRef: two.imageRef }));
    await expect(executor.importChecksum({ ...request, command: 'echo broken >&2; exit 2', sourceImageRef: one.imageRef })).rejects.toMatchObject({
      code: 'DOCKER_CHECKSUM_FAILED',
      message: expect.stringContaining('broken') as unknown,
    });
    expect(await leftoverContainers()).toEqual([]);
  });

  it('dockerInstructions: SPEC §4.3 CMD/ENTRYPOINT cases, checked with docker run', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const instructions = { volume: [], expose: [], env: {}, label: {} };
    const step = async (baseImageRef: string, extra: Record<string, unknown>): Promise<BuiltStage> =>
      build({ ...common(project, 'dockerInstructions'), kind: 'dockerInstructions', baseImageRef, instructions: { ...instructions, ...extra } });

    // ENTRYPOINT alone: the base CMD is reset (Docker's rule).
    const withEntrypoint = await step(base.imageRef, { entrypoint: ['/bin/echo', 'ep'] });
    expect(await inspectConfig(withEntrypoint.imageRef)).toMatchObject({ Entrypoint: ['/bin/echo', 'ep'], Cmd: [] });
    expect(await dockerRun(withEntrypoint.imageRef, [])).toBe('ep\n');

    // A later stapel stage restores the base's ENTRYPOINT (the service entrypoint does not leak).
    const shell = await build({ ...common(project, 'setup'), kind: 'shell', baseImageRef: withEntrypoint.imageRef, commands: ['touch /x'], gitPatches: [], mounts: [] });
    expect(await inspectConfig(shell.imageRef)).toMatchObject({ Entrypoint: ['/bin/echo', 'ep'], Cmd: [] });
    expect(await dockerRun(shell.imageRef, ['arg'])).toBe('ep arg\n');

    // docker.CMD resets the base's ENTRYPOINT.
    const withCmd = await step(shell.imageRef, { cmd: ['/bin/echo', 'cmd'] });
    expect(await inspectConfig(withCmd.imageRef)).toMatchObject({ Entrypoint: [''], Cmd: ['/bin/echo', 'cmd'] });
    expect(await dockerRun(withCmd.imageRef, [])).toBe('cmd\n');

    // Shell form, ENV, LABEL, WORKDIR, USER, EXPOSE, VOLUME, HEALTHCHECK.
    const full = await step(base.imageRef, {
      cmd: 'echo "$GREETING from $(pwd) as $(id -u)"',
      env: { GREETING: 'hi there' },
      label: { 'org.example/team': 'core' },
      workdir: '/work',
      user: '65534',
      expose: ['8080'],
      volume: ['/data'],
      healthcheck: '--interval=30s CMD ["/bin/true"]',
    });
    const inspected = await docker.getImage(full.imageRef).inspect();
    expect(inspected.Config).toMatchObject({
      Entrypoint: [''],
      Cmd: ['/bin/sh', '-c', 'echo "$GREETING from $(pwd) as $(id -u)"'],
      WorkingDir: '/work',
      User: '65534',
      ExposedPorts: { '8080/tcp': {} },
      Volumes: { '/data': {} },
      Healthcheck: { Test: ['CMD', '/bin/true'], Interval: 30e9 },
    });
    expect(inspected.Config.Labels).toMatchObject({ 'org.example/team': 'core', werf: project });
    expect(await dockerRun(full.imageRef, [])).toBe('hi there from /work as 65534\n');
  });

  it('from scratch: an empty labelled image with CMD [] and ENTRYPOINT [""]; gitArchive works without a shell', async (ctx) => {
    await requireServices(ctx, 'docker');
    const scratch = await build({ ...common(project, 'from'), kind: 'from', base: { kind: 'scratch' }, mounts: [] });
    const archived = await build({ ...common(project, 'gitArchive'), kind: 'gitArchive', baseImageRef: scratch.imageRef, mappings: [{ ...mapping, owner: '1000', group: '1000', commit: c1 }] });
    const config = await inspectConfig(archived.imageRef);
    expect(config.Entrypoint).toEqual(['']);
    expect(config.Cmd).toEqual([]);
    expect(config.Labels).toMatchObject({ werf: project });
    const container = await docker.createContainer({ Image: archived.imageRef, Cmd: ['/none'], name: `${prefix}-check` });
    try {
      const { stdout } = await runCommand('sh', ['-c', `docker cp ${container.id}:/srv/app/readme.txt - | tar -tvf -`]);
      expect(stdout).toMatch(/1000\/1000 .* readme\.txt/);
    } finally {
      await container.remove({ force: true });
    }
  });

  it('imageSpec: sets config values; removals are refused with DOCKER_UNSUPPORTED', async (ctx) => {
    await requireServices(ctx, 'docker');
    const base = await fromBusybox();
    const config = {
      env: { MODE: 'prod' },
      labels: { 'org.example/spec': 'yes' },
      removeLabels: [],
      removeEnv: [],
      removeVolumes: [],
      expose: [],
      volumes: [],
      cmd: ['/bin/echo', 'spec'],
      clearCmd: false,
      clearEntrypoint: false,
      clearWerfLabels: false,
      removeWerfLabels: false,
      keepEssentialWerfLabels: false,
    };
    const built = await build({ ...common(project, 'imageSpec'), kind: 'imageSpec', baseImageRef: base.imageRef, spec: { author: 'Strata Tests', clearHistory: false, config } });
    const inspected = await docker.getImage(built.imageRef).inspect();
    expect(inspected.Author).toBe('Strata Tests');
    expect(inspected.Config.Env).toContain('MODE=prod');
    expect(inspected.Config.Labels).toMatchObject({ 'org.example/spec': 'yes', werf: project });
    expect(await dockerRun(built.imageRef, [])).toBe('spec\n');
    await expect(
      build({ ...common(project, 'imageSpec'), kind: 'imageSpec', baseImageRef: base.imageRef, spec: { clearHistory: false, config: { ...config, removeEnv: ['PATH'] } } }),
    ).rejects.toMatchObject({ code: 'DOCKER_UNSUPPORTED' });
    expect(await leftoverContainers()).toEqual([]);
  });
});

describe.runIf(!missing)('DockerExecutor: Dockerfile stages', () => {
  let dockerRepo: TestRepo;
  let dockerGit: NativeGitRepository;
  let dockerExecutor: DockerExecutor;
  let commit: string;
  const slowMarker = uniqueName('slow-build');

  beforeAll(async () => {
    dockerRepo = await TestRepo.create();
    commit = await dockerRepo.commit({
      'ctx/Dockerfile': [
        `FROM ${BASE_IMAGE} AS base`,
        'ARG GREETING=none',
        'RUN echo "$GREETING" > /greeting && (ls /sys/class/net > /net)',
        'FROM base AS final',
        'COPY . /ctx/',
        'FROM base AS other',
        'RUN echo other > /other',
        '',
      ].join('\n'),
      'ctx/.dockerignore': '# comment\nignored.txt\n*.log\nsub/**\n!sub/keep.txt\n',
      'ctx/kept.txt': 'kept\n',
      'ctx/ignored.txt': 'ignored\n',
      'ctx/debug.log': 'log\n',
      'ctx/sub/drop.txt': 'drop\n',
      'ctx/sub/keep.txt': 'keep\n',
      'Dockerfile.outside': `FROM ${BASE_IMAGE}\nCOPY . /ctx/\n`,
      'Dockerfile.fails': `FROM ${BASE_IMAGE}\nRUN echo about to fail && exit 4\n`,
      'Dockerfile.slow': `FROM ${BASE_IMAGE}\nRUN echo ${slowMarker} && sleep 300\n`,
    });
    await dockerRepo.write({ 'ctx/untracked.txt': 'from the work tree\n' });
    dockerGit = await dockerRepo.open();
    dockerExecutor = new DockerExecutor({ docker, git: dockerGit, containerNamePrefix: prefix });
  });

  afterAll(async () => {
    await dockerGit.close();
    await dockerRepo.remove();
  });

  function request(extra: Partial<Extract<StageBuildRequest, { kind: 'dockerfile' }>>): Extract<StageBuildRequest, { kind: 'dockerfile' }> {
    return {
      ...common(project, 'dockerfile'),
      kind: 'dockerfile',
      commit,
      dockerfile: 'ctx/Dockerfile',
      context: 'ctx',
      contextAddFiles: [],
      buildArgs: {},
      addHost: [],
      ...extra,
    };
  }

  it('builds the target from the commit with .dockerignore, build args, labels, contextAddFiles, network none', async (ctx) => {
    await requireServices(ctx, 'docker');
    const req = request({ target: 'final', buildArgs: { GREETING: 'hello' }, contextAddFiles: ['untracked.txt'] });
    const built = janitor.track(await dockerExecutor.buildStage(req));
    const config = await inspectConfig(built.imageRef);
    expect(config.Labels).toMatchObject(req.labels);
    expect(await dockerRun(built.imageRef, ['cat', '/greeting'])).toBe('hello\n');
    expect((await dockerRun(built.imageRef, ['cat', '/net'])).trim()).toBe('lo');
    const files = (await dockerRun(built.imageRef, ['sh', '-c', 'cd /ctx && find . -type f | sort'])).trim().split('\n');
    // As with the Docker CLI, .dockerignore stays in the context unless it lists itself.
    expect(files).toEqual(['./.dockerignore', './Dockerfile', './kept.txt', './sub/keep.txt', './untracked.txt']);
    expect(await dockerRun(built.imageRef, ['sh', '-c', 'test -e /other && echo yes || echo no'])).toBe('no\n');
  });

  it('sends a Dockerfile from outside the context without copying it into the image', async (ctx) => {
    await requireServices(ctx, 'docker');
    const built = janitor.track(await dockerExecutor.buildStage(request({ dockerfile: 'Dockerfile.outside' })));
    const files = (await dockerRun(built.imageRef, ['sh', '-c', 'cd /ctx && find . -type f | sort'])).trim().split('\n');
    expect(files).toEqual(['./.dockerignore', './Dockerfile', './kept.txt', './sub/keep.txt']);
    expect(await dockerRun(built.imageRef, ['cat', '/ctx/.dockerignore'])).toContain('.strata.Dockerfile');
  });

  it('fails with DOCKERFILE_BUILD_FAILED naming the image and the output tail', async (ctx) => {
    await requireServices(ctx, 'docker');
    const req = request({ dockerfile: 'Dockerfile.fails', context: '.' });
    const error = await dockerExecutor.buildStage(req).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DockerBuildError);
    expect(error).toMatchObject({ code: 'DOCKERFILE_BUILD_FAILED', data: { image: 'app', stage: 'dockerfile', exitCode: 4 } });
    expect((error as DockerBuildError).data?.outputTail).toContain('about to fail');
    expect(await docker.listImages({ filters: { label: [`werf-stage-digest=${req.digest}`] } })).toEqual([]);
  });

  it('names a Dockerfile that is not in the commit, and a missing contextAddFiles entry', async (ctx) => {
    await requireServices(ctx, 'docker');
    await expect(dockerExecutor.buildStage(request({ dockerfile: 'ctx/Missing.Dockerfile' }))).rejects.toMatchObject({
      code: 'DOCKER_INVALID_INSTRUCTION',
      message: expect.stringContaining('ctx/Missing.Dockerfile') as unknown,
    });
    await expect(dockerExecutor.buildStage(request({ contextAddFiles: ['not-there.txt'] }))).rejects.toMatchObject({
      code: 'DOCKER_INVALID_INSTRUCTION',
      message: expect.stringContaining('not-there.txt') as unknown,
    });
  });

  it('an aborted docker build stops and removes its RUN container within a few seconds', async (ctx) => {
    await requireServices(ctx, 'docker');
    const running = async (): Promise<string[]> =>
      (await docker.listContainers({ all: true })).filter((c) => c.Command.includes(slowMarker)).map((c) => c.Id);
    const controller = new AbortController();
    const reason = new Error('stop the build');
    const pending = dockerExecutor.buildStage(request({ dockerfile: 'Dockerfile.slow', context: '.' }), { signal: controller.signal }).catch((e: unknown) => e);
    const deadline = Date.now() + 30_000;
    while ((await running()).length === 0) {
      if (Date.now() > deadline) throw new Error('the RUN container never started');
      await new Promise((r) => setTimeout(r, 100));
    }
    const abortedAt = Date.now();
    controller.abort(reason);
    expect(await pending).toBe(reason);
    expect(Date.now() - abortedAt).toBeLessThan(5_000);
    while ((await running()).length > 0 && Date.now() - abortedAt < 15_000) await new Promise((r) => setTimeout(r, 200));
    expect(await running()).toEqual([]);
    expect(Date.now() - abortedAt).toBeLessThan(15_000);
  });
});

if (missing) {
  it('DockerExecutor on the engine', (ctx) => ctx.skip(missing));
}
