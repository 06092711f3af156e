/**
 * The V8 code cache of the bundled CLI (src/launcher/compile-cache.ts) on real files, and the bundled
 * CLI itself (scripts/bundle.ts) run as a user runs it.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileCacheKey, loadWithCompileCache } from '../src/launcher/compile-cache.js';
import { bundleCli, bundleStrata } from '../scripts/bundle.js';

const execFileAsync = promisify(execFile);
let scratch: string;

beforeAll(() => {
  scratch = mkdtempSync(path.join(tmpdir(), 'strata-compile-cache-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** A CommonJS program that requires a sibling file (as a bundle's deferred modules do). */
function program(dir: string, answer: number): string {
  const file = path.join(dir, 'program.cjs');
  writeFileSync(path.join(dir, 'sibling.cjs'), 'module.exports = (x) => x * 2;\n');
  writeFileSync(file, `const double = require('./sibling.cjs');\nexports.answer = () => double(${answer});\nexports.file = __filename;\n`);
  return file;
}

type Program = { answer(): number; file: string };

describe('loadWithCompileCache', () => {
  it('compiles from source first, writes the cache after the work, then loads from it', () => {
    const dir = mkdtempSync(path.join(scratch, 'roundtrip-'));
    const file = program(dir, 21);
    const cacheDir = path.join(dir, 'cache');
    const first = loadWithCompileCache(file, { dir: cacheDir });
    expect(first.status).toBe('missing');
    expect((first.exports as Program).answer()).toBe(42);
    expect((first.exports as Program).file).toBe(file);
    expect(first.save()).toBe(true);
    expect(first.cacheFile !== undefined && existsSync(first.cacheFile)).toBe(true);
    const second = loadWithCompileCache(file, { dir: cacheDir });
    expect(second.status).toBe('accepted');
    expect((second.exports as Program).answer()).toBe(42);
    expect(second.save()).toBe(false);
  });

  it('keys the cache by the bundle bytes: a changed bundle never reads the old cache', () => {
    const dir = mkdtempSync(path.join(scratch, 'key-'));
    const cacheDir = path.join(dir, 'cache');
    const before = loadWithCompileCache(program(dir, 1), { dir: cacheDir });
    before.save();
    const after = loadWithCompileCache(program(dir, 2), { dir: cacheDir });
    expect(after.status).toBe('missing');
    expect(after.cacheFile).not.toBe(before.cacheFile);
    expect((after.exports as Program).answer()).toBe(4);
    expect(after.save()).toBe(true);
    expect(readdirSync(cacheDir)).toEqual([path.basename(after.cacheFile as string)]);
    // Another variant (or another install of the bundle) keeps its own cache.
    const other = loadWithCompileCache(program(dir, 2), { dir: cacheDir, variant: 'build' });
    expect(other.save()).toBe(true);
    expect(readdirSync(cacheDir)).toHaveLength(2);
    expect(() => loadWithCompileCache(program(dir, 2), { dir: cacheDir, variant: '../x' })).toThrow(TypeError);
    expect(compileCacheKey('a')).not.toBe(compileCacheKey('b'));
  });

  it('rejects a corrupt cache, still runs, and rewrites it', () => {
    const dir = mkdtempSync(path.join(scratch, 'corrupt-'));
    const file = program(dir, 5);
    const cacheDir = path.join(dir, 'cache');
    // Not loaded before in this process, so V8 must read the data (its in-process cache cannot answer).
    mkdirSync(cacheDir);
    const dirHash = createHash('sha256').update(dir).update('\0').update(process.version).digest('hex').slice(0, 8);
    const cacheFile = path.join(cacheDir, `program.cjs-${dirHash}-main-${compileCacheKey(readFileSync(file, 'utf8'))}.v8`);
    writeFileSync(cacheFile, 'not V8 code cache data at all');
    const loaded = loadWithCompileCache(file, { dir: cacheDir });
    expect(loaded.cacheFile).toBe(cacheFile);
    expect(loaded.status).toBe('rejected');
    expect((loaded.exports as Program).answer()).toBe(10);
    expect(loaded.save()).toBe(true);
    expect(readFileSync(cacheFile, 'utf8')).not.toBe('not V8 code cache data at all');
  });

  it('never fails the program when the cache cannot be written, and can be disabled', () => {
    const dir = mkdtempSync(path.join(scratch, 'unwritable-'));
    const file = program(dir, 3);
    const notADir = path.join(dir, 'file');
    writeFileSync(notADir, 'x');
    const loaded = loadWithCompileCache(file, { dir: path.join(notADir, 'cache') });
    expect((loaded.exports as Program).answer()).toBe(6);
    expect(loaded.save()).toBe(false);
    expect(readdirSync(dir).filter((name) => name.endsWith('.tmp'))).toEqual([]);
    const disabled = loadWithCompileCache(file, { dir: undefined });
    expect(disabled.status).toBe('disabled');
    expect(disabled.save()).toBe(false);
  });
});

