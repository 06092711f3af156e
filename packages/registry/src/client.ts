import { abortReason, abortableSleep } from '@strata/errors';
import type { Credentials, CredentialStore } from './credentials.js';
import { assertDigest, digestOf, DigestHasher, isDigest, parseDigest, type Digest } from './digest.js';
import { redactUrl, RegistryError, type RegistryErrorCode, type RegistryErrorData } from './errors.js';
import { isRetryableStatus, parseAuthChallenges, parseNextLink, parseRegistryErrorCodes, parseRetryAfter } from './http.js';
import { MANIFEST_MEDIA_TYPES } from './media-types.js';
import { fetchTransport, type RegistryTransport, type TransportResponse } from './node-fetch.js';
import { DOCKER_HUB, isLoopbackHost, type ImageReference, type Repository } from './reference.js';
import { sortUniqueInPlace } from './sorted-tags.js';

/** Structured log sink. Messages and data never contain credentials, tokens or auth headers. */
export interface RegistryLogger {
  debug(message: string, data?: Record<string, unknown>): void;
  warn(message: string, data?: Record<string, unknown>): void;
}

export interface RetryOptions {
  /**
   * Attempts per request (or per upload session) including the first.
   * @default 5
   */
  attempts?: number;
  /**
   * First backoff delay; doubles per attempt, with full jitter.
   * @default 200
   */
  baseDelayMs?: number;
  /**
   * Upper bound of one backoff delay.
   * @default 10000
   */
  maxDelayMs?: number;
  /**
   * Longest `Retry-After` the client waits for; a longer one fails the request at once.
   * @default 60000
   */
  maxRetryAfterMs?: number;
}

export interface RegistryClientOptions {
  /**
   * The `fetch` requests are sent with (a test seam). It is called with a `URL`, `redirect: 'manual'`
   * and `Uint8Array` bodies only. Give at most one of `fetch` and `transport`.
   * @default Node's global `fetch`
   */
  fetch?: typeof fetch | undefined;
  /**
   * How requests are sent, instead of `fetch`: one exchange per call (see {@link RegistryTransport}).
   * `nodeHttpTransport` (node:http) suits short-lived processes: Node 20's global `fetch` costs
   * a process ~100 ms of CPU compiling undici's WebAssembly HTTP parser on first use (the `strata` CLI
   * wires it for that reason).
   * @default none: `fetch` is used
   */
  transport?: RegistryTransport | undefined;
  /**
   * Where credentials come from.
   * @default none: every registry is accessed anonymously
   */
  credentials?: CredentialStore;
  /**
   * Registries spoken to over plain HTTP. Nothing else ever uses HTTP: token realms and redirects
   * to plain-HTTP hosts outside this set are refused.
   * @default isLoopbackHost (localhost, 127.0.0.0/8, ::1)
   */
  insecure?: (registry: string) => boolean;
  retry?: RetryOptions;
  /**
   * Milliseconds one attempt may take: until the response headers for streamed blobs
   * ({@link RegistryClient.openBlob}), until the whole body for everything else.
   * @default 60000
   */
  timeoutMs?: number;
  /**
   * Clock for token expiry and `Retry-After` dates (test seam).
   * @default Date.now
   */
  now?: () => number;
  /**
   * Waits between retries (test seam).
   * @default a timer that rejects when the signal aborts
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /**
   * Random source for backoff jitter, in [0, 1) (test seam).
   * @default Math.random
   */
  random?: () => number;
  /** @default no logging */
  logger?: RegistryLogger;
  /** @default "strata-registry" */
  userAgent?: string;
}

export interface CallOptions {
  signal?: AbortSignal;
}

/** What identifies stored content. */
export interface Descriptor {
  readonly mediaType: string;
  readonly digest: Digest;
  readonly size: number;
}

/** A manifest as stored: exact bytes (digests are over these), media type and digest. */
export interface Manifest extends Descriptor {
  readonly bytes: Uint8Array;
}

/** A blob being downloaded; iterating `stream` throws `REGISTRY_DIGEST_MISMATCH` at the end if the content is wrong. */
export interface BlobStream {
  readonly digest: Digest;
  /** From `Content-Length`; `undefined` when the registry did not send it. */
  readonly size: number | undefined;
  readonly stream: AsyncIterable<Uint8Array>;
}

/**
 * Content to upload: bytes, or a re-openable stream (opened again when an upload session has to be
 * restarted after a failure).
 */
export type BlobSource = Uint8Array | { readonly size?: number; open(): AsyncIterable<Uint8Array> };

export interface UploadBlobOptions extends CallOptions {
  /** Required for streamed sources; computed for bytes when omitted. Content is checked against it. */
  digest?: Digest;
  /**
   * Upload in PATCH chunks of this many bytes. Byte sources go up in one PUT unless this is set and
   * smaller than the blob; streamed sources are always chunked.
   * @default 16 MiB for streamed sources
   */
  chunkSize?: number;
}

export type UploadBlobResult =
  | { readonly status: 'exists'; readonly digest: Digest; readonly size: number }
  | { readonly status: 'uploaded'; readonly digest: Digest; readonly size: number };

export type MountBlobResult = { readonly status: 'mounted' } | { readonly status: 'upload-required' };

export interface MountBlobOptions extends CallOptions {
  /** The repository (in the same registry) that already holds the blob. */
  from: Repository;
}

export interface ListTagsOptions extends CallOptions {
  /** Page size to ask for (`n`); registries may ignore it. @default not sent */
  pageSize?: number;
}

export interface PingResult {
  /** The authentication scheme the registry asked for on `/v2/`, `none` when it answered 200. */
  readonly authentication: 'none' | 'basic' | 'bearer';
}

/** Counters of HTTP requests sent, by operation, for tests and benchmarks. */
export interface RegistryRequestStats {
  /** HTTP requests sent (every attempt, redirect and token request counts once). */
  readonly total: number;
  /** Of those, how many were retries after a failure. */
  readonly retries: number;
  readonly byOperation: Readonly<Record<string, number>>;
}

type Method = 'GET' | 'HEAD' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';

interface Exchange {
  readonly status: number;
  readonly headers: TransportResponse['headers'];
  readonly url: URL;
  /** The read body, when requested. */
  readonly body: Uint8Array | undefined;
  /** The live response, when the body was not read. */
  readonly response: TransportResponse | undefined;
}

