/**
 * The registry client's default transport: the part of `fetch` it uses, on `node:http` / `node:https`.
 *
 * Why not Node's global `fetch`: its HTTP/1 parser (undici's llhttp) is WebAssembly that V8 compiles
 * with its optimizing tier on a background thread at the first connection of every process — about
 * 100 ms of CPU on a small machine — and Node waits for that compilation before the process exits. A
 * CLI whose whole registry traffic is one tag listing pays it in full, once per run. `node:http`'s
 * parser is native and costs nothing to start.
 */
import http from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { abortReason } from '@strata/errors';

let agents: { http: http.Agent; https: https.Agent } | undefined;

/** Keep-alive agents shared by every client of the process (idle sockets do not hold the process open). */
function agentFor(protocol: string): http.Agent {
  agents ??= { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  return protocol === 'https:' ? agents.https : agents.http;
}

/** Statuses whose responses have no body (`Response` refuses one). */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A `fetch` over `node:http` / `node:https` for what {@link RegistryClient} sends; same results as
 * Node's `fetch` for that:
 * - `input` is a `URL` or URL string (`http:` or `https:`); a `Request` object is refused.
 * - `init.redirect` must be `'manual'` (a 3xx response is returned as it is, `Location` included, as
 *   Node's `fetch` does); `init.body` is a `Uint8Array`, `ArrayBuffer` or string, sent with its
 *   `Content-Length`; streamed request bodies are refused.
 * - No `Accept-Encoding` is sent, so bodies arrive as the registry stores them (digests are over
 *   those bytes); nothing is decompressed.
 * - A network failure rejects with `TypeError('fetch failed', { cause })`, the cause carrying the
 *   system `code` (`ECONNREFUSED`, …). Once `init.signal` aborts, the promise rejects with its
 *   reason, and a body still being read errors with it.
 * - Connections are kept alive and reused (one agent per protocol, shared by the process); HTTP/1.1.
 * Unsupported input throws a `TypeError` at once rather than behave differently from `fetch`.
 */
export const nodeHttpFetch: typeof fetch = (input, init = {}) => {
  if (typeof input !== 'string' && !(input instanceof URL)) return Promise.reject(new TypeError('nodeHttpFetch takes a URL or URL string, not a Request'));
  const url = new URL(input);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new TypeError(`nodeHttpFetch cannot fetch ${url.protocol} URLs`));
  if (init.redirect !== 'manual') return Promise.reject(new TypeError("nodeHttpFetch only supports redirect: 'manual'"));
  let body: Uint8Array | undefined;
  const given: unknown = init.body;
  if (given === undefined || given === null) body = undefined;
  else if (given instanceof Uint8Array) body = given;
  else if (given instanceof ArrayBuffer) body = new Uint8Array(given);
  else if (typeof given === 'string') body = Buffer.from(given, 'utf8');
  else return Promise.reject(new TypeError('nodeHttpFetch sends Uint8Array, ArrayBuffer or string bodies only'));
  const method = (init.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = {};
  new Headers(init.headers).forEach((value, name) => {
    headers[name] = value;
  });
  if (body !== undefined && headers['content-length'] === undefined) headers['content-length'] = String(body.byteLength);
  const signal = init.signal ?? undefined;
  if (signal?.aborted === true) return Promise.reject(abortReason(signal));

  return new Promise<Response>((resolve, reject) => {
    const transport = url.protocol === 'https:' ? https : http;
    const request = transport.request(url, { method, headers, agent: agentFor(url.protocol) });
    let response: http.IncomingMessage | undefined;
    const onAbort = () => {
      if (signal === undefined) return;
      const reason = abortReason(signal);
      // Before the answer: the promise rejects with the reason; after: the body stream errors with it.
      if (response === undefined) reject(reason);
      else response.destroy(reason);
      request.destroy(reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    const done = () => signal?.removeEventListener('abort', onAbort);
    request.on('error', (error) => {
      done();
      if (signal?.aborted === true) reject(abortReason(signal));
      else reject(new TypeError('fetch failed', { cause: error }));
    });
    request.on('response', (incoming) => {
      response = incoming;
      incoming.on('close', done);
      const status = incoming.statusCode ?? 0;
      const pairs: [string, string][] = [];
      for (let i = 0; i + 1 < incoming.rawHeaders.length; i += 2) pairs.push([incoming.rawHeaders[i] as string, incoming.rawHeaders[i + 1] as string]);
      const empty = method === 'HEAD' || NULL_BODY_STATUSES.has(status);
      if (empty) incoming.resume();
      try {
        const stream = empty ? null : (Readable.toWeb(incoming) as ReadableStream<Uint8Array>);
        resolve(new Response(stream, { status, statusText: incoming.statusMessage ?? '', headers: pairs }));
      } catch (error) {
        // A status `Response` cannot represent (outside 200-599): a protocol failure, like fetch's.
        incoming.destroy();
        reject(new TypeError('fetch failed', { cause: error }));
      }
    });
    request.end(body);
  });
};
