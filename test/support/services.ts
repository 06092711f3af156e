/**
 * What a test needs from the machine, stated at the top of the test.
 *
 * `bash scripts/services.sh start` installs and starts the real services on loopback; this module
 * only looks for them. A test that needs one calls, first thing:
 *
 * ```ts
 * it('pushes a stage', async (ctx) => {
 *   await requireServices(ctx, 'docker', 'registry');
 *   ...
 * });
 * ```
 *
 * When a service is missing, the test is skipped with a reason that names the service, what did
 * not answer, and the command that starts it; under `CI=true` (exactly that string) it fails with
 * the same text instead, so CI can never pass by skipping. Setup hooks, which have no `ctx.skip`,
 * use {@link findMissingServices} or {@link checkService} directly.
 *
 * - `docker`: `GET /_ping` answers on the engine's unix socket (`DOCKER_HOST` when it is a
 *   `unix://` address, else `/var/run/docker.sock`) AND the base image {@link BASE_IMAGE} exists.
 * - `registry`: `GET http://127.0.0.1:5000/v2/` answers 200 (no auth).
 * - `redis`: `PING` over RESP on 127.0.0.1:6379 answers `+PONG`.
 * - `go`: `go version` runs AND Debian's sprig is in `/usr/share/gocode` (the GOPATH the gotemplate
 *   conformance tests use).
 *
 * Checks run at most once per service per process (the result is cached) and touch loopback only.
 * A missing service is refused at once; a peer that is there but silent for
 * {@link PROBE_TIMEOUT_MS} is asked once more with {@link SLOW_PROBE_TIMEOUT_MS}, so a loaded CI
 * machine does not turn a slow answer into a failure.
 */
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import type { TestContext } from 'vitest';

export type Service = 'docker' | 'registry' | 'redis' | 'go';

export const SERVICES: readonly Service[] = ['docker', 'registry', 'redis', 'go'];

/** The test registry, as written in image references (`127.0.0.1:5000/repo:tag`); plain HTTP. */
export const REGISTRY = '127.0.0.1:5000';
export const REGISTRY_URL = `http://${REGISTRY}`;
export const REDIS_HOST = '127.0.0.1';
export const REDIS_PORT = 6379;
export const REDIS_URL = `redis://${REDIS_HOST}:${REDIS_PORT}`;
/** Busybox with every applet, built locally by services.sh; no registry pull needed. */
export const BASE_IMAGE = 'busybox:local';
export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';
/** Debian's GOPATH entry that holds sprig (package golang-github-masterminds-sprig-dev). */
export const GOCODE_MASTERMINDS = '/usr/share/gocode/src/github.com/Masterminds';
export const START_COMMAND = 'bash scripts/services.sh start';
/** Deadline of one probe. */
export const PROBE_TIMEOUT_MS = 1000;
/** Deadline of the single retry after a probe timed out (never used when the peer refuses). */
export const SLOW_PROBE_TIMEOUT_MS = 5000;
/** Reasons of timed-out probes carry this text; `checkService` retries them once. */
const TIMEOUT_TEXT = 'no answer within';

export type Availability = { available: true } | { available: false; reason: string };

/** What a test does about its services: run, skip locally, or fail under CI. */
export type ServiceDecision =
  | { action: 'run' }
  | { action: 'skip'; reason: string }
  | { action: 'fail'; message: string };

/**
 * Decides what a test does given the environment and each needed service's availability (pure).
 * CI is `env.CI === 'true'`, the value CI sets; anything else counts as a local run.
 */
export function decideServices(
  env: Readonly<Record<string, string | undefined>>,
  availability: ReadonlyArray<readonly [Service, Availability]>,
): ServiceDecision {
  const missing = availability.flatMap(([name, state]) => (state.available ? [] : [`${name}: ${state.reason}`]));
  if (missing.length === 0) return { action: 'run' };
  const names = availability.filter(([, state]) => !state.available).map(([name]) => name);
  const details = `${missing.join('; ')}. Start them with \`${START_COMMAND}\``;
  if (env.CI === 'true') {
    return { action: 'fail', message: `CI=true and required service(s) ${names.join(', ')} missing — ${details}` };
  }
  return { action: 'skip', reason: `needs ${names.join(', ')} — ${details}` };
}

/**
 * Returns the unix socket path for the Docker engine: `DOCKER_HOST` when it is `unix://PATH`,
 * {@link DEFAULT_DOCKER_SOCKET} when it is unset or empty, `undefined` for any other scheme
 * (TCP engines are not probed: tests talk to the local engine only).
 */
