/**
 * A {@link LocalImageIngest} over the `docker` CLI, for tests only: `docker tag` the local image as the
 * target, `docker push` it (the daemon does the upload), read the digest the push printed, then drop
 * the temporary tag. The CLI wires the real one (dockerode) from `@strata/docker`.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Digest, ImageReference, LocalImageIngest } from '@strata/registry';
import { parseDigest } from '@strata/registry';

const run = promisify(execFile);

export class DockerCliIngest implements LocalImageIngest {
  /** Every push done, for assertions. */
  readonly pushes: { localRef: string; target: string; digest: Digest }[] = [];

  async pushLocalImage(localRef: string, target: ImageReference, options: { signal?: AbortSignal | undefined } = {}): Promise<{ digest: Digest }> {
    const ref = target.toString();
    const signal = options.signal === undefined ? {} : { signal: options.signal };
    await run('docker', ['tag', localRef, ref], signal);
    try {
      const { stdout } = await run('docker', ['push', ref], signal);
      const match = /digest: (sha256:[0-9a-f]{64})/.exec(stdout);
      if (match?.[1] === undefined) throw new Error(`docker push ${ref} printed no digest:\n${stdout}`);
      const digest = parseDigest(match[1]);
      this.pushes.push({ localRef, target: ref, digest });
      return { digest };
    } finally {
      await run('docker', ['rmi', ref]).catch(() => undefined);
    }
  }
}

/** `docker pull ref`, then the pulled image's labels; removes the pulled tag afterwards. */
export async function dockerPullLabels(ref: string): Promise<Record<string, string>> {
  await run('docker', ['pull', '-q', ref]);
  try {
    const { stdout } = await run('docker', ['image', 'inspect', '--format', '{{json .Config.Labels}}', ref]);
    return (JSON.parse(stdout) ?? {}) as Record<string, string>;
  } finally {
    await run('docker', ['rmi', ref]).catch(() => undefined);
  }
}