interface ExchangeSpec {
  readonly operation: string;
  readonly method: Method;
  readonly url: URL;
  readonly headers?: Record<string, string>;
  readonly body?: Uint8Array;
  /** Retry 429/5xx/network failures here (idempotent requests only). */
  readonly retry: boolean;
  /** Read the whole body inside the retry loop. */
  readonly readBody: boolean;
  readonly signal: AbortSignal | undefined;
  /** Returns the Authorization header for a URL (called per attempt and per redirect hop). */
  readonly authorization?: (url: URL) => Promise<string | undefined>;
}

interface RegistryAuthState {
  scheme: 'unknown' | 'none' | 'basic' | 'bearer';
  realm?: string;
  service?: string;
}

interface CachedToken {
  readonly token: string;
  readonly expiresAt: number;
}

const STREAM_CHUNK_SIZE = 16 * 1024 * 1024;
/** What no HTTP header value may hold (node:http's rule; undici's is looser): controls other than tab. */
const INVALID_HEADER_VALUE = /[^\t\x20-\x7e\x80-\xff]/;
const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;

/**
 * An OCI distribution (Docker registry v2) client on `fetch`.
 *
 * - Absent things are values: `head*`/`find*` return `undefined`, `listTags` returns `[]` for an
 *   unknown repository, `deleteManifest` returns `false`. `get*` throws `REGISTRY_*_UNKNOWN`.
 * - Idempotent requests are retried on 429/5xx, connection failures and timeouts with exponential
 *   backoff and full jitter, honouring `Retry-After`. Uploads are never replayed request by request:
 *   a failed upload restarts its session (after checking whether the blob arrived anyway).
 * - Authentication follows the registry's `WWW-Authenticate` challenge (Bearer token or Basic);
 *   tokens are cached per registry and scope set until they expire. Credentials and tokens never
 *   appear in errors or logs.
 * - Safe for concurrent use; the constructor does no I/O.
 */
export class RegistryClient {
  readonly #transport: RegistryTransport;
  readonly #credentials: CredentialStore | undefined;
  readonly #insecure: (registry: string) => boolean;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #maxDelayMs: number;
  readonly #maxRetryAfterMs: number;
  readonly #timeoutMs: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly #random: () => number;
  readonly #logger: RegistryLogger | undefined;
  readonly #userAgent: string;
  readonly #auth = new Map<string, RegistryAuthState>();
  readonly #tokens = new Map<string, CachedToken>();
  readonly #tokenFlights = new Map<string, Promise<CachedToken>>();
  readonly #stats = { total: 0, retries: 0, byOperation: {} as Record<string, number> };

  constructor(options: RegistryClientOptions = {}) {
    if (options.fetch !== undefined && options.transport !== undefined) throw new TypeError('give a RegistryClient `fetch` or `transport`, not both');
    this.#transport = options.transport ?? fetchTransport(options.fetch ?? ((input, init) => fetch(input, init)));
    this.#credentials = options.credentials;
    this.#insecure = options.insecure ?? isLoopbackHost;
    this.#attempts = Math.max(1, options.retry?.attempts ?? 5);
    this.#baseDelayMs = options.retry?.baseDelayMs ?? 200;
    this.#maxDelayMs = options.retry?.maxDelayMs ?? 10_000;
    this.#maxRetryAfterMs = options.retry?.maxRetryAfterMs ?? 60_000;
    this.#timeoutMs = options.timeoutMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#sleep = options.sleep ?? abortableSleep;
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
    this.#userAgent = options.userAgent ?? 'strata-registry';
  }

  /** A snapshot of the request counters. */
  get stats(): RegistryRequestStats {
    return { total: this.#stats.total, retries: this.#stats.retries, byOperation: { ...this.#stats.byOperation } };
  }

  /**
   * Checks that `registry` speaks the v2 API (`GET /v2/`) and learns its authentication scheme.
   * Throws `REGISTRY_UNREACHABLE`/`REGISTRY_UNAVAILABLE`/`REGISTRY_PROTOCOL`.
   */
  async ping(registry: string, options: CallOptions = {}): Promise<PingResult> {
    const url = new URL('/v2/', this.#baseUrl(registry));
    const exchange = await this.#exchange({ operation: 'ping', method: 'GET', url, retry: true, readBody: true, signal: options.signal });
    if (exchange.status === 401) {
      const state = this.#learnChallenge(registry, exchange.headers);
      if (state.scheme === 'basic' || state.scheme === 'bearer') return { authentication: state.scheme };
      throw this.#protocolError(`GET ${redactUrl(url)} answered 401 without a usable WWW-Authenticate challenge`, { method: 'GET', url: redactUrl(url), status: 401, registry });
    }
    if (exchange.status >= 200 && exchange.status < 300) {
      const state = this.#state(registry);
      if (state.scheme === 'unknown') state.scheme = 'none';
      return { authentication: 'none' };
    }
    throw await this.#statusError(exchange, 'GET', { registry });
  }

  /**
   * Every tag of `repository`, following `Link: <…>; rel="next"` pages, de-duplicated and sorted
   * by code point (registries may return them unsorted). An unknown repository has no tags. The
   * array is new on every call and the caller's to keep or change.
   */
  async listTags(repository: Repository, options: ListTagsOptions = {}): Promise<string[]> {
    const tags: string[] = [];
    let url: URL | undefined = this.#v2Url(repository, 'tags/list');
    if (options.pageSize !== undefined) url.searchParams.set('n', String(options.pageSize));
    const seen = new Set<string>();
    while (url !== undefined) {
      options.signal?.throwIfAborted();
      if (seen.has(url.href)) throw this.#protocolError(`tag listing of ${repository.toString()} loops on page ${redactUrl(url)}`, { url: redactUrl(url), repository: repository.toString() });
      seen.add(url.href);
      const exchange = await this.#request(repository, ['pull'], { operation: 'listTags', method: 'GET', url, retry: true, readBody: true, signal: options.signal });
      if (exchange.status === 404) {
        const codes = parseRegistryErrorCodes(decode(exchange.body));
        if (codes.includes('NAME_UNKNOWN') || codes.length === 0) return [];
        throw await this.#statusError(exchange, 'GET', { repository: repository.toString() });
      }
      if (exchange.status !== 200) throw await this.#statusError(exchange, 'GET', { repository: repository.toString() });
      const page = parseJson(decode(exchange.body)) as { tags?: unknown } | null | undefined;
      if (typeof page !== 'object' || page === null || (page.tags !== null && page.tags !== undefined && !Array.isArray(page.tags))) {
        throw this.#protocolError(`tag listing of ${repository.toString()} is not {"tags": [...]}`, { url: redactUrl(url), repository: repository.toString() });
      }
      for (const tag of (page.tags ?? []) as unknown[]) if (typeof tag === 'string') tags.push(tag);
      url = parseNextLink(exchange.headers.get('link'), exchange.url);
      if (url !== undefined) this.#checkSameRegistry(repository, url);
    }
    // Sorting first makes repeats (a tag on two pages) neighbours: dropping them then needs no Set of
    // tens of thousands of strings.
    return sortUniqueInPlace(tags);
  }

  /** The descriptor of a manifest, or `undefined` when it does not exist. */
  async headManifest(reference: ImageReference, options: CallOptions = {}): Promise<Descriptor | undefined> {
    const repository = reference.repository;
    const url = this.#v2Url(repository, `manifests/${reference.reference}`);
    const exchange = await this.#request(repository, ['pull'], {
      operation: 'headManifest', method: 'HEAD', url, headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') }, retry: true, readBody: true, signal: options.signal,
    });
    if (exchange.status === 404) return undefined;
    if (exchange.status !== 200) throw await this.#statusError(exchange, 'HEAD', { repository: repository.toString(), reference: reference.reference });
    const headerDigest = exchange.headers.get('docker-content-digest');
    const length = Number(exchange.headers.get('content-length') ?? Number.NaN);
    const mediaType = contentType(exchange.headers);
    if (headerDigest !== null && isDigest(headerDigest) && Number.isFinite(length) && mediaType !== undefined) {
      if (reference.digest !== undefined) assertDigest(reference.digest, headerDigest, `manifest ${reference.toString()}`, { repository: repository.toString() });
      return { mediaType, digest: headerDigest, size: length };
    }
    // Some registries omit the digest on HEAD; fetch the manifest to know it.
    const manifest = await this.findManifest(reference, options);
    return manifest === undefined ? undefined : { mediaType: manifest.mediaType, digest: manifest.digest, size: manifest.size };
  }