describe('the bundled CLI (pnpm bundle)', () => {
  it('runs commands with their exit codes and writes its code cache once', async () => {
    const out = path.join(scratch, 'dist');
    const launcher = await bundleCli(out);
    const cacheRoot = path.join(scratch, 'cli-cache');
    const env = { ...process.env, STRATA_CACHE_DIR: cacheRoot };
    const help = await execFileAsync(process.execPath, [launcher, '--help'], { env });
    expect(help.stdout).toContain('Usage: strata <command>');
    const cached = readdirSync(path.join(cacheRoot, 'v8'));
    expect(cached).toHaveLength(1);
    expect(cached[0]).toMatch(/^strata-main\.cjs-[0-9a-f]{8}-main-[0-9a-f]{32}\.v8$/);
    // Another command has a cache of its own; the first one's is kept.
    const config = await execFileAsync(process.execPath, [launcher, 'config', 'validate', '--help'], { env });
    expect(config.stdout).toContain('config validate');
    const both = readdirSync(path.join(cacheRoot, 'v8')).sort();
    expect(both).toHaveLength(2);
    expect(both.some((name) => /-config-[0-9a-f]{32}\.v8$/.test(name))).toBe(true);
    await execFileAsync(process.execPath, [launcher, '--help'], { env });
    expect(readdirSync(path.join(cacheRoot, 'v8')).sort()).toEqual(both);
    await expect(execFileAsync(process.execPath, [launcher, 'no-such-command'], { env })).rejects.toMatchObject({ code: 2 });
    const off = await execFileAsync(process.execPath, [launcher, '--help'], { env: { ...env, STRATA_CACHE_DIR: path.join(scratch, 'off'), STRATA_COMPILE_CACHE: 'off' } });
    expect(off.stdout).toContain('Usage: strata <command>');
    expect(existsSync(path.join(scratch, 'off'))).toBe(false);
  }, 60_000);

  it('names no path of the bundling machine, and loads a deferred module (ssh2) from where the bundle is installed', async () => {
    const launcher = await bundleCli(path.join(scratch, 'dist-paths'));
    const repoRoot = path.resolve(import.meta.dirname, '../../..');
    expect(readFileSync(path.join(path.dirname(launcher), 'strata-main.cjs'), 'utf8')).not.toContain(repoRoot);
    // A program using dockerode over ssh://, bundled next to the CLI's installed dependencies: the
    // forwarder must find docker-modem's real ssh module (and ssh2) at run time.
    const installed = path.join(import.meta.dirname, '../dist');
    mkdirSync(installed, { recursive: true });
    const dir = mkdtempSync(path.join(installed, 'test-deferred-'));
    try {
      const entry = path.join(dir, 'entry.ts');
      writeFileSync(
        entry,
        "import Dockerode from 'dockerode';\n" +
          "export async function run(): Promise<string> {\n" +
          "  const docker = new Dockerode({ protocol: 'ssh', host: '127.0.0.1', port: 1, username: 'nobody', sshOptions: { readyTimeout: 5000 } });\n" +
          "  return docker.ping().then(() => 'answered', (error: Error & { code?: string }) => String(error.code ?? error.message));\n" +
          '}\n',
      );
      const program = await bundleStrata({ entry, outfile: path.join(dir, 'program.cjs') });
      expect(readFileSync(program, 'utf8')).not.toContain(repoRoot);
      const out = await execFileAsync(process.execPath, ['-e', `require(${JSON.stringify(program)}).run().then((r) => console.log(r))`]);
      // Port 1 on loopback refuses at once: ssh2 was loaded and tried to connect.
      expect(out.stdout.trim()).toBe('ECONNREFUSED');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
