import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { RegistryError } from './errors.js';
import { DOCKER_HUB } from './reference.js';

/** A username and password (or a registry token used as a password). */
export interface BasicCredentials {
  readonly kind: 'basic';
  readonly username: string;
  readonly password: string;
}

/** An OAuth2 refresh token (`identitytoken` in Docker's config.json), exchanged at the token realm. */
export interface IdentityTokenCredentials {
  readonly kind: 'identity-token';
  readonly identityToken: string;
}

export type Credentials = BasicCredentials | IdentityTokenCredentials;

/**
 * Where the client finds credentials for a registry host.
 *
 * Contract: `findCredentials` returns `undefined` when there are none for the host (anonymous
 * access is then tried); it may do I/O, may be called concurrently, and should cache. It must never
 * log the secrets it returns.
 */
export interface CredentialStore {
  findCredentials(registry: string, options?: { signal?: AbortSignal }): Promise<Credentials | undefined>;
}

/** Credentials held in memory, keyed by registry host (`127.0.0.1:5000`, `docker.io`). */
export class MemoryCredentialStore implements CredentialStore {
  readonly #entries: Map<string, Credentials>;

  constructor(entries: Record<string, Credentials> = {}) {
    this.#entries = new Map(Object.entries(entries));
  }

  findCredentials(registry: string): Promise<Credentials | undefined> {
    return Promise.resolve(this.#entries.get(registry));
  }
}

export interface DockerConfigCredentialStoreOptions {
  /**
   * Path of the config file.
   * @default `$DOCKER_CONFIG/config.json` when `DOCKER_CONFIG` is set in `env`, else `~/.docker/config.json`
   */
  path?: string;
  /**
   * Environment used to find the default path, and given to credential helpers (their `PATH`).
   * @default process.env
   */
  env?: Record<string, string | undefined>;
  /**
   * Longest a credential helper may run.
   * @default 30000
   */
  helperTimeoutMs?: number;
}

/** The default location of Docker's config.json for an environment. */
export function dockerConfigPath(env: Record<string, string | undefined> = process.env): string {
  const dir = env.DOCKER_CONFIG;
  return dir !== undefined && dir !== '' ? join(dir, 'config.json') : join(homedir(), '.docker', 'config.json');
}

interface DockerConfigFile {
  auths?: Record<string, { auth?: string; identitytoken?: string; username?: string; password?: string } | undefined>;
  credsStore?: string;
  credHelpers?: Record<string, string | undefined>;
}

/**
 * Reads credentials from Docker's `config.json`: `auths[host].auth` (base64 `user:pass`),
 * `username`/`password`, or `identitytoken`. The file is read on the first lookup (never in the
 * constructor) and cached for the store's lifetime; a missing file means "no credentials".
 *
 * Credential helpers run as Docker runs them (`docker-credential-<name> get`, server address on
 * stdin, JSON on stdout): `credHelpers[host]` first; then inline secrets in `auths`; then
 * `credsStore` for every other host. A helper's "credentials not found" means anonymous; a missing
 * or failing helper is `REGISTRY_CREDENTIAL_HELPER_FAILED`. Answers are cached per host.
 */
export class DockerConfigCredentialStore implements CredentialStore {
  readonly #path: string;
  readonly #env: Record<string, string | undefined>;
  readonly #helperTimeoutMs: number;
  #config: Promise<DockerConfigFile> | undefined;
  readonly #helperAnswers = new Map<string, Promise<Credentials | undefined>>();

  constructor(options: DockerConfigCredentialStoreOptions = {}) {
    this.#env = options.env ?? process.env;
    this.#path = options.path ?? dockerConfigPath(this.#env);
    this.#helperTimeoutMs = options.helperTimeoutMs ?? 30_000;
  }

  get path(): string {
    return this.#path;
  }

  async findCredentials(registry: string, options: { signal?: AbortSignal } = {}): Promise<Credentials | undefined> {
    this.#config ??= this.#load(options.signal);
    const config = await this.#config;
    const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => normaliseConfigKey(key) === registry)?.[1];
    if (helper !== undefined && helper !== '') return this.#fromHelper(helper, registry);
    const entry = Object.entries(config.auths ?? {}).find(([key]) => normaliseConfigKey(key) === registry)?.[1];
    const store = config.credsStore !== undefined && config.credsStore !== '' ? config.credsStore : undefined;
    if (entry === undefined) return store === undefined ? undefined : this.#fromHelper(store, registry);
    if (typeof entry.identitytoken === 'string' && entry.identitytoken !== '') {
      return { kind: 'identity-token', identityToken: entry.identitytoken };
    }
    if (typeof entry.auth === 'string' && entry.auth !== '') {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon <= 0) {
        throw new RegistryError('REGISTRY_CREDENTIALS_INVALID', `the auth entry for ${registry} in ${this.#path} is not base64 "user:password"`, {
          hint: 'Run `docker login` again for this registry.',
          data: { registry, path: this.#path },
        });
      }
      return { kind: 'basic', username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
    }
    if (typeof entry.username === 'string' && typeof entry.password === 'string') {
      return { kind: 'basic', username: entry.username, password: entry.password };
    }
    return store === undefined ? undefined : this.#fromHelper(store, registry);
  }

