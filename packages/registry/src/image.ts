import type { CallOptions, RegistryClient } from './client.js';
import { assertDigest, digestOf, isDigest, type Digest } from './digest.js';
import { RegistryError } from './errors.js';
import { isIndexMediaType, MediaType } from './media-types.js';
import type { ImageReference } from './reference.js';

/** A content descriptor as it appears inside manifests. */
export interface ContentDescriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
}

/** A single-platform image manifest (Docker schema 2 or OCI). */
export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  config: ContentDescriptor;
  layers: ContentDescriptor[];
  annotations?: Record<string, string>;
}

/** A multi-platform index (OCI index or Docker manifest list). */
export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: ContentDescriptor[];
  annotations?: Record<string, string>;
}

export type ParsedManifest = { readonly kind: 'image'; readonly manifest: ImageManifest } | { readonly kind: 'index'; readonly index: ImageIndex };

/** Parses manifest bytes by media type; throws `REGISTRY_PROTOCOL` on malformed content. */
export function parseManifest(manifest: { bytes: Uint8Array; mediaType: string }): ParsedManifest {
  const parsed = parseObject(manifest.bytes, 'manifest');
  if (isIndexMediaType(manifest.mediaType) || (parsed.manifests !== undefined && parsed.config === undefined)) {
    if (!Array.isArray(parsed.manifests) || !parsed.manifests.every(isDescriptor)) throw malformed('index', 'manifests[] must be descriptors');
    return { kind: 'index', index: parsed as unknown as ImageIndex };
  }
  if (!isDescriptor(parsed.config)) throw malformed('manifest', 'config must be a descriptor');
  if (!Array.isArray(parsed.layers) || !parsed.layers.every(isDescriptor)) throw malformed('manifest', 'layers[] must be descriptors');
  return { kind: 'image', manifest: parsed as unknown as ImageManifest };
}

/**
 * Serialises an image manifest. `mediaType` picks the format; the config and layer descriptors are
 * written as given.
 * @returns the bytes to push, their media type and digest
 */
export function createImageManifest(input: {
  config: ContentDescriptor;
  layers: readonly ContentDescriptor[];
  mediaType?: typeof MediaType.OCI_MANIFEST | typeof MediaType.DOCKER_MANIFEST;
  annotations?: Record<string, string>;
}): { bytes: Uint8Array; mediaType: string; digest: Digest } {
  const mediaType = input.mediaType ?? MediaType.OCI_MANIFEST;
  const manifest: ImageManifest = { schemaVersion: 2, mediaType, config: input.config, layers: [...input.layers] };
  if (input.annotations !== undefined) manifest.annotations = input.annotations;
  const bytes = new TextEncoder().encode(JSON.stringify(manifest));
  return { bytes, mediaType, digest: digestOf(bytes) };
}

/** `config.Labels` of an image config blob (`{}` when there are none). */
export function readImageConfigLabels(config: Uint8Array): Record<string, string> {
  const parsed = parseObject(config, 'image config');
  const inner = parsed.config;
  if (inner === undefined || inner === null) return {};
  if (typeof inner !== 'object') throw malformed('image config', '"config" must be an object');
  const labels = (inner as { Labels?: unknown }).Labels;
  if (labels === undefined || labels === null) return {};
  if (typeof labels !== 'object' || Array.isArray(labels)) throw malformed('image config', '"config.Labels" must be an object');
  const result: Record<string, string> = {};
  for (const [key, value] of Object.entries(labels)) if (typeof value === 'string') result[key] = value;
  return result;
}

/**
 * A copy of an image config blob with labels set (a `undefined` value removes the label); every
 * other field is kept. The result has a new digest.
 */
export function withImageConfigLabels(config: Uint8Array, labels: Readonly<Record<string, string | undefined>>): Uint8Array {
  const parsed = parseObject(config, 'image config');
  const inner = typeof parsed.config === 'object' && parsed.config !== null ? { ...(parsed.config as Record<string, unknown>) } : {};
  const current = typeof inner.Labels === 'object' && inner.Labels !== null ? { ...(inner.Labels as Record<string, string>) } : {};
  for (const [key, value] of Object.entries(labels)) {
    if (value === undefined) delete current[key];
    else current[key] = value;
  }
  inner.Labels = current;
  return new TextEncoder().encode(JSON.stringify({ ...parsed, config: inner }));
}

