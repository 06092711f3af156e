/**
 * werf's hashing primitives (SPEC §2.2, Appendix A).
 *
 * Every werf checksum is a hash of its arguments joined with the literal separator `:::`. Arguments are
 * strings (UTF-8) or raw bytes: patch text is hashed as the bytes git produced, never re-decoded.
 */
import { createHash, type Hash } from 'node:crypto';

/** One argument of a werf checksum: text (hashed as UTF-8) or raw bytes. */
export type HashArg = string | Uint8Array;

/** The literal werf puts between arguments. */
export const ARG_SEPARATOR = ':::';

/** SHA-256 of the empty string: what `H()` (no arguments) gives. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

function feedJoined(hash: Hash, args: readonly HashArg[]): Hash {
  args.forEach((arg, index) => {
    if (index > 0) hash.update(ARG_SEPARATOR);
    hash.update(arg);
  });
  return hash;
}

/**
 * werf's `util.Sha256Hash`: SHA-256 hex of the arguments joined with `:::`.
 * `hashArgs()` is the SHA-256 of the empty string; `hashArgs('a', '')` hashes `a:::`.
 */
export function hashArgs(...args: readonly HashArg[]): string {
  return feedJoined(createHash('sha256'), args).digest('hex');
}

/** werf's `util.Sha3_224Hash`: SHA3-224 hex (56 characters) of the arguments joined with `:::`. */
export function sha3HashArgs(...args: readonly HashArg[]): string {
  return feedJoined(createHash('sha3-224'), args).digest('hex');
}

/**
 * A SHA-256 fed with several chunks and no separator (werf's `sha256.New()` + `Write` loops, used for
 * the stageDependencies checksum and the git mapping parameters hash).
 */
export function sha256Concat(chunks: Iterable<HashArg>): string {
  const hash = createHash('sha256');
  for (const chunk of chunks) hash.update(chunk);
  return hash.digest('hex');
}