export function dockerSocketPath(env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  const host = env.DOCKER_HOST;
  if (host === undefined || host === '') return DEFAULT_DOCKER_SOCKET;
  return host.startsWith('unix://') ? host.slice('unix://'.length) : undefined;
}

export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** Connect to this unix socket instead of the URL's host (the URL's path is still used). */
  socketPath?: string;
  /** @default PROBE_TIMEOUT_MS */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** One HTTP request with a hard deadline (`node:http`, so unix sockets work); body read as UTF-8. */
export function httpRequest(url: string, options: HttpOptions = {}): Promise<HttpResponse> {
  const timeoutMs = options.timeoutMs ?? PROBE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const signal = options.signal ? AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs);
    const req = request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, socketPath: options.socketPath, signal },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }));
        res.on('error', reject);
      },
    );
    req.on('error', (error: Error) => {
      reject(signal.aborted && !options.signal?.aborted ? new Error(`${TIMEOUT_TEXT} ${timeoutMs} ms`, { cause: error }) : error);
    });
    req.end();
  });
}

/**
 * Sends one RESP command and resolves with the reply: a simple reply as its whole line (`+PONG`,
 * `-ERR …`, `:1`), a bulk string as its payload, `$-1` for nil. Loopback only; no pipelining.
 */
export function redisCommand(args: readonly string[], options: { host?: string; port?: number; timeoutMs?: number } = {}): Promise<string> {
  const { host = REDIS_HOST, port = REDIS_PORT, timeoutMs = PROBE_TIMEOUT_MS } = options;
  const frame = `*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`;
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    let received = Buffer.alloc(0);
    const timer = setTimeout(() => finish(new Error(`${TIMEOUT_TEXT} ${timeoutMs} ms from ${host}:${port}`)), timeoutMs);
    function finish(error: Error | undefined, reply?: string): void {
      clearTimeout(timer);
      socket.destroy();
      if (error) reject(error);
      else resolve(reply ?? '');
    }
    socket.on('connect', () => socket.write(frame));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      const end = received.indexOf('\r\n');
      if (end === -1) return;
      const line = received.subarray(0, end).toString('utf8');
      const size = line.startsWith('$') ? Number(line.slice(1)) : -1;
      if (size < 0) return finish(undefined, line);
      // A bulk string carries its payload after the length line.
      if (received.length < end + 2 + size + 2) return;
      finish(undefined, received.subarray(end + 2, end + 2 + size).toString('utf8'));
    });
    socket.on('error', (error) => finish(error));
    socket.on('end', () => finish(new Error(`connection to ${host}:${port} closed before a reply`)));
  });
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/**
 * Runs a program (no shell) and resolves with its output; rejects with an Error whose message
 * holds the command line, exit code and stderr. Output is UTF-8; `input` goes to stdin.
 */
