/**
 * Test kit: a loopback HTTP proxy in front of a registry that injects faults (5xx, 429, connection
 * resets, before or after forwarding the request) and can force `Link` pagination of tag listings
 * in a shuffled order, as registries that ignore `n`/`last` and return tags unsorted do.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FaultProxyOptions {
  /** Fraction of requests that get a fault, 0..1. @default 0 */
  failureRate?: number;
  /** Seed of the deterministic random source. @default 1 */
  seed?: number;
  /** Serve tag listings in pages of this size (shuffled order, `Link` to the next page). */
  tagPageSize?: number;
}

export interface FaultProxyStats {
  requests: number;
  faults: Record<string, number>;
  tagPages: number;
}

export interface FaultProxy {
  /** `127.0.0.1:<port>`: use it as the registry host. */
  readonly host: string;
  readonly stats: FaultProxyStats;
  close(): Promise<void>;
}

type Fault = 'reset-before' | '503-before' | '429-before' | 'reset-after' | '502-after';
const FAULTS: Fault[] = ['reset-before', '503-before', '429-before', 'reset-after', '502-after'];

/** mulberry32: small, seedable, good enough for picking faults. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export async function startFaultProxy(upstream: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const random = seeded(options.seed ?? 1);
  const failureRate = options.failureRate ?? 0;
  const stats: FaultProxyStats = { requests: 0, faults: {}, tagPages: 0 };
  const shuffled = new Map<string, string[]>();

  const forward = (req: IncomingMessage, body: Buffer, path = req.url ?? '/'): Promise<{ status: number; headers: IncomingMessage['headers']; body: Buffer }> =>
    new Promise((resolve, reject) => {
      const [hostname, port] = upstream.split(':');
      const headers = { ...req.headers };
      delete headers.connection;
      const out = request({ hostname, port: Number(port), method: req.method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 502, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', reject);
      });
      out.on('error', reject);
      out.end(body);
    });

  const reply = (res: ServerResponse, status: number, headers: IncomingMessage['headers'], body: Buffer, head: boolean) => {
    const clean: Record<string, string | string[]> = {};
    for (const [key, value] of Object.entries(headers)) if (value !== undefined && key !== 'connection' && key !== 'transfer-encoding' && key !== 'keep-alive') clean[key] = value;
    if (!head) clean['content-length'] = String(body.length);
    res.writeHead(status, clean);
    res.end(head ? undefined : body);
  };

  const pageTags = async (req: IncomingMessage, body: Buffer, res: ServerResponse, pageSize: number) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const upstreamAnswer = await forward(req, body, url.pathname);
    if (upstreamAnswer.status !== 200) {
      reply(res, upstreamAnswer.status, upstreamAnswer.headers, upstreamAnswer.body, false);
      return;
    }
    const listing = JSON.parse(upstreamAnswer.body.toString('utf8')) as { name: string; tags: string[] | null };
    const all = listing.tags ?? [];
    let order = shuffled.get(url.pathname);
    if (order === undefined || order.length !== all.length || !all.every((t) => order?.includes(t))) {
      order = [...all];
      for (let i = order.length - 1; i > 0; i--) {
        const j = Math.floor(random() * (i + 1));
        [order[i], order[j]] = [order[j] as string, order[i] as string];
      }
      shuffled.set(url.pathname, order);
    }
    const last = url.searchParams.get('last');
    const start = last === null ? 0 : order.indexOf(last) + 1;
    const page = order.slice(start, start + pageSize);
    const headers: IncomingMessage['headers'] = { 'content-type': 'application/json' };
    if (start + pageSize < order.length) {
      headers.link = `<${url.pathname}?n=${pageSize}&last=${encodeURIComponent(page.at(-1) ?? '')}>; rel="next"`;
    }
    stats.tagPages++;
    reply(res, 200, headers, Buffer.from(JSON.stringify({ name: listing.name, tags: page })), false);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      const body = Buffer.concat(chunks);
      stats.requests++;
      const fault: Fault | undefined = random() < failureRate ? FAULTS[Math.floor(random() * FAULTS.length)] : undefined;
      if (fault !== undefined) stats.faults[fault] = (stats.faults[fault] ?? 0) + 1;
      try {
        if (fault === 'reset-before') {
          req.socket.destroy();
          return;
        }
        if (fault === '503-before' || fault === '429-before') {
          reply(res, fault === '503-before' ? 503 : 429, { 'retry-after': '0', 'content-type': 'application/json' }, Buffer.from('{"errors":[{"code":"UNAVAILABLE"}]}'), req.method === 'HEAD');
          return;
        }
        const isTagList = options.tagPageSize !== undefined && req.method === 'GET' && /\/tags\/list$/.test(new URL(req.url ?? '/', 'http://proxy').pathname);
        if (isTagList && fault === undefined) {
          await pageTags(req, body, res, options.tagPageSize as number);
          return;
        }
        const answer = await forward(req, body);
        if (fault === 'reset-after') {
          req.socket.destroy();
          return;
        }
        if (fault === '502-after') {
          reply(res, 502, { 'content-type': 'text/plain' }, Buffer.from('bad gateway'), req.method === 'HEAD');
          return;
        }
        reply(res, answer.status, answer.headers, answer.body, req.method === 'HEAD');
      } catch {
        req.socket.destroy();
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
