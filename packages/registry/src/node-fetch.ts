/**
 * The registry client's transport: one HTTP exchange at a time, the way {@link RegistryClient} uses
 * it, and its default implementation on `node:http` / `node:https`.
 *
 * Why not Node's global `fetch` by default: a short-lived process pays for it twice. Its HTTP/1
 * parser (undici's llhttp) is WebAssembly that V8 compiles with its optimizing tier on a background
 * thread at the first connection — about 100 ms of CPU on a small machine, which Node waits for before
 * the process exits — and loading undici's `Response` / `Headers` machinery costs ~20 ms of CPU more.
 * A CLI whose whole registry traffic is one tag listing paid more for that than for its build.
 * `node:http`'s parser is native, and {@link nodeHttpTransport}'s answers are plain objects.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { abortReason } from '@strata/errors';

/** One request as the client sends it. */
export interface TransportRequest {
  readonly method: string;
  /** Header names in lower case. */
  readonly headers: Readonly<Record<string, string>>;
  /** Sent with its `Content-Length`. */
  readonly body?: Uint8Array | undefined;
  readonly signal?: AbortSignal | undefined;
}

/** An answer's body: its chunks in order, once. */
export interface TransportBody extends AsyncIterable<Uint8Array> {
  /** Discards the rest of the body (and frees the connection, or closes it). */
  cancel(): Promise<void>;
}

/** An answer as the client reads it: the part of a web `Response` it uses (a `Response` is one). */
export interface TransportResponse {
  readonly status: number;
  /** `get` is case-insensitive and joins repeated headers with `, `, as `Headers#get` does. */
  readonly headers: { get(name: string): string | null };
  /** `null` for a HEAD request and for statuses without a body (204, 304, …). */
  readonly body: TransportBody | null;
  /** The whole body (empty when there is none). */
  arrayBuffer(): Promise<ArrayBuffer>;
  /** The whole body as UTF-8 text. */
  text(): Promise<string>;
}

/**
 * Sends one request to `url` and resolves with the answer once its headers arrived; the body is read
 * from the answer. Contract (what the client relies on):
 * - Any final status is an answer, redirects included (they are not followed).
 * - A network failure rejects with a `TypeError` whose `cause` carries the system `code`
 *   (`ECONNREFUSED`, …), as `fetch` does.
 * - Once `request.signal` aborts, the promise rejects with its reason, and a body still being read
 *   errors with it.
 */
export type RegistryTransport = (url: URL, request: TransportRequest) => Promise<TransportResponse>;

/** The transport over any `fetch` (Node's global one, a test double, …): `redirect: 'manual'`. */
export function fetchTransport(fetchImpl: typeof fetch): RegistryTransport {
  return (url, request) => {
    const init: RequestInit = { method: request.method, headers: { ...request.headers }, redirect: 'manual' };
    if (request.body !== undefined) init.body = request.body;
    if (request.signal !== undefined) init.signal = request.signal;
    // A web Response is a TransportResponse (its body stream is async-iterable in Node).
    return fetchImpl(url, init);
  };
}

let agents: { http: http.Agent; https: https.Agent } | undefined;

/** Keep-alive agents shared by every client of the process (idle sockets do not hold the process open). */
function agentFor(protocol: string): http.Agent {
  agents ??= { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return protocol === 'https:' ? agents.https : agents.http;
}

/** Statuses whose responses have no body. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/** The raw answer of one exchange: what both transports below are made from. */
interface RawAnswer {
  readonly incoming: http.IncomingMessage;
  readonly status: number;
  readonly empty: boolean;
}

function exchange(url: URL, request: TransportRequest): Promise<RawAnswer> {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TypeError(`cannot send a request to a ${url.protocol} URL`));
  const { signal, body } = request;
  if (signal?.aborted === true) return Promise.reject(abortReason(signal));
  const headers: Record<string, string> = { ...request.headers };
  if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(body.byteLength);
  const method = request.method.toUpperCase();
  return new Promise<RawAnswer>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    let incoming: http.IncomingMessage | undefined;
    let outgoing: http.ClientRequest;
    try {
      outgoing = transport.request(url, { method, headers, agent: agentFor(url.protocol) });
    } catch (error) {
      // An invalid header name or value: the request cannot be sent at all.
      reject(new TypeError('fetch failed', { cause: error }));
      return;
    }
    const onAbort = () => {
      if (signal === undefined) return;
      const reason = abortReason(signal);
      // Before the answer: the promise rejects with the reason; after: the body errors with it.
      if (incoming === undefined) reject(reason);
      else incoming.destroy(reason);
      outgoing.destroy(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    outgoing.on('error', (error) => {
      done();
      if (signal?.aborted === true) reject(abortReason(signal));
      else reject(new TypeError('fetch failed', { cause: error }));
    });
    outgoing.on('response', (answer) => {
      incoming = answer;
      answer.on('close', done);
      const status = answer.statusCode ?? 0;
      const empty = method === 'HEAD' || NULL_BODY_STATUSES.has(status);
      if (empty) answer.resume();
      resolve({ incoming: answer, status, empty });
    });
    outgoing.end(body);
  });
}

