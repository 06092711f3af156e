/**
 * `strata build --repo` against registries that are not the friendly shared one: a token-auth
 * `docker-registry` with a token service (started here, loopback), and the shared registry behind a
 * proxy failing 10% of requests. Both the CLI's registry client and the Docker daemon (which pushes
 * built stages through the ingest) talk to them.
 * Skips with a reason without the services or the docker-registry binary; fails under CI=true.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../../packages/registry/test/support/fault-proxy.js';
import { requireRegistryBinary, startRegistry } from '../../packages/registry/test/support/registry-process.js';
import { startTokenServer } from '../../packages/registry/test/support/token-server.js';
import { REDIS_URL, REGISTRY, requireServices } from '../support/services.js';
import { describeRun, findBrokenTags, findManifest, makeExample, readReport, removeProjectImages, reportStages, runStrata, unique } from './support.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'strata-distributed-auth-'));
const projects: string[] = [];

afterAll(async () => {
  for (const project of projects) await removeProjectImages(project).catch(() => undefined);
  rmSync(scratch, { recursive: true, force: true });
}, 180_000);

async function project(example: string): Promise<{ dir: string; project: string }> {
  const name = `strata-dist-${example}-${unique()}`;
  const dir = path.join(scratch, name);
  await makeExample(example, dir, name);
  projects.push(name);
  return { dir, project: name };
}

describe('a token-auth registry', () => {
  it('takes a build with credentials from DOCKER_CONFIG, and no secret shows in any output', async (ctx) => {
    await requireServices(ctx, 'docker', 'redis');
    const binary = requireRegistryBinary(ctx);
    const user = 'builder';
    const password = `pw-${unique()}-do-not-leak`;
    const tokens = await startTokenServer({ users: { [user]: password } });
    const registry = await startRegistry(binary, {
      auth: { token: { realm: tokens.realm, service: tokens.service, issuer: tokens.issuer, rootcertbundle: tokens.certPath } },
    });
    try {
      const dockerConfig = path.join(scratch, `docker-config-${unique()}`);
      mkdirSync(dockerConfig);
      const basic = Buffer.from(`${user}:${password}`).toString('base64');
      writeFileSync(path.join(dockerConfig, 'config.json'), JSON.stringify({ auths: { [registry.host]: { auth: basic } } }));
      const made = await project('stapel-app');
      const repo = `${registry.host}/team/${made.project}`;
      const reportPath = path.join(scratch, `${made.project}-token.json`);
      const run = await runStrata(['build', '--dir', made.dir, '--repo', repo, '--synchronization', REDIS_URL, '--report-path', reportPath], {
        env: { DOCKER_CONFIG: dockerConfig },
      });
      const secrets = [password, basic, ...tokens.issued];
      const outputs = { stdout: run.stdout, stderr: run.stderr, report: readReportText(reportPath) };
      for (const [where, text] of Object.entries(outputs)) {
        for (const secret of secrets) expect(text.includes(secret), `a secret appears in ${where}`).toBe(false);
      }
      expect(run.code, describeRun(run)).toBe(0);
      expect(tokens.issued.length).toBeGreaterThan(0);
      // Someone (the client, the daemon or both) asked the token service with the user's password.
      expect(tokens.requests.some((request) => request.user === user && request.status === 200)).toBe(true);

      // Every stage of the report is in the registry (read with a token of our own).
      const stages = reportStages(readReport(reportPath));
      const auth = await pullToken(tokens.realm, tokens.service, `team/${made.project}`, basic);
      for (const stage of stages) expect(await findManifest(repo, stage.id, { authorization: `Bearer ${auth}` }), stage.id).toBeDefined();
      // Anonymous reads are refused: the build really used credentials.
      const anonymous = await fetch(`http://${registry.host}/v2/team/${made.project}/tags/list`);
      expect(anonymous.status).toBe(401);
    } finally {
      await registry.stop();
      await tokens.close();
    }
  }, 300_000);
});

describe('a registry behind a proxy failing 10% of requests', () => {
  it('takes a build, and leaves no tag on a missing manifest or blob', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry', 'redis');
    const proxy = await startFaultProxy(REGISTRY, { failureRate: 0.1, seed: 20_261_122 });
    try {
      const made = await project('stapel-app');
      const name = `strata-dist/faults-${unique()}`;
      const reportPath = path.join(scratch, `${made.project}-faults.json`);
      const run = await runStrata(['build', '--dir', made.dir, '--repo', `${proxy.host}/${name}`, '--synchronization', REDIS_URL, '--report-path', reportPath]);
      const faults = Object.values(proxy.stats.faults).reduce((sum, n) => sum + n, 0);
      const summary = `${faults} faults in ${proxy.stats.requests} proxied requests ${JSON.stringify(proxy.stats.faults)}`;
      await ctx.annotate(summary);
      console.log(summary);
      // Whatever happened, nothing is half-published: checked directly on the registry, not through the proxy.
      expect(await findBrokenTags(`${REGISTRY}/${name}`)).toEqual([]);
      expect(run.code, `${summary}\n${describeRun(run)}`).toBe(0);
      expect(faults).toBeGreaterThan(0);
      for (const stage of reportStages(readReport(reportPath))) expect(await findManifest(`${REGISTRY}/${name}`, stage.id), stage.id).toBeDefined();
    } finally {
      await proxy.close();
    }
  }, 300_000);
});

describe('a registry behind a proxy failing 10% of the requests of Strata\'s own client', () => {
  // The Docker daemon's requests (User-Agent `docker/…`) go straight to the registry; everything else
  // (the CLI's registry client) through the faulty proxy. Separates the client's resilience from the
  // daemon push's (see the test above).
  it('takes a build, and leaves no tag on a missing manifest or blob', async (ctx) => {
    await requireServices(ctx, 'docker', 'registry', 'redis');
    const proxy = await startFaultProxy(REGISTRY, { failureRate: 0.1, seed: 20_261_122 });
    const router = await startRouter((req) => (/^docker\//.test(req.headers['user-agent'] ?? '') ? REGISTRY : proxy.host));
    try {
      const made = await project('stapel-app');
      const name = `strata-dist/client-faults-${unique()}`;
      const reportPath = path.join(scratch, `${made.project}-client-faults.json`);
      const run = await runStrata(['build', '--dir', made.dir, '--repo', `${router.host}/${name}`, '--synchronization', REDIS_URL, '--report-path', reportPath]);
      const faults = Object.values(proxy.stats.faults).reduce((sum, n) => sum + n, 0);
      const summary = `${faults} faults in ${proxy.stats.requests} requests of the client; ${router.routed[REGISTRY] ?? 0} daemon requests direct`;
      await ctx.annotate(summary);
      console.log(summary);
      expect(await findBrokenTags(`${REGISTRY}/${name}`)).toEqual([]);
      expect(run.code, `${summary}\n${describeRun(run)}`).toBe(0);
      expect(faults).toBeGreaterThan(0);
      expect(router.routed[REGISTRY] ?? 0).toBeGreaterThan(0);
      for (const stage of reportStages(readReport(reportPath))) expect(await findManifest(`${REGISTRY}/${name}`, stage.id), stage.id).toBeDefined();
    } finally {
      await router.close();
      await proxy.close();
    }
  }, 300_000);
});

/** A loopback HTTP proxy that streams each request to the upstream `route` picks (Host kept, so Locations point back here). */
async function startRouter(route: (req: IncomingMessage) => string): Promise<{ host: string; routed: Record<string, number>; close(): Promise<void> }> {
  const routed: Record<string, number> = {};
  const server = createServer((req, res) => {
    const upstream = route(req);
    routed[upstream] = (routed[upstream] ?? 0) + 1;
    const [hostname, port] = upstream.split(':');
    const out = request({ hostname, port: Number(port), method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    out.on('error', () => req.socket.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    host: `127.0.0.1:${port}`,
    routed,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function readReportText(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** A pull token for `repository` from the token service, with basic credentials. */
async function pullToken(realm: string, service: string, repository: string, basic: string): Promise<string> {
  const url = new URL(realm);
  url.searchParams.set('service', service);
  url.searchParams.set('scope', `repository:${repository}:pull`);
  const res = await fetch(url, { headers: { authorization: `Basic ${basic}` } });
  const body = (await res.json()) as { token?: string; access_token?: string };
  const token = body.token ?? body.access_token;
  if (token === undefined) throw new Error(`token service answered ${res.status} without a token`);
  return token;
}
