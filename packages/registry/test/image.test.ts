import { describe, expect, it } from 'vitest';
import { MediaType, createImageManifest, digestOf, parseManifest, readImageConfigLabels, withImageConfigLabels } from '@strata/registry';

const encode = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));

describe('image config labels', () => {
  it('reads labels and tolerates missing ones', () => {
    expect(readImageConfigLabels(encode({ config: { Labels: { a: '1', b: '2' } } }))).toEqual({ a: '1', b: '2' });
    expect(readImageConfigLabels(encode({ config: { Labels: null } }))).toEqual({});
    expect(readImageConfigLabels(encode({ architecture: 'amd64' }))).toEqual({});
    expect(() => readImageConfigLabels(new TextEncoder().encode('not json'))).toThrow(expect.objectContaining({ code: 'REGISTRY_PROTOCOL' }) as Error);
  });

  it('sets and removes labels and keeps every other field', () => {
    const original = encode({ architecture: 'amd64', os: 'linux', config: { Env: ['A=1'], Labels: { keep: 'k', drop: 'd' } }, rootfs: { type: 'layers', diff_ids: [] } });
    const updated = withImageConfigLabels(original, { added: 'x', drop: undefined });
    expect(readImageConfigLabels(updated)).toEqual({ keep: 'k', added: 'x' });
    const parsed = JSON.parse(new TextDecoder().decode(updated)) as Record<string, unknown>;
    expect(parsed).toMatchObject({ architecture: 'amd64', os: 'linux', config: { Env: ['A=1'] }, rootfs: { type: 'layers' } });
    expect(digestOf(updated)).not.toBe(digestOf(original));
    expect(readImageConfigLabels(withImageConfigLabels(encode({}), { only: 'one' }))).toEqual({ only: 'one' });
  });
});

describe('manifests', () => {
  const config = { mediaType: MediaType.OCI_CONFIG, digest: digestOf(encode({})), size: 2 };
  const layer = { mediaType: MediaType.OCI_LAYER, digest: digestOf(new Uint8Array([1])), size: 1 };

  it('creates and parses image manifests', () => {
    const manifest = createImageManifest({ config, layers: [layer] });
    expect(manifest.mediaType).toBe(MediaType.OCI_MANIFEST);
    expect(manifest.digest).toBe(digestOf(manifest.bytes));
    const parsed = parseManifest(manifest);
    expect(parsed.kind === 'image' && parsed.manifest.layers).toEqual([layer]);
  });

  it('parses indexes and rejects malformed documents', () => {
    const index = parseManifest({ bytes: encode({ schemaVersion: 2, manifests: [config] }), mediaType: MediaType.DOCKER_MANIFEST_LIST });
    expect(index.kind).toBe('index');
    expect(() => parseManifest({ bytes: encode({ schemaVersion: 2, config: { digest: 'x' }, layers: [] }), mediaType: MediaType.OCI_MANIFEST })).toThrow(/config must be a descriptor/);
    expect(() => parseManifest({ bytes: encode({ schemaVersion: 2, config, layers: 'no' }), mediaType: MediaType.OCI_MANIFEST })).toThrow(/layers/);
  });
});
