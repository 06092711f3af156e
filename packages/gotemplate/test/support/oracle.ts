/**
 * The Go oracle for differential tests: builds `oracle/main.go` (text/template + Debian's sprig)
 * once per source hash and serves every case through one long-lived process (JSON lines).
 */
import { type ChildProcessWithoutNullStreams, execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { GoFloat } from '@strata/gotemplate';

const ORACLE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'oracle');
const GOPATH = '/usr/share/gocode';
const SPRIG = join(GOPATH, 'src/github.com/Masterminds/sprig');

export type OracleResult = { ok: true; out: string } | { ok: false; err: string };

export interface OracleRequest {
  name?: string;
  template: string;
  /** Data already encoded with {@link encodeData}. */
  dataJson: string;
  definitions?: { name: string; text: string }[];
}

/** Why the oracle cannot run here, or undefined when it can. */
export function oracleUnavailableReason(): string | undefined {
  try {
    execFileSync('go', ['version'], { stdio: 'pipe' });
  } catch {
    return 'Go toolchain not found (apt-get install golang-go golang-github-masterminds-sprig-dev)';
  }
  if (!existsSync(SPRIG)) return `sprig not found at ${SPRIG} (apt-get install golang-github-masterminds-sprig-dev)`;
  return undefined;
}

/** Builds the oracle binary (cached by source hash and Go version) and returns its path. */
export function buildOracle(): string {
  const source = readFileSync(join(ORACLE_DIR, 'main.go'));
  const goVersion = execFileSync('go', ['version'], { encoding: 'utf8' });
  const hash = createHash('sha256').update(source).update(goVersion).digest('hex').slice(0, 16);
  const dir = join(tmpdir(), 'strata-gotemplate-oracle');
  const bin = join(dir, `oracle-${hash}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.tmp`;
  execFileSync('go', ['build', '-o', tmp, '.'], {
    cwd: ORACLE_DIR,
    stdio: 'pipe',
    env: { ...process.env, GO111MODULE: 'off', GOPATH, GOFLAGS: '', GOCACHE: join(dir, 'gocache') },
  });
  renameSync(tmp, bin);
  return bin;
}

/** One oracle process; requests are answered in order. */
export class Oracle {
  private proc: ChildProcessWithoutNullStreams | undefined;
  private waiters: ((r: OracleResult) => void)[] = [];
  private nextId = 1;

  constructor(private readonly bin: string) {}

  private start(): ChildProcessWithoutNullStreams {
    const proc = spawn(this.bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    const rl = createInterface({ input: proc.stdout });
    rl.on('line', (line) => {
      const w = this.waiters.shift();
      const r = JSON.parse(line) as { ok: boolean; out?: string; err?: string };
      w?.(r.ok ? { ok: true, out: r.out ?? '' } : { ok: false, err: r.err ?? '' });
    });
    proc.on('exit', () => {
      this.proc = undefined;
      for (const w of this.waiters.splice(0)) w({ ok: false, err: 'oracle crashed' });
    });
    this.proc = proc;
    return proc;
  }

  /** Renders one request; rejects (and kills the oracle) when Go takes longer than `timeoutMs`. */
  render(req: OracleRequest, timeoutMs = 15_000): Promise<OracleResult> {
    const proc = this.proc ?? this.start();
    const line = `{"id":${this.nextId++},"name":${JSON.stringify(req.name ?? 't')},"template":${JSON.stringify(req.template)},"data":${req.dataJson},"definitions":${JSON.stringify(req.definitions ?? [])}}\n`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(new Error(`Go oracle timed out after ${timeoutMs} ms on ${JSON.stringify(req.template)}`));
      }, timeoutMs);
      this.waiters.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
      proc.stdin.write(line);
    });
  }

  close(): void {
    const proc = this.proc;
    this.proc = undefined;
    if (proc) {
      proc.stdin.end();
      // A Go render stuck in deep recursion must not outlive the test run.
      setTimeout(() => proc.kill('SIGKILL'), 2_000).unref();
    }
  }
}

/** JSON for the oracle: integers stay ints, floats are written with a '.' or an exponent. */
export function encodeData(v: unknown): string {
  if (v === undefined || v === null) return 'null';
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('non-finite number in test data');
    return String(v);
  }
  if (v instanceof GoFloat) {
    const f = v.value;
    const s = Object.is(f, -0) ? '-0' : String(f);
    return /[.eE]/.test(s) ? s : `${s}.0`;
  }
  if (typeof v === 'string' || typeof v === 'boolean') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(encodeData).join(',')}]`;
  return `{${Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${JSON.stringify(k)}:${encodeData(x)}`)
    .join(',')}}`;
}
