import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { commands, main } from '@strata/cli';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
const scratch = mkdtempSync(path.join(tmpdir(), 'strata-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function project(name: string, werfYaml: string): string {
  const dir = path.join(scratch, name);
  rmSync(dir, { recursive: true, force: true });
  mkdirp(dir);
  writeFileSync(path.join(dir, 'werf.yaml'), werfYaml);
  return dir;
}
function mkdirp(dir: string): void {
  mkdirSync(dir, { recursive: true });
}

async function run(argv: string[], cwd = scratch): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, { stdout: (t) => (stdout += t), stderr: (t) => (stderr += t), cwd, env: {} });
  return { code, stdout, stderr };
}

const BROKEN = [
  'project: demo',
  'configVersion: 1',
  '---',
  'image: backend',
  'from: busybox:local',
  'shel:',
  '  install: [make]',
  'git:',
  '- add: relative/path',
  '  to: /app',
  '---',
  'image: frontend',
  'fromImage: missing-image',
  '',
].join('\n');

describe('strata config validate', () => {
  it('exits 0 and names the project for a valid config', async () => {
    const dir = project('valid', 'project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: busybox:local\n');
    const result = await run(['config', 'validate', '--dir', dir]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/valid \(project "demo", 1 image\)/);
  });

  it('prints every problem as file:line:col: code: message and exits 1', async () => {
    const dir = project('broken', BROKEN);
    const result = await run(['config', 'validate', '--dir', dir]);
    expect(result.code).toBe(1);
    const lines = result.stderr.split('\n').filter((line) => line.includes('werf.yaml:'));
    expect(lines.length).toBeGreaterThanOrEqual(3);
    const file = path.join(dir, 'werf.yaml');
    expect(result.stderr).toContain(`${file}:6:1:`); // unknown key "shel"
    expect(result.stderr).toMatch(/shell/); // the closest valid key as a hint
    expect(result.stderr).toContain(`${file}:9:8:`); // non-absolute git add
    expect(result.stderr).toContain(`${file}:13:12:`); // reference to a missing image
    for (const line of lines) expect(line).toMatch(/^.+werf\.yaml:\d+:\d+: [A-Z_]+: .+/);
  });

  it('takes an explicit --config file relative to --dir', async () => {
    const dir = project('explicit', 'not: used\n');
    writeFileSync(path.join(dir, 'custom.yaml'), 'project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: busybox:local\n');
    expect((await run(['config', 'validate', '--dir', dir, '--config', 'custom.yaml'])).code).toBe(0);
  });

  it('reports a missing config file as a problem, not a crash', async () => {
    const dir = path.join(scratch, 'empty');
    mkdirp(dir);
    const result = await run(['config', 'validate', '--dir', dir]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/werf\.yaml/);
  });
});

describe('strata config show', () => {
  it('prints the resolved config as JSON with defaults filled in', async () => {
    const dir = project('show', 'project: demo\nconfigVersion: 1\n---\nimage: app\nfrom: busybox:local\n');
    const result = await run(['config', 'show', '--json', '--dir', dir]);
    expect(result.code).toBe(0);
    const config = JSON.parse(result.stdout) as { project: string; images: { name: string; final: boolean }[] };
    expect(config.project).toBe('demo');
    expect(config.images[0]).toMatchObject({ name: 'app', final: true });
  });
});

describe('command line handling', () => {
  it.each(commands.map((command) => command.path.join(' ')))('strata %s --help prints usage and exits 0', async (words) => {
    const result = await run([...words.split(' '), '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`Usage: strata ${words}`);
    expect(result.stdout).toContain('--dir');
  });

  it('top-level --help lists the commands', async () => {
    const result = await run(['--help']);
    expect(result.code).toBe(0);
    for (const command of commands) expect(result.stdout).toContain(command.path.join(' '));
  });

  it('unknown commands and options are usage errors (exit 2)', async () => {
    expect((await run(['frobnicate'])).code).toBe(2);
    const unknownOption = await run(['config', 'validate', '--bogus']);
    expect(unknownOption.code).toBe(2);
    expect(unknownOption.stderr).toMatch(/--bogus/);
    expect((await run(['config', 'validate', 'extra-arg'])).code).toBe(2);
  });
});

describe('the strata binary', () => {
  it('runs from the repository root as `pnpm -s strata` and propagates the exit code', async () => {
    const dir = project('bin', BROKEN);
    const exec = promisify(execFile);
    const failure = await exec('pnpm', ['-s', 'strata', 'config', 'validate', '--dir', dir], { cwd: repoRoot }).then(
      () => undefined,
      (error: { code: number; stderr: string }) => error,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/werf\.yaml:6:1:/);
  });
});
