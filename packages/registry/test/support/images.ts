/** Test kit: tiny but real OCI images (a gzip'd tar layer, a config, a manifest) built in memory. */
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { createImageManifest, digestOf, MediaType, type ContentDescriptor, type Digest } from '@strata/registry';

export interface Blob {
  readonly bytes: Uint8Array;
  readonly digest: Digest;
  readonly size: number;
}

export interface TinyImage {
  readonly layer: Blob;
  readonly config: Blob;
  readonly manifest: { readonly bytes: Uint8Array; readonly mediaType: string; readonly digest: Digest };
}

export function blobOf(bytes: Uint8Array): Blob {
  return { bytes, digest: digestOf(bytes), size: bytes.byteLength };
}

/** A ustar archive of regular files (mode 0644, mtime 0). */
export function tarOf(files: Record<string, string | Uint8Array>): Uint8Array {
  const blocks: Buffer[] = [];
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === 'string' ? Buffer.from(content) : Buffer.from(content);
    const header = Buffer.alloc(512);
    header.write(name, 0, 100, 'utf8');
    header.write('0000644\0', 100);
    header.write('0000000\0', 108);
    header.write('0000000\0', 116);
    header.write(`${data.length.toString(8).padStart(11, '0')}\0`, 124);
    header.write('00000000000\0', 136);
    header.write('        ', 148);
    header.write('0', 156);
    header.write('ustar\0', 257);
    header.write('00', 263);
    let sum = 0;
    for (const byte of header) sum += byte;
    header.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** `pretty` indents the config JSON, as some builders write it (a re-serialised config then differs). */
export function tinyImage(
  options: { files?: Record<string, string>; labels?: Record<string, string>; mediaType?: typeof MediaType.OCI_MANIFEST | typeof MediaType.DOCKER_MANIFEST; pretty?: boolean } = {},
): TinyImage {
  const tar = tarOf(options.files ?? { 'hello.txt': 'hello\n' });
  const layer = blobOf(gzipSync(tar));
  const diffId = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  const docker = options.mediaType === MediaType.DOCKER_MANIFEST;
  const config = blobOf(
    Buffer.from(
      JSON.stringify({
        architecture: 'amd64',
        os: 'linux',
        config: { Labels: options.labels ?? {} },
        rootfs: { type: 'layers', diff_ids: [diffId] },
        history: [{ created_by: 'strata test kit' }],
      }, null, options.pretty === true ? 2 : undefined),
    ),
  );
  const descriptor = (blob: Blob, mediaType: string): ContentDescriptor => ({ mediaType, digest: blob.digest, size: blob.size });
  const manifest = createImageManifest({
    mediaType: options.mediaType ?? MediaType.OCI_MANIFEST,
    config: descriptor(config, docker ? MediaType.DOCKER_CONFIG : MediaType.OCI_CONFIG),
    layers: [descriptor(layer, docker ? MediaType.DOCKER_LAYER : MediaType.OCI_LAYER)],
  });
  return { layer, config, manifest };
}