  /**
   * A manifest (image manifest or index, Docker schema 2 or OCI), or `undefined` when it does not
   * exist. The bytes are verified against the requested digest, or against `Docker-Content-Digest`
   * when fetched by tag.
   */
  async findManifest(reference: ImageReference, options: CallOptions = {}): Promise<Manifest | undefined> {
    const repository = reference.repository;
    const url = this.#v2Url(repository, `manifests/${reference.reference}`);
    const exchange = await this.#request(repository, ['pull'], {
      operation: 'getManifest', method: 'GET', url, headers: { accept: MANIFEST_MEDIA_TYPES.join(', ') }, retry: true, readBody: true, signal: options.signal,
    });
    if (exchange.status === 404) {
      const codes = parseRegistryErrorCodes(decode(exchange.body));
      if (codes.length === 0 || codes.some((c) => c === 'MANIFEST_UNKNOWN' || c === 'NAME_UNKNOWN')) return undefined;
    }
    if (exchange.status !== 200) throw await this.#statusError(exchange, 'GET', { repository: repository.toString(), reference: reference.reference });
    const bytes = exchange.body ?? new Uint8Array();
    const digest = digestOf(bytes);
    const data = { repository: repository.toString(), reference: reference.reference };
    if (reference.digest !== undefined) assertDigest(reference.digest, digest, `manifest ${reference.toString()}`, data);
    const headerDigest = exchange.headers.get('docker-content-digest');
    if (headerDigest !== null && isDigest(headerDigest)) assertDigest(headerDigest, digest, `manifest ${reference.toString()} (Docker-Content-Digest)`, data);
    const mediaType = contentType(exchange.headers) ?? embeddedMediaType(bytes);
    if (mediaType === undefined) throw this.#protocolError(`manifest ${reference.toString()} has no media type`, { ...data, url: redactUrl(url) });
    return { mediaType, digest, size: bytes.byteLength, bytes };
  }

  /** Like {@link findManifest}, but a missing manifest throws `REGISTRY_MANIFEST_UNKNOWN`. */
  async getManifest(reference: ImageReference, options: CallOptions = {}): Promise<Manifest> {
    const manifest = await this.findManifest(reference, options);
    if (manifest !== undefined) return manifest;
    throw new RegistryError('REGISTRY_MANIFEST_UNKNOWN', `manifest ${reference.toString()} does not exist`, {
      data: { repository: reference.repository.toString(), reference: reference.reference },
    });
  }

  /**
   * Stores a manifest under a tag or its digest. Idempotent (retried on failure). Blobs it refers
   * to must already be in the repository. Returns the manifest's digest.
   */
  async putManifest(reference: ImageReference, manifest: { bytes: Uint8Array; mediaType: string }, options: CallOptions = {}): Promise<{ digest: Digest }> {
    const repository = reference.repository;
    const digest = digestOf(manifest.bytes);
    const data = { repository: repository.toString(), reference: reference.reference };
    if (reference.digest !== undefined) assertDigest(reference.digest, digest, `manifest to push as ${reference.toString()}`, data);
    const url = this.#v2Url(repository, `manifests/${reference.reference}`);
    const exchange = await this.#request(repository, ['pull', 'push'], {
      operation: 'putManifest', method: 'PUT', url, headers: { 'content-type': manifest.mediaType }, body: manifest.bytes, retry: true, readBody: true, signal: options.signal,
    });
    if (exchange.status !== 201 && exchange.status !== 200 && exchange.status !== 202) throw await this.#statusError(exchange, 'PUT', data);
    const headerDigest = exchange.headers.get('docker-content-digest');
    if (headerDigest !== null && isDigest(headerDigest)) assertDigest(digest, headerDigest, `manifest pushed as ${reference.toString()} (Docker-Content-Digest)`, data);
    return { digest };
  }

  /**
   * Deletes a manifest by digest (tags pointing at it go with it). Returns `false` when it was
   * already absent. Throws `REGISTRY_UNSUPPORTED` when the registry has deletes disabled.
   */
  async deleteManifest(repository: Repository, digest: Digest, options: CallOptions = {}): Promise<boolean> {
    const url = this.#v2Url(repository, `manifests/${digest}`);
    const exchange = await this.#request(repository, ['delete'], { operation: 'deleteManifest', method: 'DELETE', url, retry: true, readBody: true, signal: options.signal });
    if (exchange.status === 202 || exchange.status === 200 || exchange.status === 204) return true;
    if (exchange.status === 404) {
      const codes = parseRegistryErrorCodes(decode(exchange.body));
      if (codes.length === 0 || codes.some((c) => c === 'MANIFEST_UNKNOWN' || c === 'NAME_UNKNOWN')) return false;
    }
    throw await this.#statusError(exchange, 'DELETE', { repository: repository.toString(), digest });
  }

  /** The size of a blob, or `undefined` when the repository does not have it. */
  async headBlob(repository: Repository, digest: Digest, options: CallOptions = {}): Promise<{ digest: Digest; size: number } | undefined> {
    const url = this.#v2Url(repository, `blobs/${digest}`);
    const exchange = await this.#request(repository, ['pull'], { operation: 'headBlob', method: 'HEAD', url, retry: true, readBody: true, signal: options.signal });
    if (exchange.status === 404) return undefined;
    if (exchange.status !== 200) throw await this.#statusError(exchange, 'HEAD', { repository: repository.toString(), digest });
    const size = Number(exchange.headers.get('content-length') ?? Number.NaN);
    if (!Number.isFinite(size)) throw this.#protocolError(`HEAD of blob ${digest} in ${repository.toString()} has no Content-Length`, { repository: repository.toString(), digest });
    return { digest, size };
  }

  /** A blob's content, verified against its digest, or `undefined` when absent. Buffers the whole blob. */
  async findBlob(repository: Repository, digest: Digest, options: CallOptions = {}): Promise<Uint8Array | undefined> {
    const url = this.#v2Url(repository, `blobs/${digest}`);
    const exchange = await this.#request(repository, ['pull'], { operation: 'getBlob', method: 'GET', url, retry: true, readBody: true, signal: options.signal });
    if (exchange.status === 404) {
      const codes = parseRegistryErrorCodes(decode(exchange.body));
      if (codes.length === 0 || codes.some((c) => c === 'BLOB_UNKNOWN' || c === 'NAME_UNKNOWN')) return undefined;
    }
    if (exchange.status !== 200) throw await this.#statusError(exchange, 'GET', { repository: repository.toString(), digest });
    const bytes = exchange.body ?? new Uint8Array();
    assertDigest(digest, digestOf(bytes), `blob from ${repository.toString()}`, { repository: repository.toString() });
    return bytes;
  }

  /** Like {@link findBlob}, but a missing blob throws `REGISTRY_BLOB_UNKNOWN`. */
  async getBlob(repository: Repository, digest: Digest, options: CallOptions = {}): Promise<Uint8Array> {
    const bytes = await this.findBlob(repository, digest, options);
    if (bytes !== undefined) return bytes;
    throw blobUnknown(repository, digest);
  }

  /**
   * Opens a blob for streaming, or returns `undefined` when absent. The stream verifies the digest
   * as it ends; a failure mid-stream is not retried (open it again).
   */
  async openBlob(repository: Repository, digest: Digest, options: CallOptions = {}): Promise<BlobStream | undefined> {
    const url = this.#v2Url(repository, `blobs/${digest}`);
    const exchange = await this.#request(repository, ['pull'], { operation: 'getBlob', method: 'GET', url, retry: true, readBody: false, signal: options.signal });
    const response = exchange.response;
    if (exchange.status === 404) {
      const text = response === undefined ? '' : await readLimited(response);
      const codes = parseRegistryErrorCodes(text);
      if (codes.length === 0 || codes.some((c) => c === 'BLOB_UNKNOWN' || c === 'NAME_UNKNOWN')) return undefined;
      throw this.#errorFor(exchange, 'GET', codes, { repository: repository.toString(), digest });
    }
    if (exchange.status !== 200 || response?.body == null) throw await this.#statusError(exchange, 'GET', { repository: repository.toString(), digest });
    const length = response.headers.get('content-length');
    const body = response.body;
    const stream = async function* verify(): AsyncGenerator<Uint8Array> {
      const hasher = new DigestHasher();
      for await (const chunk of body) {
        hasher.update(chunk);
        yield chunk;
      }
      assertDigest(digest, hasher.digest(), `blob streamed from ${repository.toString()}`, { repository: repository.toString() });
    };
    return { digest, size: length === null ? undefined : Number(length), stream: stream() };
  }

  /**
   * Uploads a blob unless the repository already has it. Byte sources go up monolithically
   * (POST + PUT), streams in PATCH chunks. A failed session is restarted (bounded by the retry
   * attempts) after checking whether the blob arrived anyway. The content is verified against
   * `digest`: a mismatch cancels the upload with `REGISTRY_DIGEST_MISMATCH`.
   */
  async uploadBlob(repository: Repository, source: BlobSource, options: UploadBlobOptions = {}): Promise<UploadBlobResult> {
    const { signal } = options;
    let digest: Digest;
    if (options.digest !== undefined) digest = parseDigest(options.digest);
    else if (source instanceof Uint8Array) digest = digestOf(source);
    else throw new RegistryError('REGISTRY_PROTOCOL', 'uploading a stream needs its digest up front', { hint: 'Pass options.digest.', data: { repository: repository.toString() } });
    if (source instanceof Uint8Array) assertDigest(digest, digestOf(source), `blob to upload to ${repository.toString()}`, { repository: repository.toString() });

    const existing = await this.headBlob(repository, digest, { signal });
    if (existing !== undefined) return { status: 'exists', digest, size: existing.size };
    return this.#uploadWithRestarts(repository, source, digest, options);
  }

  /**
   * Makes `digest` present in `repository`, copying it from `options.from`: nothing when it is
   * already there, a cross-repository mount within one registry, else a streamed download and
   * chunked upload (the download is re-opened if the upload session has to restart). Throws
   * `REGISTRY_BLOB_UNKNOWN` when the source does not have the blob either.
   */
  async copyBlob(repository: Repository, digest: Digest, options: MountBlobOptions & { chunkSize?: number }): Promise<{ status: 'exists' | 'mounted' | 'uploaded' }> {
    const { signal, from } = options;
    if ((await this.headBlob(repository, digest, { signal })) !== undefined) return { status: 'exists' };
    if (from.registry === repository.registry && (await this.mountBlob(repository, digest, { from, signal })).status === 'mounted') return { status: 'mounted' };
    const open = async function* (this: RegistryClient): AsyncGenerator<Uint8Array> {
      const blob = await this.openBlob(from, digest, { signal });
      if (blob === undefined) throw blobUnknown(from, digest);
      try {
        yield* blob.stream;
      } catch (error) {
        if (signal?.aborted === true || error instanceof RegistryError) throw error;
        // A broken download restarts the copy like a broken upload does.
        throw new RegistryError('REGISTRY_UNREACHABLE', `download of blob ${digest} from ${from.toString()} was interrupted: ${describeNetworkError(error)}`, {
          data: { repository: from.toString(), digest },
          cause: sanitizeCause(error),
        });
      }
    }.bind(this);
    const uploadOptions: UploadBlobOptions = { digest };
    if (signal !== undefined) uploadOptions.signal = signal;
    if (options.chunkSize !== undefined) uploadOptions.chunkSize = options.chunkSize;
    await this.#uploadWithRestarts(repository, { open }, digest, uploadOptions);
    return { status: 'uploaded' };
  }

  async #uploadWithRestarts(repository: Repository, source: BlobSource, digest: Digest, options: UploadBlobOptions): Promise<UploadBlobResult> {
    const { signal } = options;
    for (let attempt = 1; ; attempt++) {
      try {
        const size = await this.#uploadSession(repository, source, digest, options);
        return { status: 'uploaded', digest, size };
      } catch (error) {
        if (!isRestartable(error) || attempt >= this.#attempts) throw error;
        signal?.throwIfAborted();
        // The session may have completed even though we did not see the answer.
        const arrived = await this.headBlob(repository, digest, { signal });
        if (arrived !== undefined) return { status: 'uploaded', digest, size: arrived.size };
        const delay = this.#backoff(attempt);
        this.#logger?.warn('registry upload session failed; restarting', { repository: repository.toString(), digest, attempt, delayMs: delay, code: (error as RegistryError).code });
        await this.#sleep(delay, signal);
      }
    }
  }

  /**
   * Mounts a blob from another repository of the same registry without transferring it. Returns
   * `upload-required` when the registry cannot mount it (blob absent there, no access, other
   * registry); the caller then uploads.
   */
  async mountBlob(repository: Repository, digest: Digest, options: MountBlobOptions): Promise<MountBlobResult> {
    const from = options.from;
    if (from.registry !== repository.registry) return { status: 'upload-required' };
    const url = this.#v2Url(repository, 'blobs/uploads/');
    url.searchParams.set('mount', digest);
    url.searchParams.set('from', from.path);
    const scopes = [scope(repository, ['pull', 'push']), scope(from, ['pull'])];
    const exchange = await this.#requestScopes(repository.registry, scopes, {
      operation: 'mountBlob', method: 'POST', url, headers: { 'content-length': '0' }, retry: true, readBody: true, signal: options.signal,
    });
    if (exchange.status === 201) return { status: 'mounted' };
    if (exchange.status === 202) {
      // The registry opened an ordinary upload session instead; we do not use it.
      await this.#cancelUpload(repository, exchange, options.signal);
      return { status: 'upload-required' };
    }
    throw await this.#statusError(exchange, 'POST', { repository: repository.toString(), digest, from: from.toString() });
  }

  // ---------------------------------------------------------------------------------------------
  // Uploads

  async #uploadSession(repository: Repository, source: BlobSource, digest: Digest, options: UploadBlobOptions): Promise<number> {
    const { signal } = options;
    const data = { repository: repository.toString(), digest };
    const start = await this.#request(repository, ['pull', 'push'], {
      operation: 'uploadBlob', method: 'POST', url: this.#v2Url(repository, 'blobs/uploads/'), headers: { 'content-length': '0' }, retry: false, readBody: true, signal,
    });
    if (start.status !== 202) throw await this.#statusError(start, 'POST', data);
    let location = this.#location(start, repository);

    const chunkSize = options.chunkSize ?? (source instanceof Uint8Array ? undefined : STREAM_CHUNK_SIZE);
    if (source instanceof Uint8Array && (chunkSize === undefined || chunkSize >= source.byteLength)) {
      location.searchParams.set('digest', digest);
      const put = await this.#request(repository, ['pull', 'push'], {
        operation: 'uploadBlob', method: 'PUT', url: location, headers: { 'content-type': 'application/octet-stream' }, body: source, retry: false, readBody: true, signal,
      });
      if (put.status !== 201) throw await this.#statusError(put, 'PUT', data);
      this.#checkUploadedDigest(put, digest, data);
      return source.byteLength;
    }

    const hasher = new DigestHasher();
    let offset = 0;
    try {
      for await (const chunk of rechunk(source instanceof Uint8Array ? [source] : source.open(), chunkSize ?? STREAM_CHUNK_SIZE)) {
        signal?.throwIfAborted();
        hasher.update(chunk);
        const patch = await this.#request(repository, ['pull', 'push'], {
          operation: 'uploadBlob',
          method: 'PATCH',
          url: location,
          headers: { 'content-type': 'application/octet-stream', 'content-range': `${offset}-${offset + chunk.byteLength - 1}` },
          body: chunk,
          retry: false,
          readBody: true,
          signal,
        });
        if (patch.status !== 202) throw await this.#statusError(patch, 'PATCH', { ...data, offset });
        location = this.#location(patch, repository);
        offset += chunk.byteLength;
      }
      assertDigest(digest, hasher.digest(), `blob streamed to ${repository.toString()}`, data);
    } catch (error) {
      // A restartable failure gets a new session; anything else (wrong content, a broken source)
      // ends here, so release the session now rather than leave it to the registry's purge.
      if (!isRestartable(error) && signal?.aborted !== true) await this.#cancelUploadAt(repository, location, signal);
      throw error;
    }
    location.searchParams.set('digest', digest);
    const put = await this.#request(repository, ['pull', 'push'], {
      operation: 'uploadBlob', method: 'PUT', url: location, headers: { 'content-length': '0' }, retry: false, readBody: true, signal,
    });
    if (put.status !== 201) throw await this.#statusError(put, 'PUT', data);
    this.#checkUploadedDigest(put, digest, data);
    return offset;
  }

  #checkUploadedDigest(exchange: Exchange, digest: Digest, data: RegistryErrorData): void {
    const header = exchange.headers.get('docker-content-digest');
    if (header !== null && isDigest(header)) assertDigest(digest, header, 'uploaded blob (Docker-Content-Digest)', data);
  }

  #location(exchange: Exchange, repository: Repository): URL {
    const header = exchange.headers.get('location');
    if (header === null) throw this.#protocolError(`upload answer from ${repository.registry} has no Location`, { url: redactUrl(exchange.url), status: exchange.status, repository: repository.toString() });
    const url = new URL(header, exchange.url);
    this.#checkSameRegistry(repository, url);
    return url;
  }

  async #cancelUpload(repository: Repository, exchange: Exchange, signal: AbortSignal | undefined): Promise<void> {
    const header = exchange.headers.get('location');
    if (header === null) return;
    await this.#cancelUploadAt(repository, new URL(header, exchange.url), signal);
  }

  /** Best effort: an abandoned session is garbage-collected by the registry anyway. */
  async #cancelUploadAt(repository: Repository, url: URL, signal: AbortSignal | undefined): Promise<void> {
    try {
      this.#checkSameRegistry(repository, url);
      await this.#request(repository, ['pull', 'push'], { operation: 'cancelUpload', method: 'DELETE', url, retry: false, readBody: true, signal });
    } catch (error) {
      if (signal?.aborted === true) throw abortReason(signal);
      this.#logger?.debug('registry upload cancel failed', { repository: repository.toString(), code: (error as { code?: unknown }).code });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Requests and authentication

  #request(repository: Repository, actions: string[], spec: Omit<ExchangeSpec, 'authorization'>): Promise<Exchange> {
    return this.#requestScopes(repository.registry, [scope(repository, actions)], spec);
  }

  /** One request with authentication: answers a 401 challenge once, then gives up. */
  async #requestScopes(registry: string, scopes: string[], spec: Omit<ExchangeSpec, 'authorization'>): Promise<Exchange> {
    const origin = this.#baseUrl(registry).origin;
    let scopeSet = scopes;
    const authorization = (url: URL) => (url.origin === origin ? this.#authorization(registry, scopeSet, spec.signal) : Promise.resolve(undefined));
    const first = await this.#exchange({ ...spec, authorization });
    if (first.status !== 401) return first;
    await first.response?.body?.cancel();
    const challengeScope = this.#learnChallenge(registry, first.headers).scope;
    if (challengeScope !== undefined) scopeSet = [...new Set([...scopes, ...challengeScope.split(' ')])];
    this.#tokens.delete(tokenKey(registry, scopeSet));
    const hasAuthorization = (await authorization(new URL(origin))) !== undefined;
    if (!hasAuthorization) throw await this.#statusError(first, spec.method, { registry });
    const second = await this.#exchange({ ...spec, authorization });
    if (second.status === 401) throw await this.#statusError(second, spec.method, { registry });
    return second;
  }

  #state(registry: string): RegistryAuthState {
    let state = this.#auth.get(registry);
    if (state === undefined) {
      state = { scheme: 'unknown' };
      this.#auth.set(registry, state);
    }
    return state;
  }

  #learnChallenge(registry: string, headers: Exchange['headers']): RegistryAuthState & { scope?: string } {
    const challenges = parseAuthChallenges(headers.get('www-authenticate') ?? '');
    const bearer = challenges.find((c) => c.scheme === 'bearer' && c.params.realm !== undefined);
    const basic = challenges.find((c) => c.scheme === 'basic');
    const state = this.#state(registry);
    if (bearer !== undefined) {
      state.scheme = 'bearer';
      state.realm = bearer.params.realm;
      state.service = bearer.params.service;
      return { ...state, ...(bearer.params.scope === undefined ? {} : { scope: bearer.params.scope }) };
    }
    if (basic !== undefined) state.scheme = 'basic';
    return { ...state };
  }

  async #authorization(registry: string, scopes: string[], signal: AbortSignal | undefined): Promise<string | undefined> {
    const state = this.#state(registry);
    if (state.scheme === 'basic') {
      const credentials = await this.#findCredentials(registry, signal);
      return credentials?.kind === 'basic' ? basicAuthorization(credentials) : undefined;
    }
    if (state.scheme !== 'bearer' || state.realm === undefined) return undefined;
    const key = tokenKey(registry, scopes);
    const cached = this.#tokens.get(key);
    if (cached !== undefined && cached.expiresAt > this.#now()) return `Bearer ${cached.token}`;
    let flight = this.#tokenFlights.get(key);
    if (flight === undefined) {
      // Shared by concurrent requests, so it does not follow any one caller's signal (it is bounded
      // by the timeout and retry policy); each caller stops waiting when its own signal aborts.
      flight = this.#fetchToken(registry, state.realm, state.service, scopes, undefined).finally(() => this.#tokenFlights.delete(key));
      this.#tokenFlights.set(key, flight);
    }
    const token = await untilAborted(flight, signal);
    this.#tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  async #findCredentials(registry: string, signal: AbortSignal | undefined): Promise<Credentials | undefined> {
    return this.#credentials === undefined ? undefined : this.#credentials.findCredentials(registry, signal === undefined ? {} : { signal });
  }

  async #fetchToken(registry: string, realm: string, service: string | undefined, scopes: string[], signal: AbortSignal | undefined): Promise<CachedToken> {
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw this.#protocolError(`registry ${registry} announced an invalid token realm`, { registry });
    }
    this.#checkScheme(url, 'token realm');
    const credentials = await this.#findCredentials(registry, signal);
    let exchange: Exchange;
    if (credentials?.kind === 'identity-token') {
      const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: credentials.identityToken, client_id: 'strata', scope: scopes.join(' ') });
      if (service !== undefined) form.set('service', service);
      exchange = await this.#exchange({
        operation: 'token', method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new TextEncoder().encode(form.toString()), retry: true, readBody: true, signal,
      });
    } else {
      if (service !== undefined) url.searchParams.set('service', service);
      for (const s of scopes) url.searchParams.append('scope', s);
      const header = credentials?.kind === 'basic' ? basicAuthorization(credentials) : undefined;
      exchange = await this.#exchange({
        operation: 'token', method: 'GET', url, retry: true, readBody: true, signal, authorization: (target) => Promise.resolve(target.origin === url.origin ? header : undefined),
      });
    }
    this.#logger?.debug('registry token requested', { registry, url: redactUrl(url), status: exchange.status, scopes, authenticated: credentials !== undefined });
    if (exchange.status === 401 || exchange.status === 403) {
      throw new RegistryError('REGISTRY_UNAUTHORIZED', `the token service of ${registry} rejected ${credentials === undefined ? 'anonymous access' : 'the credentials'} (${exchange.status})`, {
        hint: credentials === undefined ? `Log in to ${registry} (docker login) or pass credentials.` : `Check the credentials for ${registry}.`,
        data: { registry, url: redactUrl(url), status: exchange.status, method: 'GET' },
      });
    }
    if (exchange.status !== 200) throw await this.#statusError(exchange, 'GET', { registry });
    const body = parseJson(decode(exchange.body)) as { token?: unknown; access_token?: unknown; expires_in?: unknown } | undefined;
    const token = typeof body?.token === 'string' && body.token !== '' ? body.token : typeof body?.access_token === 'string' ? body.access_token : undefined;
    if (token === undefined || token === '') throw this.#protocolError(`the token service of ${registry} answered without a token`, { registry, url: redactUrl(url) });
    const expiresIn = typeof body?.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : 60;
    // Renew a little early so a token does not expire in flight.
    return { token, expiresAt: this.#now() + Math.max(1, expiresIn - 10) * 1000 };
  }

  /**
   * Sends one request with retries (when `spec.retry`), manual redirects (Authorization only to
   * the same origin), a per-attempt header timeout, and counters. Returns any final status; only
   * transport failures and exhausted retries throw.
   */
  async #exchange(spec: ExchangeSpec): Promise<Exchange> {
    const { signal } = spec;
    for (let attempt = 1; ; attempt++) {
      signal?.throwIfAborted();
      let url = spec.url;
      const method: Method = spec.method;
      let outcome: Exchange | { error: unknown };
      // One timer per attempt: it covers redirects and, for buffered reads, the body too.
      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new Error(`no response within ${this.#timeoutMs} ms`)), this.#timeoutMs);
      const attemptSignal = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
      try {
        for (let hop = 0; ; hop++) {
          const response = await this.#send(spec, method, url, attemptSignal, attempt > 1 && hop === 0);
          const location = response.headers.get('location');
          if (response.status >= 300 && response.status < 400 && response.status !== 304 && location !== null && (method === 'GET' || method === 'HEAD')) {
            await response.body?.cancel();
            if (hop >= MAX_REDIRECTS) throw this.#protocolError(`too many redirects for ${spec.method} ${redactUrl(spec.url)}`, { method: spec.method, url: redactUrl(spec.url) });
            url = new URL(location, url);
            this.#checkScheme(url, 'redirect');
            continue;
          }
          if (!spec.readBody || method === 'HEAD' || (spec.retry && isRetryableStatus(response.status))) {
            if (method === 'HEAD') await response.body?.cancel();
            outcome = { status: response.status, headers: response.headers, url, body: method === 'HEAD' ? new Uint8Array() : undefined, response: method === 'HEAD' ? undefined : response };
          } else {
            outcome = { status: response.status, headers: response.headers, url, body: new Uint8Array(await response.arrayBuffer()), response: undefined };
          }
          break;
        }
      } catch (error) {
        if (signal?.aborted === true) throw abortReason(signal);
        if (error instanceof RegistryError) throw error;
        outcome = { error };
      } finally {
        clearTimeout(timer);
      }
      const last = attempt >= this.#attempts || !spec.retry;
      if ('error' in outcome) {
        if (last) {
          throw new RegistryError('REGISTRY_UNREACHABLE', `${spec.method} ${redactUrl(spec.url)} failed: ${describeNetworkError(outcome.error)}`, {
            hint: `Check that the registry at ${spec.url.host} is running and reachable.`,
            data: { method: spec.method, url: redactUrl(spec.url), attempts: attempt },
            cause: sanitizeCause(outcome.error),
          });
        }
        const delay = this.#backoff(attempt);
        this.#logger?.warn('registry request failed; retrying', { method: spec.method, url: redactUrl(spec.url), attempt, delayMs: delay, error: describeNetworkError(outcome.error) });
        await this.#sleep(delay, signal);
        continue;
      }
      if (last || !isRetryableStatus(outcome.status)) return outcome;
      const retryAfter = parseRetryAfter(outcome.headers.get('retry-after'), this.#now());
      if (retryAfter !== undefined && retryAfter > this.#maxRetryAfterMs) return outcome;
      await outcome.response?.body?.cancel();
      const delay = retryAfter ?? this.#backoff(attempt);
      this.#logger?.warn('registry request answered a retryable status; retrying', { method: spec.method, url: redactUrl(spec.url), status: outcome.status, attempt, delayMs: delay });
      await this.#sleep(delay, signal);
    }
  }

  async #send(spec: ExchangeSpec, method: Method, url: URL, signal: AbortSignal, isRetry: boolean): Promise<TransportResponse> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(spec.headers ?? {})) headers[name.toLowerCase()] = value;
    headers['user-agent'] = this.#userAgent;
    const authorization = await spec.authorization?.(url);
    if (authorization !== undefined) {
      if (INVALID_HEADER_VALUE.test(authorization)) {
        // Never let a transport's message quote the header value, i.e. the secret.
        throw new RegistryError('REGISTRY_CREDENTIALS_INVALID', `the credentials or token for ${url.host} cannot be sent in an HTTP header`, {
          hint: 'Check the stored credentials for control characters; a token service may have answered garbage.',
          data: { url: redactUrl(url), method },
        });
      }
      headers.authorization = authorization;
    }
    this.#stats.total++;
    if (isRetry) this.#stats.retries++;
    this.#stats.byOperation[spec.operation] = (this.#stats.byOperation[spec.operation] ?? 0) + 1;
    return this.#transport(url, { method, headers, body: spec.body, signal });
  }

  #backoff(attempt: number): number {
    const ceiling = Math.min(this.#maxDelayMs, this.#baseDelayMs * 2 ** (attempt - 1));
    return Math.floor(this.#random() * ceiling);
  }

  #baseUrl(registry: string): URL {
    const host = registry === DOCKER_HUB ? 'registry-1.docker.io' : registry;
    return new URL(`${this.#insecure(registry) ? 'http' : 'https'}://${host}`);
  }

  #v2Url(repository: Repository, suffix: string): URL {
    return new URL(`/v2/${repository.path}/${suffix}`, this.#baseUrl(repository.registry));
  }

  #checkScheme(url: URL, what: string): void {
    if (url.protocol === 'https:') return;
    if (url.protocol === 'http:' && this.#insecure(url.host)) return;
    throw new RegistryError('REGISTRY_INSECURE_REFUSED', `refusing ${what} to ${redactUrl(url)}: only HTTPS is allowed for ${url.host}`, {
      hint: 'Plain HTTP is used only for loopback registries unless the client is given an `insecure` predicate that allows the host.',
      data: { url: redactUrl(url) },
    });
  }

  #checkSameRegistry(repository: Repository, url: URL): void {
    if (url.origin !== this.#baseUrl(repository.registry).origin) this.#checkScheme(url, 'request');
  }

  #protocolError(message: string, data: RegistryErrorData): RegistryError {
    return new RegistryError('REGISTRY_PROTOCOL', message, { hint: 'The registry does not follow the OCI distribution spec here.', data });
  }

  async #statusError(exchange: Exchange, method: string, data: RegistryErrorData): Promise<RegistryError> {
    const text = exchange.body !== undefined ? decode(exchange.body.subarray(0, MAX_ERROR_BODY)) : exchange.response === undefined ? '' : await readLimited(exchange.response);
    return this.#errorFor(exchange, method, parseRegistryErrorCodes(text), data);
  }

  #errorFor(exchange: Exchange, method: string, registryCodes: string[], extra: RegistryErrorData): RegistryError {
    const { status } = exchange;
    const url = redactUrl(exchange.url);
    const data: RegistryErrorData = { ...extra, method, url, status, registryCodes };
    const what = `${method} ${url} answered ${status}${registryCodes.length > 0 ? ` (${registryCodes.join(', ')})` : ''}`;
    const [code, hint] = classify(status, registryCodes, exchange.url.host);
    return new RegistryError(code, what, { hint, data });
  }
}