  #fromHelper(helper: string, registry: string): Promise<Credentials | undefined> {
    const key = `${helper} ${registry}`;
    let answer = this.#helperAnswers.get(key);
    if (answer === undefined) {
      answer = runHelper(helper, registry === DOCKER_HUB ? 'https://index.docker.io/v1/' : registry, this.#env, this.#helperTimeoutMs);
      this.#helperAnswers.set(key, answer);
      // A failure is not cached: the next lookup runs the helper again.
      answer.catch(() => this.#helperAnswers.delete(key));
    }
    return answer;
  }

  async #load(signal: AbortSignal | undefined): Promise<DockerConfigFile> {
    let text: string;
    try {
      text = await readFile(this.#path, { encoding: 'utf8', signal });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return {};
      throw new RegistryError('REGISTRY_CREDENTIALS_INVALID', `cannot read Docker config ${this.#path}`, {
        data: { path: this.#path },
        cause: error,
      });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      // The parse error text may quote the file's content, i.e. secrets: do not chain it.
      throw new RegistryError('REGISTRY_CREDENTIALS_INVALID', `Docker config ${this.#path} is not valid JSON`, {
        hint: 'Fix or remove the file; `docker login` rewrites it.',
        data: { path: this.#path },
      });
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new RegistryError('REGISTRY_CREDENTIALS_INVALID', `Docker config ${this.#path} is not a JSON object`, { data: { path: this.#path } });
    }
    return parsed;
  }
}

/** `https://index.docker.io/v1/` → `index.docker.io`; `http://host:5000/` → `host:5000`. */
function normaliseConfigKey(key: string): string {
  const withoutScheme = key.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '');
  const host = withoutScheme.split('/')[0] ?? '';
  return host === 'index.docker.io' || host === 'registry-1.docker.io' ? DOCKER_HUB : host;
}

/** Runs `docker-credential-<helper> get` for `serverUrl`. Never puts the helper's output in an error. */
function runHelper(helper: string, serverUrl: string, env: Record<string, string | undefined>, timeoutMs: number): Promise<Credentials | undefined> {
  const program = `docker-credential-${helper}`;
  const failed = (reason: string, cause?: unknown) =>
    new RegistryError('REGISTRY_CREDENTIAL_HELPER_FAILED', `credential helper ${program} failed for ${serverUrl}: ${reason}`, {
      hint: `Check that ${program} is installed and on PATH, and that you are logged in (docker login ${serverUrl}).`,
      data: { registry: serverUrl, helper },
      cause,
    });
  if (!/^[A-Za-z0-9._-]+$/.test(helper)) return Promise.reject(failed('invalid helper name'));
  return new Promise((resolve, reject) => {
    const child = spawn(program, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], timeout: timeoutMs });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', (error: NodeJS.ErrnoException) => reject(failed(error.code === 'ENOENT' ? 'not found on PATH' : (error.code ?? 'could not start'))));
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverUrl);
    child.on('close', (code, signal) => {
      const stdout = Buffer.concat(out).toString('utf8');
      if (code !== 0) {
        const text = `${stdout}\n${Buffer.concat(err).toString('utf8')}`;
        if (/credentials not found/i.test(text)) resolve(undefined);
        else reject(failed(signal !== null ? `killed by ${signal}` : `exit code ${code}`));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(stdout);
      } catch {
        reject(failed('its answer is not JSON'));
        return;
      }
      const answer = parsed as { Username?: unknown; Secret?: unknown };
      if (typeof answer.Secret !== 'string' || answer.Secret === '') {
        resolve(undefined);
        return;
      }
      // Docker's convention: the user name `<token>` marks an identity (refresh) token.
      if (answer.Username === '<token>') resolve({ kind: 'identity-token', identityToken: answer.Secret });
      else if (typeof answer.Username === 'string') resolve({ kind: 'basic', username: answer.Username, password: answer.Secret });
      else reject(failed('its answer has no Username'));
    });
  });
}
