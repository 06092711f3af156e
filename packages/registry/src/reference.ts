import { parseDigest, type Digest } from './digest.js';
import { RegistryError } from './errors.js';

/** Docker Hub's canonical registry name in references. */
export const DOCKER_HUB = 'docker.io';

const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]{1,5})?$`);
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const TAG = /^[\w][\w.-]{0,127}$/;
const MAX_NAME_LENGTH = 255;

/**
 * A repository in a registry, normalised the way Docker does it (`alpine` is
 * `docker.io/library/alpine`). Immutable; build it with {@link parseRepository}.
 */
export class Repository {
  /** Registry host with optional port, e.g. `127.0.0.1:5000`, `docker.io`. */
  readonly registry: string;
  /** Repository path inside the registry, e.g. `library/alpine`, `ns/name`. */
  readonly path: string;

  /** Use {@link parseRepository}; this constructor only checks its inputs. */
  constructor(registry: string, path: string) {
    if (!DOMAIN.test(registry)) throw invalid(`${registry}/${path}`, `invalid registry host ${JSON.stringify(registry)}`);
    validatePath(path, `${registry}/${path}`);
    this.registry = registry;
    this.path = path;
  }

  /** `registry/path`, always fully qualified. */
  toString(): string {
    return `${this.registry}/${this.path}`;
  }

  /** A reference to `tag` (or a digest) in this repository. */
  at(reference: string): ImageReference {
    return parseImageReference(`${this.toString()}${reference.startsWith('sha256:') ? '@' : ':'}${reference}`);
  }

  equals(other: Repository): boolean {
    return this.registry === other.registry && this.path === other.path;
  }
}

/**
 * An image reference: a repository plus a tag and/or a digest. When both are given the digest is
 * what identifies the content; the tag is informational (Docker behaves the same way).
 */
export class ImageReference {
  readonly repository: Repository;
  readonly tag: string | undefined;
  readonly digest: Digest | undefined;

  constructor(repository: Repository, tag: string | undefined, digest: Digest | undefined) {
    if (tag === undefined && digest === undefined) throw invalid(repository.toString(), 'a reference needs a tag or a digest');
    if (tag !== undefined && !TAG.test(tag)) throw invalid(`${repository.toString()}:${tag}`, `invalid tag ${JSON.stringify(tag)}`);
    this.repository = repository;
    this.tag = tag;
    this.digest = digest;
  }

  /** What to put in `/v2/<name>/manifests/<reference>`: the digest when known, else the tag. */
  get reference(): string {
    return this.digest ?? (this.tag as string);
  }

  toString(): string {
    return `${this.repository.toString()}${this.tag === undefined ? '' : `:${this.tag}`}${this.digest === undefined ? '' : `@${this.digest}`}`;
  }
}

/** True for hosts that are this machine: `localhost`, `127.0.0.0/8`, `::1` (with or without a port). */
export function isLoopbackHost(host: string): boolean {
  const hostname = stripPort(host).toLowerCase();
  if (hostname === 'localhost' || hostname.endsWith('.localhost')) return true;
  if (hostname === '::1' || hostname === '[::1]') return true;
  const octets = hostname.split('.');
  return octets.length === 4 && octets[0] === '127' && octets.every((o) => /^\d{1,3}$/.test(o) && Number(o) <= 255);
}

function stripPort(host: string): string {
  if (host.startsWith('[')) {
    const end = host.indexOf(']');
    return end === -1 ? host : host.slice(0, end + 1);
  }
  const colon = host.lastIndexOf(':');
  return colon === -1 || host.indexOf(':') !== colon ? host : host.slice(0, colon);
}

/**
 * Parses a repository name with Docker's normalisation: the first component is a registry host
 * when it contains `.` or `:`, is `localhost`, or has uppercase letters; otherwise the registry is
 * `docker.io`, and single-component Docker Hub names get `library/`. `index.docker.io` is
 * normalised to `docker.io`. Throws `REGISTRY_INVALID_REFERENCE`.
 */
export function parseRepository(text: string): Repository {
  if (text.length === 0) throw invalid(text, 'empty repository name');
  const slash = text.indexOf('/');
  let registry: string;
  let path: string;
  const first = slash === -1 ? '' : text.slice(0, slash);
  if (slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first)) {
    registry = first === 'index.docker.io' ? DOCKER_HUB : first;
    path = text.slice(slash + 1);
  } else {
    registry = DOCKER_HUB;
    path = text;
  }
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  if (!DOMAIN.test(registry)) throw invalid(text, `invalid registry host ${JSON.stringify(registry)}`);
  validatePath(path, text);
  return new Repository(registry, path);
}

/**
 * Parses `name[:tag][@sha256:…]` with the same normalisation as {@link parseRepository}. A
 * reference with neither tag nor digest gets the tag `latest`, as Docker does.
 */
export function parseImageReference(text: string): ImageReference {
  let rest = text;
  let digest: Digest | undefined;
  const at = rest.lastIndexOf('@');
  if (at !== -1) {
    try {
      digest = parseDigest(rest.slice(at + 1));
    } catch (cause) {
      throw invalid(text, 'invalid digest', cause);
    }
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG.test(tag)) throw invalid(text, `invalid tag ${JSON.stringify(tag)}`);
  }
  const repository = parseRepository(rest);
  return new ImageReference(repository, digest === undefined ? (tag ?? 'latest') : tag, digest);
}

function validatePath(path: string, input: string): void {
  if (path.length === 0) throw invalid(input, 'empty repository path');
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      throw invalid(input, `invalid path component ${JSON.stringify(component)} (lowercase letters, digits and single separators . _ __ -)`);
    }
  }
  if (path.length > MAX_NAME_LENGTH) throw invalid(input, `repository path longer than ${MAX_NAME_LENGTH} characters`);
}

function invalid(input: string, reason: string, cause?: unknown): RegistryError {
  return new RegistryError('REGISTRY_INVALID_REFERENCE', `invalid image reference ${JSON.stringify(input)}: ${reason}`, {
    hint: 'Use [registry[:port]/]path[:tag][@sha256:digest], with a lowercase path.',
    data: { reference: input },
    cause,
  });
}