/**
 * The labels of an image in a registry, or `undefined` when the manifest does not exist. Reads the
 * manifest and its config blob (two requests). Indexes are not resolved to a platform:
 * `REGISTRY_PROTOCOL` is thrown for them.
 */
export async function findImageLabels(
  client: Pick<RegistryClient, 'findManifest' | 'getBlob'>,
  reference: ImageReference,
  options: CallOptions = {},
): Promise<Record<string, string> | undefined> {
  const manifest = await client.findManifest(reference, options);
  if (manifest === undefined) return undefined;
  const parsed = parseManifest(manifest);
  if (parsed.kind === 'index') {
    throw new RegistryError('REGISTRY_PROTOCOL', `${reference.toString()} is a multi-platform index; labels are per platform`, {
      hint: 'Reference a single-platform manifest by digest.',
      data: { reference: reference.toString() },
    });
  }
  const config = await client.getBlob(reference.repository, parsed.manifest.config.digest, options);
  return readImageConfigLabels(config);
}

function isDescriptor(value: unknown): value is ContentDescriptor {
  if (typeof value !== 'object' || value === null) return false;
  const d = value as Record<string, unknown>;
  return typeof d.mediaType === 'string' && typeof d.digest === 'string' && isDigest(d.digest) && typeof d.size === 'number' && Number.isInteger(d.size) && d.size >= 0;
}

function parseObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw malformed(what, 'not JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw malformed(what, 'not a JSON object');
  return parsed as Record<string, unknown>;
}

function malformed(what: string, reason: string): RegistryError {
  return new RegistryError('REGISTRY_PROTOCOL', `malformed ${what}: ${reason}`, { hint: 'The content is not a valid Docker/OCI image document.', data: { what } });
}

export interface CopyImageOptions extends CallOptions {
  /**
   * Blobs copied at once.
   * @default 3
   */
  concurrency?: number;
}

/**
 * Copies an image (or an index with every manifest it lists) to another reference, keeping its
 * digest: blobs are mounted within a registry or streamed across registries, then the manifest is
 * pushed. Idempotent; when the target repository already holds the manifest only the tag is written.
 * Throws `REGISTRY_MANIFEST_UNKNOWN` when the source does not exist.
 */
export async function copyImage(
  client: Pick<RegistryClient, 'getManifest' | 'headManifest' | 'putManifest' | 'copyBlob'>,
  from: ImageReference,
  to: ImageReference,
  options: CopyImageOptions = {},
): Promise<{ digest: Digest; mediaType: string }> {
  const { signal } = options;
  const manifest = await client.getManifest(from, { signal });
  const target = to.repository;
  const present = await client.headManifest(target.at(manifest.digest), { signal });
  if (present === undefined) {
    const parsed = parseManifest(manifest);
    if (parsed.kind === 'index') {
      for (const child of parsed.index.manifests) {
        signal?.throwIfAborted();
        await copyImage(client, from.repository.at(child.digest), target.at(child.digest), options);
      }
    } else {
      const blobs = [parsed.manifest.config, ...parsed.manifest.layers].map((d) => d.digest);
      const queue = [...new Set(blobs)];
      const worker = async () => {
        for (let digest = queue.shift(); digest !== undefined; digest = queue.shift()) {
          signal?.throwIfAborted();
          await client.copyBlob(target, digest, { from: from.repository, ...(signal === undefined ? {} : { signal }) });
        }
      };
      await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 3) }, worker));
    }
  }
  if (to.digest !== undefined) assertDigest(to.digest, manifest.digest, `copy of ${from.toString()} to ${to.toString()}`, { reference: to.toString() });
  if (to.tag !== undefined) await client.putManifest(target.at(to.tag), manifest, { signal });
  else if (present === undefined) await client.putManifest(target.at(manifest.digest), manifest, { signal });
  return { digest: manifest.digest, mediaType: manifest.mediaType };
}