/** Header lookups over `rawHeaders`, as `Headers#get` answers them. */
class RawHeaders {
  readonly #values = new Map<string, string>();

  constructor(raw: readonly string[]) {
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = (raw[i] as string).toLowerCase();
      const value = (raw[i + 1] as string).trim();
      const previous = this.#values.get(name);
      this.#values.set(name, previous === undefined ? value : `${previous}, ${value}`);
    }
  }

  get(name: string): string | null {
    return this.#values.get(name.toLowerCase()) ?? null;
  }
}

/** A {@link TransportResponse} over a `node:http` answer: no web streams, no undici. */
class NodeHttpResponse implements TransportResponse {
  readonly status: number;
  readonly headers: RawHeaders;
  readonly body: TransportBody | null;

  constructor(raw: RawAnswer) {
    this.status = raw.status;
    this.headers = new RawHeaders(raw.incoming.rawHeaders);
    const incoming = raw.incoming;
    this.body = raw.empty
      ? null
      : {
          [Symbol.asyncIterator]: () => incoming[Symbol.asyncIterator]() as AsyncIterator<Uint8Array>,
          cancel: () => {
            incoming.destroy();
            return Promise.resolve();
          },
        };
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.#bytes();
    // Buffer.concat may answer a slice of a shared pool: hand out exactly the body's bytes.
    return bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength ? (bytes.buffer as ArrayBuffer) : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer);
  }

  async text(): Promise<string> {
    return (await this.#bytes()).toString('utf8');
  }

  async #bytes(): Promise<Buffer> {
    if (this.body === null) return Buffer.alloc(0);
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    return chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks);
  }
}

/**
 * The default {@link RegistryTransport}: `node:http` / `node:https` with keep-alive agents shared by
 * the process (HTTP/1.1). No `Accept-Encoding` is sent, so bodies arrive as the registry stores them
 * (digests are over those bytes) and nothing is decompressed.
 */
export const nodeHttpTransport: RegistryTransport = async (url, request) => new NodeHttpResponse(await exchange(url, request));

/**
 * The same exchange as a `fetch` answering a web `Response` (for callers that want a `fetch`, e.g. to
 * wrap it and give it to a client as `fetch`). Supports what the client sends: a `URL` or URL string,
 * `redirect: 'manual'` (a 3xx answer is returned as it is, as Node's `fetch` does), a `Uint8Array`,
 * `ArrayBuffer` or string body, an abort signal. Anything else is refused with a `TypeError` rather
 * than done differently from `fetch`.
 */
export const nodeHttpFetch: typeof fetch = async (input, init = {}) => {
  if (typeof input !== 'string' && !(input instanceof URL)) throw new TypeError('nodeHttpFetch takes a URL or URL string, not a Request');
  const url = new URL(input);
  if (init.redirect !== 'manual') throw new TypeError("nodeHttpFetch only supports redirect: 'manual'");
  let body: Uint8Array | undefined;
  const given: unknown = init.body;
  if (given === undefined || given === null) body = undefined;
  else if (given instanceof Uint8Array) body = given;
  else if (given instanceof ArrayBuffer) body = new Uint8Array(given);
  else if (typeof given === 'string') body = Buffer.from(given, 'utf8');
  else throw new TypeError('nodeHttpFetch sends Uint8Array, ArrayBuffer or string bodies only');
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  const raw = await exchange(url, { method: init.method ?? 'GET', headers, body, signal: init.signal ?? undefined });
  const pairs: [string, string][] = [];
  const rawHeaders = raw.incoming.rawHeaders;
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) pairs.push([rawHeaders[i] as string, rawHeaders[i + 1] as string]);
  try {
    const stream = raw.empty ? null : (Readable.toWeb(raw.incoming) as ReadableStream<Uint8Array>);
    return new Response(stream, { status: raw.status, statusText: raw.incoming.statusMessage ?? '', headers: pairs });
  } catch (error) {
    // A status `Response` cannot represent (outside 200-599): a protocol failure, like fetch's.
    raw.incoming.destroy();
    throw new TypeError('fetch failed', { cause: error });
  }
};
