/**
 * nodeHttpTransport (what the strata CLI sends with) and nodeHttpFetch, against small loopback servers written
 * here: they must answer as Node's `fetch` does for what the client sends.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { RegistryClient, nodeHttpFetch, nodeHttpTransport } from '@strata/registry';
import { freePort } from './support/registry-process.js';

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse, body: Buffer) => void): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => handler(req, res, Buffer.concat(chunks)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const manual = { redirect: 'manual' } as const;

describe('nodeHttpFetch', () => {
  it('sends method, headers and a body with its length, and asks for no compression', async () => {
    let seen: { method?: string; headers?: IncomingMessage['headers']; body?: string } = {};
    const base = await serve((req, res, body) => {
      seen = { method: req.method, headers: req.headers, body: body.toString() };
      res.writeHead(201, { 'x-answer': 'yes', 'content-type': 'application/json' }).end('{"ok":true}');
    });
    const response = await nodeHttpFetch(new URL('/v2/a/b', base), { ...manual, method: 'PUT', headers: { 'content-type': 'text/plain', 'user-agent': 'ua' }, body: new TextEncoder().encode('héllo') });
    expect(response.status).toBe(201);
    expect(response.headers.get('x-answer')).toBe('yes');
    expect(await response.json()).toEqual({ ok: true });
    expect(seen.method).toBe('PUT');
    expect(seen.body).toBe('héllo');
    expect(seen.headers?.['content-length']).toBe('6');
    expect(seen.headers?.['content-type']).toBe('text/plain');
    expect(seen.headers?.['user-agent']).toBe('ua');
    expect(seen.headers?.['accept-encoding']).toBeUndefined();
    expect(seen.headers?.['transfer-encoding']).toBeUndefined();
  });

  it('returns redirects as they are, and bodiless answers without a body', async () => {
    const base = await serve((req, res) => {
      if (req.url === '/moved') res.writeHead(307, { location: '/elsewhere' }).end('moved');
      else if (req.url === '/none') res.writeHead(204).end();
      else res.writeHead(200, { 'content-length': '5' }).end(req.method === 'HEAD' ? undefined : 'abcde');
    });
    const moved = await nodeHttpFetch(`${base}/moved`, manual);
    expect(moved.status).toBe(307);
    expect(moved.headers.get('location')).toBe('/elsewhere');
    expect(await moved.text()).toBe('moved');
    const none = await nodeHttpFetch(`${base}/none`, manual);
    expect(none.status).toBe(204);
    expect(none.body).toBeNull();
    const head = await nodeHttpFetch(`${base}/x`, { ...manual, method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe('5');
    expect(head.body).toBeNull();
    // The kept-alive connection still serves the next request.
    expect(await (await nodeHttpFetch(`${base}/x`, manual)).text()).toBe('abcde');
  });

  it('streams a body chunk by chunk and errors it with the abort reason when aborted mid-way', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200);
      res.write('first');
      // The rest never comes.
    });
    const controller = new AbortController();
    const response = await nodeHttpFetch(base, { ...manual, signal: controller.signal });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toBe('first');
    const reason = new Error('caller gave up');
    controller.abort(reason);
    await expect(reader.read()).rejects.toBe(reason);
  });

  it('rejects with the abort reason before the answer, and at once when already aborted', async () => {
    const base = await serve(() => undefined);
    const controller = new AbortController();
    const pending = nodeHttpFetch(base, { ...manual, signal: controller.signal });
    const reason = new Error('stop');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    await expect(nodeHttpFetch(base, { ...manual, signal: controller.signal })).rejects.toBe(reason);
  });

  it('fails like fetch on a refused connection: TypeError with the system code as cause', async () => {
    const port = await freePort();
    const error = await nodeHttpFetch(`http://127.0.0.1:${port}/v2/`, manual).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe('fetch failed');
    expect(((error as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
  });

  it('refuses what it would do differently from fetch', async () => {
    await expect(nodeHttpFetch('http://127.0.0.1:1/', {})).rejects.toThrow("redirect: 'manual'");
    await expect(nodeHttpFetch(new Request('http://127.0.0.1:1/'), manual)).rejects.toThrow('not a Request');
    await expect(nodeHttpFetch('ftp://127.0.0.1/', manual)).rejects.toThrow('ftp:');
    await expect(nodeHttpFetch('http://127.0.0.1:1/', { ...manual, method: 'PUT', body: new Blob(['x']) })).rejects.toThrow('bodies only');
  });
});

describe('nodeHttpTransport', () => {
  it('answers headers case-insensitively, repeated ones joined, and the body whole or streamed', async () => {
    const base = await serve((req, res) => {
      res.setHeader('Docker-Content-Digest', 'sha256:abc');
      res.setHeader('X-Many', ['one', 'two']);
      if (req.url === '/big') res.end(Buffer.alloc(200_000, 7));
      else res.end(JSON.stringify({ method: req.method, length: req.headers['content-length'] ?? null }));
    });
    const answer = await nodeHttpTransport(new URL(base), { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array([1, 2, 3]) });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('docker-content-digest')).toBe('sha256:abc');
    expect(answer.headers.get('DOCKER-CONTENT-DIGEST')).toBe('sha256:abc');
    expect(answer.headers.get('x-many')).toBe('one, two');
    expect(answer.headers.get('absent')).toBeNull();
    expect(JSON.parse(await answer.text())).toEqual({ method: 'POST', length: '3' });
    const big = await nodeHttpTransport(new URL('/big', base), { method: 'GET', headers: {} });
    const bytes = new Uint8Array(await big.arrayBuffer());
    expect(bytes.byteLength).toBe(200_000);
    expect(bytes.every((b) => b === 7)).toBe(true);
    let streamed = 0;
    for await (const chunk of (await nodeHttpTransport(new URL('/big', base), { method: 'GET', headers: {} })).body ?? []) streamed += chunk.byteLength;
    expect(streamed).toBe(200_000);
  });

  it('has no body for HEAD, and a cancelled body leaves the next request working', async () => {
    const base = await serve((req, res) => res.writeHead(200, { 'content-length': '100000' }).end(req.method === 'HEAD' ? undefined : Buffer.alloc(100_000)));
    const head = await nodeHttpTransport(new URL(base), { method: 'HEAD', headers: {} });
    expect(head.body).toBeNull();
    expect((await head.arrayBuffer()).byteLength).toBe(0);
    const cancelled = await nodeHttpTransport(new URL(base), { method: 'GET', headers: {} });
    await cancelled.body?.cancel();
    expect((await (await nodeHttpTransport(new URL(base), { method: 'GET', headers: {} })).arrayBuffer()).byteLength).toBe(100_000);
  });

  it('errors a body being read with the abort reason', async () => {
    const base = await serve((_req, res) => {
      res.writeHead(200);
      res.write('first');
    });
    const controller = new AbortController();
    const answer = await nodeHttpTransport(new URL(base), { method: 'GET', headers: {}, signal: controller.signal });
    const reason = new Error('caller gave up');
    const reading = answer.arrayBuffer();
    controller.abort(reason);
    await expect(reading).rejects.toBe(reason);
  });

  it('fails like fetch on a refused connection, and refuses an unsendable header without sending', async () => {
    const port = await freePort();
    const refused = await nodeHttpTransport(new URL(`http://127.0.0.1:${port}/`), { method: 'GET', headers: {} }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TypeError);
    expect(((refused as Error).cause as { code?: string }).code).toBe('ECONNREFUSED');
    let requests = 0;
    const base = await serve((_req, res) => (requests++, res.end()));
    await expect(nodeHttpTransport(new URL(base), { method: 'GET', headers: { 'x-bad': 'a\nb' } })).rejects.toBeInstanceOf(TypeError);
    expect(requests).toBe(0);
  });

  it('a client takes a fetch or a transport, not both', () => {
    expect(() => new RegistryClient({ fetch: nodeHttpFetch, transport: nodeHttpTransport })).toThrow(TypeError);
  });
});
