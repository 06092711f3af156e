/**
 * Client behaviour that a healthy registry never shows (throttling, outages, timeouts, hostile
 * redirects, corrupted content), driven by small loopback HTTP servers written here.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MemoryCredentialStore, RegistryClient, RegistryError, digestOf, nodeHttpFetch, nodeHttpTransport, parseRepository, type RegistryClientOptions } from '@strata/registry';
import { freePort } from './support/registry-process.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function recordingSleep(): { sleep: (ms: number) => Promise<void>; delays: number[] } {
  const delays: number[] = [];
  return { delays, sleep: (ms: number) => (delays.push(ms), Promise.resolve()) };
}

/** Refuses anything but loopback, so a bug can never send traffic off the machine. */
function loopbackOnly(url: URL): URL {
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname)) throw new Error(`test transport refused ${url.host}`);
  return url;
}

const urlOf = (input: Parameters<typeof fetch>[0]): URL => new URL(input instanceof Request ? input.url : input.toString());

/** Client options sending through one transport, loopback only; `onRequest` sees every request's URL. */
type Via = (onRequest?: (url: URL) => void) => Pick<RegistryClientOptions, 'fetch' | 'transport'>;

// Every behaviour below holds over each way of sending: Node's global fetch (the default), the
// node:http transport (the CLI's), and nodeHttpFetch given as a `fetch`.
const transports: [string, Via][] = [
  ['nodeHttpTransport (the CLI\'s)', (onRequest) => ({ transport: (url, request) => (onRequest?.(loopbackOnly(url)), nodeHttpTransport(loopbackOnly(url), request)) })],
  ['global fetch (the default)', (onRequest) => ({ fetch: (input, init) => (onRequest?.(loopbackOnly(urlOf(input))), fetch(input, init)) })],
  ['nodeHttpFetch', (onRequest) => ({ fetch: (input, init) => (onRequest?.(loopbackOnly(urlOf(input))), nodeHttpFetch(input, init)) })],
];

