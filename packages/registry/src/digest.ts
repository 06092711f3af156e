import { createHash, type Hash } from 'node:crypto';
import { RegistryError } from './errors.js';

declare const digestBrand: unique symbol;

/**
 * A content digest, `sha256:` followed by 64 lowercase hex digits. Parsed once at the boundary
 * with {@link parseDigest}; other algorithms are rejected rather than trusted unverified.
 */
export type Digest = string & { readonly [digestBrand]: true };

const DIGEST = /^sha256:[a-f0-9]{64}$/;

/** True when `text` is a digest this package can verify. */
export function isDigest(text: string): text is Digest {
  return DIGEST.test(text);
}

/** Parses a digest; throws `REGISTRY_INVALID_DIGEST` for anything else. */
export function parseDigest(text: string): Digest {
  if (isDigest(text)) return text;
  throw new RegistryError('REGISTRY_INVALID_DIGEST', `not a sha256 digest: ${JSON.stringify(text.slice(0, 100))}`, {
    hint: 'Digests look like sha256:<64 lowercase hex digits>; other algorithms are not supported.',
    data: { digest: text.slice(0, 100) },
  });
}

/** The sha256 digest of `bytes`. */
export function digestOf(bytes: Uint8Array): Digest {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;
}

/** An incremental digest, for content that arrives in pieces. */
export class DigestHasher {
  readonly #hash: Hash = createHash('sha256');
  #size = 0;

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.byteLength;
  }

  get size(): number {
    return this.#size;
  }

  /** Finishes the hash; the hasher cannot be used afterwards. */
  digest(): Digest {
    return `sha256:${this.#hash.digest('hex')}` as Digest;
  }
}

/** Throws `REGISTRY_DIGEST_MISMATCH` unless `actual` equals `expected`. */
export function assertDigest(expected: Digest, actual: Digest, what: string, data: Record<string, unknown> = {}): void {
  if (expected === actual) return;
  throw new RegistryError('REGISTRY_DIGEST_MISMATCH', `${what}: expected ${expected}, content hashes to ${actual}`, {
    hint: 'The registry or something between it and Strata returned corrupted or different content.',
    data: { ...data, digest: expected, actualDigest: actual },
  });
}
