import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { parseImageReference } from '@strata/registry';
import { DockerDaemonIngest, followPushStream, type DockerIngestClient } from '../src/wiring/docker-daemon-ingest.js';

const DIGEST = `sha256:${'ab'.repeat(32)}`;

/** A daemon whose push answers with `messages`, split into awkward chunks. */
function fakeDaemon(messages: readonly object[]) {
  const calls: { op: string; name: string; options: unknown }[] = [];
  const client: DockerIngestClient = {
    getImage: (name) => ({
      tag: (options) => {
        calls.push({ op: 'tag', name, options });
        return Promise.resolve();
      },
      push: (options) => {
        calls.push({ op: 'push', name, options: { ...options, abortSignal: undefined } });
        const text = messages.map((message) => `${JSON.stringify(message)}\r\n`).join('');
        const chunks = text.match(/[\s\S]{1,7}/g) ?? [];
        return Promise.resolve(Readable.from(chunks.map((chunk) => Buffer.from(chunk))));
      },
    }),
  };
  return { client, calls };
}

describe('DockerDaemonIngest', () => {
  it('tags the local image as the target, pushes it, and returns the digest of the aux message', async () => {
    const { client, calls } = fakeDaemon([{ status: 'Preparing', id: 'x' }, { status: 'Pushed' }, { aux: { Tag: 't1', Digest: DIGEST, Size: 5 } }]);
    const credentials = { findCredentials: () => Promise.resolve({ kind: 'basic' as const, username: 'u', password: 'p' }) };
    const ingest = new DockerDaemonIngest({ docker: client, credentials });
    const result = await ingest.pushLocalImage('sha256:' + 'c'.repeat(64), parseImageReference('127.0.0.1:5000/demo:t1'));
    expect(result).toEqual({ digest: DIGEST });
    expect(calls).toEqual([
      { op: 'tag', name: 'sha256:' + 'c'.repeat(64), options: { repo: '127.0.0.1:5000/demo', tag: 't1' } },
      { op: 'push', name: '127.0.0.1:5000/demo:t1', options: { tag: 't1', authconfig: { username: 'u', password: 'p', serveraddress: '127.0.0.1:5000' }, abortSignal: undefined } },
    ]);
  });

  it('fails with the daemon\'s error message, without credentials in it', async () => {
    const { client } = fakeDaemon([{ status: 'Preparing' }, { errorDetail: { message: 'denied: https://user:secret@registry/x' }, error: 'denied: https://user:secret@registry/x' }]);
    const ingest = new DockerDaemonIngest({ docker: client });
    const error = await ingest.pushLocalImage('local', parseImageReference('127.0.0.1:5000/demo:t1')).catch((e: unknown) => e as Error);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/docker push of local to 127\.0\.0\.1:5000\/demo:t1 failed: denied/);
    expect((error as Error).message).not.toContain('secret');
  });

  it('retries a push that met a transient registry fault, and gives up on a refusal at once', async () => {
    const answers: object[][] = [
      [{ status: 'Preparing' }, { error: 'received unexpected HTTP status: 503 Service Unavailable' }],
      [{ status: 'Preparing' }, { error: 'Patch "http://127.0.0.1:5000/v2/demo/blobs/uploads/x": EOF' }],
      [{ status: 'Pushed' }, { aux: { Tag: 't1', Digest: DIGEST, Size: 5 } }],
    ];
    let pushes = 0;
    const delays: number[] = [];
    const client: DockerIngestClient = {
      getImage: () => ({
        tag: () => Promise.resolve(),
        push: () => {
          const messages = answers[Math.min(pushes, answers.length - 1)] ?? [];
          pushes += 1;
          return Promise.resolve(Readable.from([Buffer.from(messages.map((m) => `${JSON.stringify(m)}\n`).join(''))]));
        },
      }),
    };
    const sleep = (ms: number): Promise<void> => {
      delays.push(ms);
      return Promise.resolve();
    };
    const ingest = new DockerDaemonIngest({ docker: client, retry: { baseDelayMs: 100, sleep } });
    await expect(ingest.pushLocalImage('local', parseImageReference('127.0.0.1:5000/demo:t1'))).resolves.toEqual({ digest: DIGEST });
    expect(pushes).toBe(3);
    expect(delays).toEqual([100, 200]);

    const refused = fakeDaemon([{ error: 'unauthorized: authentication required' }]);
    let refusals = 0;
    const counting: DockerIngestClient = {
      getImage: (name) => {
        const image = refused.client.getImage(name);
        return { tag: (options) => image.tag(options), push: (options) => ((refusals += 1), image.push(options)) };
      },
    };
    const once = new DockerDaemonIngest({ docker: counting, retry: { sleep } });
    await expect(once.pushLocalImage('local', parseImageReference('127.0.0.1:5000/demo:t1'))).rejects.toThrow(/unauthorized/);
    expect(refusals).toBe(1);
  });

  it('gives up after the configured attempts, saying how many', async () => {
    const { client, calls } = fakeDaemon([{ error: 'received unexpected HTTP status: 502 Bad Gateway' }]);
    const ingest = new DockerDaemonIngest({ docker: client, retry: { attempts: 3, sleep: () => Promise.resolve() } });
    await expect(ingest.pushLocalImage('local', parseImageReference('127.0.0.1:5000/demo:t1'))).rejects.toThrow(/502 Bad Gateway \(after 3 attempts\)/);
    expect(calls.filter((call) => call.op === 'push')).toHaveLength(3);
  });

  it('fails when the daemon reports no digest', async () => {
    const { client } = fakeDaemon([{ status: 'Pushed' }]);
    const ingest = new DockerDaemonIngest({ docker: client, retry: { attempts: 2, sleep: () => Promise.resolve() } });
    await expect(ingest.pushLocalImage('local', parseImageReference('127.0.0.1:5000/demo:t1'))).rejects.toThrow(/no manifest digest \(after 2 attempts\)/);
  });

  it('followPushStream stops with the abort reason', async () => {
    const controller = new AbortController();
    const stream = new Readable({ read() {} });
    const following = followPushStream(stream, controller.signal);
    stream.push('{"status":"Pushing"}\n');
    controller.abort(new Error('stop now'));
    await expect(following).rejects.toThrow('stop now');
  });
});