describe.each(transports)('over %s', (_name, via) => {

  describe('retries', () => {
    it('honours Retry-After on 429 and succeeds', async () => {
      let calls = 0;
      const host = await serve((_req, res) => {
        calls++;
        if (calls <= 2) res.writeHead(429, { 'retry-after': '2' }).end();
        else res.writeHead(200).end('{}');
      });
      const { sleep, delays } = recordingSleep();
      const client = new RegistryClient({ sleep, ...via() });
      expect(await client.ping(host)).toEqual({ authentication: 'none' });
      expect(delays).toEqual([2000, 2000]);
      expect(client.stats).toMatchObject({ total: 3, retries: 2 });
    });

    it('honours Retry-After given as an HTTP date, against the injected clock', async () => {
      let calls = 0;
      const now = Date.parse('2026-06-01T12:00:00Z');
      const host = await serve((_req, res) => {
        calls++;
        if (calls === 1) res.writeHead(503, { 'retry-after': new Date(now + 7000).toUTCString() }).end();
        else res.writeHead(200).end('{}');
      });
      const { sleep, delays } = recordingSleep();
      const client = new RegistryClient({ sleep, now: () => now, ...via() });
      await client.ping(host);
      expect(delays).toEqual([7000]);
    });

    it('backs off exponentially with jitter and gives up with REGISTRY_UNAVAILABLE', async () => {
      let calls = 0;
      const host = await serve((_req, res) => {
        calls++;
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"down"}]}');
      });
      const { sleep, delays } = recordingSleep();
      const client = new RegistryClient({ sleep, random: () => 0.5, retry: { attempts: 4, baseDelayMs: 100, maxDelayMs: 300 }, ...via() });
      const error = await client.listTags(parseRepository(`${host}/a/b`)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RegistryError);
      expect(error).toMatchObject({ code: 'REGISTRY_UNAVAILABLE', data: { method: 'GET', status: 503, registryCodes: ['UNAVAILABLE'] } });
      expect(calls).toBe(4);
      expect(delays).toEqual([50, 100, 150]);
    });

    it('does not wait for a Retry-After beyond the limit', async () => {
      let calls = 0;
      const host = await serve((_req, res) => {
        calls++;
        res.writeHead(429, { 'retry-after': '3600' }).end();
      });
      const client = new RegistryClient({ sleep: () => Promise.reject(new Error('must not sleep')), ...via() });
      await expect(client.ping(host)).rejects.toMatchObject({ code: 'REGISTRY_UNAVAILABLE', data: { status: 429 } });
      expect(calls).toBe(1);
    });

    it('retries refused connections and reports REGISTRY_UNREACHABLE', async () => {
      const port = await freePort();
      const { sleep, delays } = recordingSleep();
      const client = new RegistryClient({ sleep, retry: { attempts: 3 }, ...via() });
      const error = await client.ping(`127.0.0.1:${port}`).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'REGISTRY_UNREACHABLE', data: { method: 'GET', attempts: 3 } });
      expect((error as Error).message).toContain('ECONNREFUSED');
      expect(delays).toHaveLength(2);
    });

    it('times out silent servers', async () => {
      const host = await serve(() => undefined);
      const client = new RegistryClient({ timeoutMs: 100, retry: { attempts: 2, baseDelayMs: 1 }, ...via() });
      await expect(client.ping(host)).rejects.toMatchObject({ code: 'REGISTRY_UNREACHABLE' });
      expect(client.stats.total).toBe(2);
    });

    it('stops at once when the caller aborts', async () => {
      const host = await serve((_req, res) => res.writeHead(503).end());
      const controller = new AbortController();
      const client = new RegistryClient({
        ...via(),
        sleep: () => {
          controller.abort(new Error('user cancelled'));
          return Promise.reject(new Error('user cancelled'));
        },
      });
      await expect(client.ping(host, { signal: controller.signal })).rejects.toThrow('user cancelled');
      expect(client.stats.total).toBe(1);
    });
  });

  describe('transport safety', () => {
    it('refuses a plain-HTTP token realm on a non-loopback host before sending anything', async () => {
      const host = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="http://auth.example.invalid/token",service="x"' }).end());
      const seen: string[] = [];
      const client = new RegistryClient({
        credentials: new MemoryCredentialStore({ [host]: { kind: 'basic', username: 'u', password: 'secret-pw' } }),
        ...via((url) => seen.push(url.host)),
      });
      const error = await client.listTags(parseRepository(`${host}/a/b`)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'REGISTRY_INSECURE_REFUSED' });
      expect(seen).toEqual([host]);
    });

    it('never echoes a token that cannot be sent as a header', async () => {
      const tokenService = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'leaky\nsecret-token' })));
      const host = await serve((_req, res) => res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${tokenService}/token",service="s"` }).end());
      const client = new RegistryClient({ ...via() });
      const error = await client.listTags(parseRepository(`${host}/a/b`)).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'REGISTRY_CREDENTIALS_INVALID' });
      expect(`${(error as Error).message} ${JSON.stringify((error as RegistryError).data)}`).not.toContain('secret-token');
    });

    it('does not send Authorization along a redirect to another origin', async () => {
      const payload = Buffer.from('blob content');
      const digest = digestOf(payload);
      let storageAuthorization: string | undefined = 'not called';
      const storage = await serve((req, res) => {
        storageAuthorization = req.headers.authorization;
        res.writeHead(200, { 'content-length': String(payload.length) }).end(payload);
      });
      const host = await serve((req, res) => {
        if (req.headers.authorization === undefined) res.writeHead(401, { 'www-authenticate': 'Basic realm="r"' }).end();
        else res.writeHead(307, { location: `http://${storage}/bucket/${digest}?X-Signature=abc` }).end();
      });
      const client = new RegistryClient({ credentials: new MemoryCredentialStore({ [host]: { kind: 'basic', username: 'u', password: 'pw' } }), ...via() });
      const bytes = await client.getBlob(parseRepository(`${host}/a/b`), digest);
      expect(Buffer.from(bytes).equals(payload)).toBe(true);
      expect(storageAuthorization).toBeUndefined();
    });
  });

  describe('content verification', () => {
    it('rejects blobs and manifests whose content does not match the digest', async () => {
      const good = Buffer.from('{"schemaVersion":2}');
      const host = await serve((req, res) => {
        if (req.url?.includes('/blobs/') === true) res.writeHead(200).end('tampered');
        else res.writeHead(200, { 'content-type': 'application/vnd.oci.image.manifest.v1+json', 'docker-content-digest': digestOf(Buffer.from('other')) }).end(good);
      });
      const client = new RegistryClient({ ...via() });
      const repository = parseRepository(`${host}/a/b`);
      await expect(client.getBlob(repository, digestOf(Buffer.from('original')))).rejects.toMatchObject({ code: 'REGISTRY_DIGEST_MISMATCH' });
      const stream = await client.openBlob(repository, digestOf(Buffer.from('original')));
      await expect((async () => {
        for await (const _ of stream?.stream ?? []) void _;
      })()).rejects.toMatchObject({ code: 'REGISTRY_DIGEST_MISMATCH' });
      await expect(client.getManifest(repository.at('v1'))).rejects.toMatchObject({ code: 'REGISTRY_DIGEST_MISMATCH' });
      await expect(client.getManifest(repository.at(digestOf(Buffer.from('x'))))).rejects.toMatchObject({ code: 'REGISTRY_DIGEST_MISMATCH' });
    });

    it('detects a tag listing whose Link loops', async () => {
      const host = await serve((req, res) => res.writeHead(200, { link: `<${req.url ?? ''}>; rel="next"`, 'content-type': 'application/json' }).end('{"tags":["a"]}'));
      const client = new RegistryClient({ ...via() });
      await expect(client.listTags(parseRepository(`${host}/a/b`))).rejects.toMatchObject({ code: 'REGISTRY_PROTOCOL' });
    });

    it('rejects tag listings that are not {"tags": [...]}', async () => {
      for (const body of ['null', '"tags"', '{"tags":"a"}', 'not json']) {
        const host = await serve((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(body));
        await expect(new RegistryClient({ ...via() }).listTags(parseRepository(`${host}/a/b`))).rejects.toMatchObject({ code: 'REGISTRY_PROTOCOL' });
      }
    });

    it('maps 403 to REGISTRY_DENIED and 405 on delete to REGISTRY_UNSUPPORTED', async () => {
      const host = await serve((req, res) => {
        if (req.method === 'DELETE') res.writeHead(405, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNSUPPORTED"}]}');
        else res.writeHead(403, { 'content-type': 'application/json' }).end('{"errors":[{"code":"DENIED"}]}');
      });
      const client = new RegistryClient({ ...via() });
      const repository = parseRepository(`${host}/a/b`);
      await expect(client.listTags(repository)).rejects.toMatchObject({ code: 'REGISTRY_DENIED', data: { registryCodes: ['DENIED'] } });
      await expect(client.deleteManifest(repository, digestOf(Buffer.from('m')))).rejects.toMatchObject({ code: 'REGISTRY_UNSUPPORTED' });
    });
  });

  describe('upload sessions', () => {
    /** A minimal blob store speaking the upload protocol, whose first PUT fails after storing (lost answer) or before. */
    async function uploadServer(failFirstPut: 'before' | 'after' | 'patch'): Promise<{ host: string; log: string[] }> {
      const log: string[] = [];
      const blobs = new Map<string, Buffer>();
      const sessions = new Map<string, Buffer[]>();
      let failed = false;
      let nextSession = 1;
      const host = await serve((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (chunk: Buffer) => chunks.push(chunk));
        req.on('end', () => {
          const url = new URL(req.url ?? '/', 'http://x');
          log.push(`${req.method} ${url.pathname.replace(/^\/v2\/a\/b\//, '')}`);
          const blob = /blobs\/(sha256:[a-f0-9]+)$/.exec(url.pathname)?.[1];
          if (req.method === 'HEAD' && blob !== undefined) {
            const stored = blobs.get(blob);
            res.writeHead(stored === undefined ? 404 : 200, stored === undefined ? {} : { 'content-length': String(stored.length) }).end();
            return;
          }
          if (req.method === 'POST') {
            const id = String(nextSession++);
            sessions.set(id, []);
            res.writeHead(202, { location: `/v2/a/b/blobs/uploads/${id}` }).end();
            return;
          }
          const id = /uploads\/(\d+)$/.exec(url.pathname)?.[1] ?? '';
          const session = sessions.get(id);
          if (session === undefined) {
            res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"BLOB_UPLOAD_UNKNOWN"}]}');
            return;
          }
          if (req.method === 'PATCH') {
            if (failFirstPut === 'patch' && !failed) {
              failed = true;
              req.socket.destroy();
              return;
            }
            session.push(Buffer.concat(chunks));
            res.writeHead(202, { location: `/v2/a/b/blobs/uploads/${id}` }).end();
            return;
          }
          if (req.method === 'PUT') {
            const digest = url.searchParams.get('digest') ?? '';
            if (!failed && failFirstPut === 'before') {
              failed = true;
              sessions.delete(id);
              res.writeHead(500).end();
              return;
            }
            blobs.set(digest, Buffer.concat([...session, ...chunks]));
            sessions.delete(id);
            if (!failed && failFirstPut === 'after') {
              failed = true;
              req.socket.destroy();
              return;
            }
            res.writeHead(201, { 'docker-content-digest': digest }).end();
            return;
          }
          res.writeHead(400).end();
        });
      });
      return { host, log };
    }

    it('restarts a session whose final PUT failed, never replaying the PUT alone', async () => {
      const { host, log } = await uploadServer('before');
      const client = new RegistryClient({ sleep: () => Promise.resolve(), ...via() });
      const bytes = Buffer.from('payload');
      expect(await client.uploadBlob(parseRepository(`${host}/a/b`), bytes)).toMatchObject({ status: 'uploaded' });
      const digest = digestOf(bytes);
      expect(log).toEqual([`HEAD blobs/${digest}`, 'POST blobs/uploads/', 'PUT blobs/uploads/1', `HEAD blobs/${digest}`, 'POST blobs/uploads/', 'PUT blobs/uploads/2']);
    });

    it('notices that a session completed although its answer was lost', async () => {
      const { host, log } = await uploadServer('after');
      const client = new RegistryClient({ sleep: () => Promise.resolve(), ...via() });
      const bytes = Buffer.from('payload');
      expect(await client.uploadBlob(parseRepository(`${host}/a/b`), bytes)).toMatchObject({ status: 'uploaded', size: bytes.length });
      expect(log.filter((line) => line.startsWith('POST'))).toHaveLength(1);
      expect(log.at(-1)).toBe(`HEAD blobs/${digestOf(bytes)}`);
    });

    it('re-opens a streamed source when a chunk fails', async () => {
      const { host, log } = await uploadServer('patch');
      const client = new RegistryClient({ sleep: () => Promise.resolve(), ...via() });
      const bytes = randomFill(25);
      let opened = 0;
      const source = {
        open: async function* () {
          opened++;
          await Promise.resolve();
          yield bytes;
        },
      };
      expect(await client.uploadBlob(parseRepository(`${host}/a/b`), source, { digest: digestOf(bytes), chunkSize: 10 })).toMatchObject({ status: 'uploaded', size: 25 });
      expect(opened).toBe(2);
      expect(log.filter((line) => line.startsWith('POST'))).toHaveLength(2);
      expect(log.filter((line) => line.startsWith('PATCH'))).toHaveLength(1 + 3);
    });
  });

  function randomFill(n: number): Buffer {
    return Buffer.from(Array.from({ length: n }, (_, i) => (i * 37) % 251));
  }

  describe('tag listing', () => {
    it('sorts tags answered out of order and drops a tag repeated on a later page', async () => {
      const host = await serve((req, res) => {
        const second = req.url?.includes('last=') === true;
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (!second) headers.link = '</v2/a/b/tags/list?n=3&last=m>; rel="next"';
        res.writeHead(200, headers).end(JSON.stringify({ name: 'a/b', tags: second ? ['b', 'z', 'm', 'Z'] : ['m', 'a', 'b', 7] }));
      });
      const client = new RegistryClient({ ...via() });
      const tags = await client.listTags(parseRepository(`${host}/a/b`));
      expect(tags).toEqual(['Z', 'a', 'b', 'm', 'z']);
      // A new array per call, the caller's own.
      tags.pop();
      expect(await client.listTags(parseRepository(`${host}/a/b`))).toEqual(['Z', 'a', 'b', 'm', 'z']);
    });
  });
});

describe('default transport', () => {
  afterEach(() => vi.unstubAllGlobals());

  it("sends with Node's global fetch unless a fetch or a transport is given", async () => {
    const seen: string[] = [];
    vi.stubGlobal('fetch', (input: Parameters<typeof fetch>[0]) => {
      seen.push(urlOf(input).href);
      return Promise.resolve(new Response(JSON.stringify({ name: 'x', tags: ['b', 'a'] }), { status: 200, headers: { 'content-type': 'application/json' } }));
    });
    expect(await new RegistryClient().listTags(parseRepository('127.0.0.1:9/x'))).toEqual(['a', 'b']);
    expect(seen).toEqual(['http://127.0.0.1:9/v2/x/tags/list']);
    expect(() => new RegistryClient({ fetch, transport: nodeHttpTransport })).toThrow(TypeError);
  });
});