function classify(status: number, codes: string[], host: string): [RegistryErrorCode, string] {
  if (status === 401) return ['REGISTRY_UNAUTHORIZED', `Log in to ${host} (docker login) or check the credentials.`];
  if (status === 403) return ['REGISTRY_DENIED', `The credentials for ${host} do not allow this operation.`];
  if (codes.includes('UNSUPPORTED') || status === 405 || status === 501) {
    return ['REGISTRY_UNSUPPORTED', 'The registry does not support this operation (for deletes: enable them in the registry configuration).'];
  }
  if (isRetryableStatus(status)) return ['REGISTRY_UNAVAILABLE', `The registry at ${host} kept failing; try again later.`];
  return ['REGISTRY_REJECTED', 'The registry rejected the request; see the registry error codes in data.registryCodes.'];
}

function isRestartable(error: unknown): boolean {
  if (!(error instanceof RegistryError)) return false;
  if (error.code === 'REGISTRY_UNREACHABLE' || error.code === 'REGISTRY_UNAVAILABLE') return true;
  const codes = error.data?.registryCodes ?? [];
  return codes.includes('BLOB_UPLOAD_UNKNOWN') || codes.includes('BLOB_UPLOAD_INVALID') || error.data?.status === 416;
}

function scope(repository: Repository, actions: string[]): string {
  return `repository:${repository.path}:${actions.join(',')}`;
}

