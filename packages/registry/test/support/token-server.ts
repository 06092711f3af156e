/**
 * Test kit: a Docker token service (the `auth: token:` flow of Distribution v2) on loopback. It signs
 * RS256 JWTs with a key whose self-signed certificate (made here with `selfsigned`) is the
 * registry's `rootcertbundle`, and carries it in the `x5c` header.
 */
import { createSign, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generate } from 'selfsigned';

export interface TokenRequestRecord {
  readonly method: string;
  readonly user: string | undefined;
  readonly scopes: string[];
  readonly status: number;
}

export interface TokenServer {
  readonly realm: string;
  readonly service: string;
  readonly issuer: string;
  readonly certPath: string;
  readonly requests: TokenRequestRecord[];
  /** Every token handed out, so tests can check none leaks. */
  readonly issued: string[];
  close(): Promise<void>;
}

export interface TokenServerOptions {
  /** username → password */
  users: Record<string, string>;
  /** refresh token → username */
  refreshTokens?: Record<string, string>;
  /** Repositories (paths) anonymous users may pull. */
  publicRepositories?: string[];
}

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

export async function startTokenServer(options: TokenServerOptions): Promise<TokenServer> {
  const dir = mkdtempSync(path.join(tmpdir(), 'strata-token-'));
  const certPath = path.join(dir, 'cert.pem');
  const pems = await generate([{ name: 'commonName', value: 'strata-test-token' }], { keySize: 2048, algorithm: 'sha256' });
  writeFileSync(certPath, pems.cert);
  const key = pems.private;
  const certDer = pems.cert.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
  const service = 'strata-test-registry';
  const issuer = 'strata-test-issuer';
  const requests: TokenRequestRecord[] = [];
  const issued: string[] = [];

  const sign = (subject: string, access: { type: string; name: string; actions: string[] }[]) => {
    const now = Math.floor(Date.now() / 1000);
    const header = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', x5c: [certDer] }));
    const claims = b64url(JSON.stringify({ iss: issuer, sub: subject, aud: service, exp: now + 300, nbf: now - 30, iat: now, jti: randomUUID(), access }));
    const signature = createSign('RSA-SHA256').update(`${header}.${claims}`).sign(key);
    return `${header}.${claims}.${b64url(signature)}`;
  };

  const grant = (user: string | undefined, scopes: string[]) =>
    scopes.flatMap((scope) => {
      const parts = scope.split(':');
      if (parts.length < 3 || parts[0] !== 'repository') return [];
      const name = parts.slice(1, -1).join(':');
      const wanted = (parts.at(-1) ?? '').split(',');
      const actions = user !== undefined ? wanted : (options.publicRepositories ?? []).includes(name) ? wanted.filter((a) => a === 'pull') : [];
      return actions.length > 0 ? [{ type: 'repository', name, actions }] : [];
    });

  const server: Server = createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const url = new URL(req.url ?? '/', 'http://token');
      let user: string | undefined;
      let scopes = url.searchParams.getAll('scope');
      let status = 200;
      if (req.method === 'POST') {
        const form = new URLSearchParams(body);
        scopes = (form.get('scope') ?? '').split(' ').filter(Boolean);
        user = options.refreshTokens?.[form.get('refresh_token') ?? ''];
        if (user === undefined) status = 401;
      } else {
        const header = req.headers.authorization;
        if (header?.startsWith('Basic ') === true) {
          const [name, ...rest] = Buffer.from(header.slice(6), 'base64').toString('utf8').split(':');
          if (name !== undefined && options.users[name] === rest.join(':')) user = name;
          else status = 401;
        }
      }
      requests.push({ method: req.method ?? '', user, scopes, status });
      if (status !== 200) {
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      const token = sign(user ?? 'anonymous', grant(user, scopes));
      issued.push(token);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, access_token: token, expires_in: 300, issued_at: new Date().toISOString() }));
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    realm: `http://127.0.0.1:${port}/token`,
    service,
    issuer,
    certPath,
    requests,
    issued,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        });
      }),
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