export function runCommand(
  file: string,
  args: readonly string[],
  options: { timeoutMs?: number; signal?: AbortSignal; input?: string | Buffer; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      file,
      args,
      { timeout: options.timeoutMs ?? 60_000, signal: options.signal, cwd: options.cwd, env: options.env, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (error, stdout, stderr) => {
        if (error) {
          const code = (error as { code?: unknown }).code;
          const why =
            typeof code === 'number' ? `exit ${code}`
            : typeof code === 'string' ? code
            : error.killed ? `${TIMEOUT_TEXT} ${options.timeoutMs ?? 60_000} ms (killed)`
            : 'failed';
          reject(new Error(`${[file, ...args].join(' ')}: ${why}: ${stderr.trim() || error.message}`, { cause: error }));
        } else {
          resolve({ stdout, stderr });
        }
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

function describeError(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** Probes the Docker engine at `socketPath` and the presence of {@link BASE_IMAGE}. */
export async function probeDocker(socketPath: string | undefined, timeoutMs = PROBE_TIMEOUT_MS): Promise<Availability> {
  if (socketPath === undefined) {
    return { available: false, reason: `DOCKER_HOST=${process.env.DOCKER_HOST ?? ''} is not a unix:// socket; only the local engine is used` };
  }
  try {
    const ping = await httpRequest('http://docker/_ping', { socketPath, timeoutMs });
    if (ping.status !== 200) return { available: false, reason: `engine at unix://${socketPath} answered GET /_ping with ${ping.status}` };
  } catch (error) {
    return { available: false, reason: `engine not answering at unix://${socketPath} (${describeError(error)})` };
  }
  try {
    const image = await httpRequest(`http://docker/images/${BASE_IMAGE}/json`, { socketPath, timeoutMs });
    if (image.status !== 200) return { available: false, reason: `base image ${BASE_IMAGE} is missing (engine answered ${image.status})` };
  } catch (error) {
    return { available: false, reason: `could not look up ${BASE_IMAGE} (${describeError(error)})` };
  }
  return { available: true };
}

/** Probes a Distribution registry's `GET /v2/` at `baseUrl` (no auth expected). */
export async function probeRegistry(baseUrl = REGISTRY_URL, timeoutMs = PROBE_TIMEOUT_MS): Promise<Availability> {
  try {
    const res = await httpRequest(`${baseUrl}/v2/`, { timeoutMs });
    return res.status === 200 ? { available: true } : { available: false, reason: `registry at ${baseUrl} answered GET /v2/ with ${res.status}` };
  } catch (error) {
    return { available: false, reason: `registry not answering at ${baseUrl} (${describeError(error)})` };
  }
}

/** Probes Redis with `PING` over RESP. */
export async function probeRedis(host = REDIS_HOST, port = REDIS_PORT, timeoutMs = PROBE_TIMEOUT_MS): Promise<Availability> {
  try {
    const reply = await redisCommand(['PING'], { host, port, timeoutMs });
    return reply === '+PONG' ? { available: true } : { available: false, reason: `redis at ${host}:${port} answered PING with ${JSON.stringify(reply)}` };
  } catch (error) {
    return { available: false, reason: `redis not answering at ${host}:${port} (${describeError(error)})` };
  }
}

/** Probes `go version` and sprig under `mastermindsDir`. */
export async function probeGo(mastermindsDir = GOCODE_MASTERMINDS, timeoutMs = PROBE_TIMEOUT_MS): Promise<Availability> {
  try {
    await runCommand('go', ['version'], { timeoutMs });
  } catch (error) {
    return { available: false, reason: `\`go version\` failed (${describeError(error)}; package golang-go)` };
  }
  let entries: string[];
  try {
    entries = readdirSync(mastermindsDir);
  } catch {
    entries = [];
  }
  if (!entries.some((entry) => entry.startsWith('sprig'))) {
    return { available: false, reason: `sprig not found in ${mastermindsDir} (package golang-github-masterminds-sprig-dev)` };
  }
  return { available: true };
}

const cache = new Map<Service, Promise<Availability>>();

/** Whether a service answers; checked once per process, then cached. Never throws. */
export function checkService(name: Service): Promise<Availability> {
  let pending = cache.get(name);
  if (pending === undefined) {
    pending = probe(name);
    cache.set(name, pending);
  }
  return pending;
}

async function probe(name: Service): Promise<Availability> {
  const first = await probeOnce(name, PROBE_TIMEOUT_MS);
  if (first.available || !first.reason.includes(TIMEOUT_TEXT)) return first;
  return probeOnce(name, SLOW_PROBE_TIMEOUT_MS);
}

function probeOnce(name: Service, timeoutMs: number): Promise<Availability> {
  switch (name) {
    case 'docker':
      return probeDocker(dockerSocketPath(), timeoutMs);
    case 'registry':
      return probeRegistry(REGISTRY_URL, timeoutMs);
    case 'redis':
      return probeRedis(REDIS_HOST, REDIS_PORT, timeoutMs);
    case 'go':
      return probeGo(GOCODE_MASTERMINDS, timeoutMs);
  }
}

/** Checks every named service (in parallel) and returns the decision for this process's env. */
export async function checkServices(...names: Service[]): Promise<ServiceDecision> {
  const states = await Promise.all(names.map(async (name) => [name, await checkService(name)] as const));
  return decideServices(process.env, states);
}

/**
 * Returns why the named services cannot be used, or `undefined` when all answer. Throws under
 * `CI=true` when one is missing. For setup hooks (`beforeAll`), which cannot skip a test.
 */
export async function findMissingServices(...names: Service[]): Promise<string | undefined> {
  const decision = await checkServices(...names);
  if (decision.action === 'fail') throw new Error(decision.message);
  return decision.action === 'skip' ? decision.reason : undefined;
}

/**
 * Makes the current test need the named services: returns when all answer; otherwise skips the
 * test with the reason (`ctx.skip`, which throws to end the test) or, under `CI=true`, throws an
 * Error that names the missing services and `bash scripts/services.sh start`.
 */
export async function requireServices(ctx: Pick<TestContext, 'skip'>, ...names: Service[]): Promise<void> {
  const decision = await checkServices(...names);
  if (decision.action === 'fail') throw new Error(decision.message);
  if (decision.action === 'skip') ctx.skip(decision.reason);
}