function tokenKey(registry: string, scopes: string[]): string {
  return `${registry} ${[...scopes].sort().join(' ')}`;
}

function basicAuthorization(credentials: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
}

function blobUnknown(repository: Repository, digest: Digest): RegistryError {
  return new RegistryError('REGISTRY_BLOB_UNKNOWN', `blob ${digest} does not exist in ${repository.toString()}`, {
    data: { repository: repository.toString(), digest },
  });
}

function contentType(headers: Exchange['headers']): string | undefined {
  const value = headers.get('content-type')?.split(';')[0]?.trim();
  return value === undefined || value === '' || value === 'application/octet-stream' || value === 'text/plain' ? undefined : value;
}

function embeddedMediaType(bytes: Uint8Array): string | undefined {
  const parsed = parseJson(decode(bytes)) as { mediaType?: unknown } | undefined;
  return typeof parsed?.mediaType === 'string' ? parsed.mediaType : undefined;
}

function decode(bytes: Uint8Array | undefined): string {
  return bytes === undefined ? '' : new TextDecoder().decode(bytes);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

async function readLimited(response: TransportResponse): Promise<string> {
  try {
    const text = await response.text();
    return text.slice(0, MAX_ERROR_BODY);
  } catch {
    return '';
  }
}

/** Re-slices a byte stream into chunks of exactly `size` bytes (the last may be shorter). */
async function* rechunk(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>, size: number): AsyncGenerator<Uint8Array> {
  let pending: Uint8Array[] = [];
  let pendingBytes = 0;
  for await (const piece of source) {
    let chunk = piece;
    while (pendingBytes + chunk.byteLength >= size) {
      const take = size - pendingBytes;
      pending.push(chunk.subarray(0, take));
      yield Buffer.concat(pending);
      pending = [];
      pendingBytes = 0;
      chunk = chunk.subarray(take);
    }
    if (chunk.byteLength > 0) {
      pending.push(chunk);
      pendingBytes += chunk.byteLength;
    }
  }
  if (pendingBytes > 0) yield Buffer.concat(pending);
}

function describeNetworkError(error: unknown): string {
  if (!(error instanceof Error)) return 'unknown error';
  const cause = (error as { cause?: unknown }).cause;
  const code = typeof cause === 'object' && cause !== null && 'code' in cause ? String(cause.code) : undefined;
  const name = error.name === 'TimeoutError' || error.name === 'AbortError' ? 'timed out' : error.message;
  return code === undefined ? name : `${name} (${code})`;
}

/** Keeps the cause chain useful without carrying request objects (which may hold headers). */
function sanitizeCause(error: unknown): Error {
  const cause = error instanceof Error ? (error as { cause?: unknown }).cause : undefined;
  const result = new Error(describeNetworkError(error));
  if (cause instanceof Error) result.cause = new Error(cause.message);
  return result;
}

/** `promise`, or a rejection with the abort reason as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  if (signal.aborted) return Promise.reject(abortReason(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(abortReason(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

