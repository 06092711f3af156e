/**
 * Strata's error model (STYLE rules 10–14).
 *
 * - Every user-facing failure is a {@link StrataError} with a stable `code`, a human message, an
 *   actionable `hint`, the offending input in `data`, and the underlying `cause`.
 * - Each package declares its own subclass and string-literal union of codes; callers match on
 *   `code` or `instanceof`, never on message text.
 * - Broken invariants are {@link InternalError}s: they ask for a bug report instead of blaming input.
 * - Expected outcomes (cache miss, publish conflict, validation problems) are return values, not errors.
 */

export interface StrataErrorOptions<Data = unknown> {
  /** What the user can do about it, in one sentence. */
  hint?: string | undefined;
  /** The offending input (paths, names, refs). Never credentials. */
  data?: Data;
  /** The lower-level error this one wraps. */
  cause?: unknown;
}

export class StrataError<Code extends string = string, Data = unknown> extends Error {
  readonly code: Code;
  readonly hint: string | undefined;
  readonly data: Data | undefined;

  constructor(code: Code, message: string, options: StrataErrorOptions<Data> = {}) {
    super(redactCredentials(message), options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.hint = options.hint === undefined ? undefined : redactCredentials(options.hint);
    this.data = options.data;
  }

  /** `message (hint: …)`, the form the CLI prints. */
  describe(): string {
    return this.hint ? `${this.message} (hint: ${this.hint})` : this.message;
  }
}

/** A broken invariant inside Strata: not the user's fault. */
export class InternalError extends StrataError<'INTERNAL', unknown> {
  constructor(message: string, options: StrataErrorOptions = {}) {
    super('INTERNAL', `internal error: ${message}`, {
      ...options,
      hint: options.hint ?? 'This is a bug in Strata; please report it with the command and this message.',
    });
  }
}

/** Fails with an {@link InternalError} when `condition` is false. */
export function invariant(condition: unknown, message: string): asserts condition {
  if (!condition) throw new InternalError(message);
}

/** True when `error` is a {@link StrataError} (optionally with the given code). */
export function isStrataError<C extends string>(error: unknown, code?: C): error is StrataError<C> {
  return error instanceof StrataError && (code === undefined || error.code === code);
}

const URL_USERINFO = /\b([a-z][a-z0-9+.-]*:\/\/)[^/\s@]*@/gi;
const AUTH_HEADER = /\b(authorization|proxy-authorization)(["']?\s*[:=]\s*["']?)(basic|bearer)\s+[A-Za-z0-9._~+/=-]+/gi;
const TOKEN_FIELD = /\b(token|access_token|refresh_token|password|secret)(["']?\s*[:=]\s*["']?)[^\s"'&,;}]+/gi;
const TOKEN_QUERY = /([?&](?:token|access_token|password|secret)=)[^&\s]+/gi;

/**
 * Removes credentials from free text: `user:pass@` in URLs, `Authorization: Bearer …` headers,
 * and `token=`/`password:` style fields. Applied to every {@link StrataError} message and hint;
 * call it on anything else that may reach a log.
 */
export function redactCredentials(text: string): string {
  return text
    .replace(URL_USERINFO, '$1***@')
    .replace(AUTH_HEADER, '$1$2$3 ***')
    .replace(TOKEN_QUERY, '$1***')
    .replace(TOKEN_FIELD, '$1$2***');
}

/** The reason an aborted signal carries, as an Error. */
export function abortReason(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  if (reason instanceof Error) return reason;
  return new AbortError(typeof reason === 'string' ? reason : 'the operation was aborted');
}

/** Raised when work is cancelled through an AbortSignal without an Error reason. */
export class AbortError extends StrataError<'ABORTED'> {
  constructor(message = 'the operation was aborted') {
    super('ABORTED', message);
  }
}

/**
 * Waits `ms` milliseconds (negative counts as 0); rejects with the signal's reason as soon as it
 * aborts, and at once when it already has. The one abortable delay every package uses for backoff.
 */
export function abortableSleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortReason(signal as AbortSignal));
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, Math.max(0, ms));
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
