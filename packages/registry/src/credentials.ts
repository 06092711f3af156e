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
   * Environment used to find the default path.
   * @default process.env
   */
  env?: Record<string, string | undefined>;
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
 * Credential helpers are not run: a host listed in `credHelpers`, or a host with an `auths` entry
 * without inline secrets while `credsStore` is set, fails with
 * `REGISTRY_CREDENTIAL_HELPER_UNSUPPORTED`. Hosts unknown to the file are anonymous.
 */
export class DockerConfigCredentialStore implements CredentialStore {
  readonly #path: string;
  #config: Promise<DockerConfigFile> | undefined;

  constructor(options: DockerConfigCredentialStoreOptions = {}) {
    this.#path = options.path ?? dockerConfigPath(options.env ?? process.env);
  }

  get path(): string {
    return this.#path;
  }

  async findCredentials(registry: string, options: { signal?: AbortSignal } = {}): Promise<Credentials | undefined> {
    this.#config ??= this.#load(options.signal);
    const config = await this.#config;
    const helper = Object.entries(config.credHelpers ?? {}).find(([key]) => normaliseConfigKey(key) === registry)?.[1];
    if (helper !== undefined) throw helperUnsupported(registry, helper, this.#path);
    const entry = Object.entries(config.auths ?? {}).find(([key]) => normaliseConfigKey(key) === registry)?.[1];
    if (entry === undefined) return undefined;
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
    if (config.credsStore !== undefined && config.credsStore !== '') throw helperUnsupported(registry, config.credsStore, this.#path);
    return undefined;
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

function helperUnsupported(registry: string, helper: string, path: string): RegistryError {
  return new RegistryError(
    'REGISTRY_CREDENTIAL_HELPER_UNSUPPORTED',
    `Docker config ${path} delegates credentials for ${registry} to the helper docker-credential-${helper}, which Strata does not run yet`,
    {
      hint: 'Pass credentials explicitly (MemoryCredentialStore) or use a config.json with inline "auth" for this registry.',
      data: { registry, helper, path },
    },
  );
}
