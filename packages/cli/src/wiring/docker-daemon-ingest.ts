/**
 * `DockerDaemonIngest`: the registry store's `LocalImageIngest` port over the Docker daemon — a
 * stage image the executor built (an image id in the daemon) is tagged with the target reference and
 * pushed by the daemon. `@strata/docker` has no push yet, so the composition root provides it.
 */
import type { Readable } from 'node:stream';
import { abortReason, abortableSleep, redactCredentials, StrataError } from '@strata/errors';
import { isDigest, type CredentialStore, type Digest, type ImageReference, type LocalImageIngest } from '@strata/registry';

/** The slice of dockerode the ingest uses. */
export interface DockerIngestClient {
  getImage(name: string): {
    tag(options: { repo: string; tag: string }): Promise<unknown>;
    push(options: { tag?: string; authconfig?: Record<string, string>; abortSignal?: AbortSignal }): Promise<NodeJS.ReadableStream>;
  };
}

export interface DockerDaemonIngestOptions {
  docker: DockerIngestClient;
  /** Where push credentials come from (e.g. `DockerConfigCredentialStore`). @default anonymous pushes */
  credentials?: CredentialStore | undefined;
  /**
   * Retries of a failed push. The daemon (20.10) does not retry a push that met a 5xx or a dropped
   * connection itself, and one stage push is 10–20 requests, so transient registry faults must be
   * absorbed here. A repeated push is safe and cumulative: blobs already uploaded are skipped.
   */
  retry?: {
    /** @default 8 */
    attempts?: number | undefined;
    /** Delay before the first retry, doubled each time, capped at 5 s. @default 250 */
    baseDelayMs?: number | undefined;
    /** Test seam. @default a timer that honours the signal */
    sleep?: ((ms: number, signal?: AbortSignal) => Promise<void>) | undefined;
  };
}

/** Push failures that another attempt cannot mend: the registry refused the credentials or the access. */
const PERMANENT_PUSH_FAILURE = /\b(unauthorized|denied|authentication required|forbidden|no basic auth credentials)\b/i;


/** Failure codes of the CLI's own adapters. */
export type CliAdapterErrorCode = 'CLI_PUSH_FAILED';

export class CliAdapterError extends StrataError<CliAdapterErrorCode, { target: string; localRef: string }> {}

/** One message of the daemon's push progress stream. */
interface PushMessage {
  status?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: { Tag?: string; Digest?: string; Size?: number };
}

/**
 * Reads a daemon progress stream (newline-delimited JSON) to its end. Resolves with the digest of the
 * `aux` message; rejects on an `error` message, a stream error, or abort.
 */
export async function followPushStream(stream: NodeJS.ReadableStream, signal?: AbortSignal): Promise<{ digest: string | undefined; error: string | undefined }> {
  let digest: string | undefined;
  let error: string | undefined;
  let pending = '';
  const readable = stream as Readable;
  const onAbort = (): void => {
    readable.destroy(abortReason(signal as AbortSignal));
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const chunk of readable) {
      pending += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8');
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') ({ digest, error } = readMessage(line, digest, error));
        newline = pending.indexOf('\n');
      }
    }
    if (pending.trim() !== '') ({ digest, error } = readMessage(pending.trim(), digest, error));
  } finally {
    signal?.removeEventListener('abort', onAbort);
  }
  if (signal?.aborted) throw abortReason(signal);
  return { digest, error };
}

function readMessage(line: string, digest: string | undefined, error: string | undefined): { digest: string | undefined; error: string | undefined } {
  let message: PushMessage;
  try {
    message = JSON.parse(line) as PushMessage;
  } catch {
    return { digest, error };
  }
  const failure = message.error ?? message.errorDetail?.message;
  return {
    digest: typeof message.aux?.Digest === 'string' ? message.aux.Digest : digest,
    error: error ?? (typeof failure === 'string' && failure !== '' ? failure : undefined),
  };
}

export class DockerDaemonIngest implements LocalImageIngest {
  readonly #docker: DockerIngestClient;
  readonly #credentials: CredentialStore | undefined;
  readonly #attempts: number;
  readonly #baseDelayMs: number;
  readonly #sleep: (ms: number, signal?: AbortSignal) => Promise<void>;

  constructor(options: DockerDaemonIngestOptions) {
    this.#docker = options.docker;
    this.#credentials = options.credentials;
    this.#attempts = Math.max(1, options.retry?.attempts ?? 8);
    this.#baseDelayMs = options.retry?.baseDelayMs ?? 250;
    this.#sleep = options.retry?.sleep ?? abortableSleep;
  }

  /**
   * Tags `localRef` as `target` in the daemon (the tag stays: the daemon keeps a copy of every stage
   * it pushed, which later builds on this host find before pulling) and pushes it.
   */
  async pushLocalImage(localRef: string, target: ImageReference, options: { signal?: AbortSignal } = {}): Promise<{ digest: Digest }> {
    const { signal } = options;
    signal?.throwIfAborted();
    const repo = target.repository.toString();
    const tag = target.tag;
    if (tag === undefined) throw new CliAdapterError('CLI_PUSH_FAILED', `cannot push ${localRef} to ${target.toString()}: the target has no tag`);
    const shown = redactCredentials(`${repo}:${tag}`);
    const fail = (why: string, cause?: unknown): CliAdapterError =>
      new CliAdapterError('CLI_PUSH_FAILED', `docker push of ${localRef} to ${shown} failed: ${redactCredentials(why)}`, {
        hint: 'Check that the registry answers and that `docker login` holds credentials for it.',
        data: { target: shown, localRef },
        cause,
      });
    try {
      await this.#docker.getImage(localRef).tag({ repo, tag });
    } catch (error) {
      throw fail(`tagging failed: ${error instanceof Error ? error.message : String(error)}`, error);
    }
    const credentials = await this.#credentials?.findCredentials(target.repository.registry, { signal });
    const authconfig: Record<string, string> =
      credentials === undefined ? { serveraddress: target.repository.registry }
      : credentials.kind === 'basic' ? { username: credentials.username, password: credentials.password, serveraddress: target.repository.registry }
      : { identitytoken: credentials.identityToken, serveraddress: target.repository.registry };
    for (let attempt = 1; ; attempt += 1) {
      const outcome = await this.#pushOnce(`${repo}:${tag}`, { tag, authconfig }, signal);
      if (outcome.digest !== undefined) return { digest: outcome.digest };
      const why = outcome.failure;
      if (attempt >= this.#attempts || PERMANENT_PUSH_FAILURE.test(why)) {
        throw fail(attempt > 1 ? `${why} (after ${attempt} attempts)` : why, outcome.cause);
      }
      await this.#sleep(Math.min(5_000, this.#baseDelayMs * 2 ** (attempt - 1)), signal);
    }
  }

  /** One push through the daemon: the digest, or why it failed (abort rejects). */
  async #pushOnce(
    name: string,
    options: { tag: string; authconfig: Record<string, string> },
    signal: AbortSignal | undefined,
  ): Promise<{ digest: Digest; failure?: undefined; cause?: undefined } | { digest?: undefined; failure: string; cause?: unknown }> {
    let result: { digest: string | undefined; error: string | undefined };
    try {
      const stream = await this.#docker.getImage(name).push({ ...options, abortSignal: signal });
      result = await followPushStream(stream, signal);
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal);
      return { failure: error instanceof Error ? error.message : String(error), cause: error };
    }
    if (result.error !== undefined) return { failure: result.error };
    if (result.digest === undefined || !isDigest(result.digest)) return { failure: 'the daemon reported no manifest digest' };
    return { digest: result.digest };
  }
}
