import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestOf, isDigest, isLoopbackHost, parseDigest, parseImageReference, parseRepository, RegistryError } from '@strata/registry';

const DIGEST = `sha256:${'a'.repeat(64)}`;

describe('parseRepository', () => {
  it.each([
    ['alpine', 'docker.io', 'library/alpine'],
    ['library/alpine', 'docker.io', 'library/alpine'],
    ['user/app', 'docker.io', 'user/app'],
    ['docker.io/alpine', 'docker.io', 'library/alpine'],
    ['index.docker.io/user/app', 'docker.io', 'user/app'],
    ['localhost/app', 'localhost', 'app'],
    ['localhost:5000/ns/app', 'localhost:5000', 'ns/app'],
    ['127.0.0.1:5000/ns/name', '127.0.0.1:5000', 'ns/name'],
    ['[::1]:5000/ns/name', '[::1]:5000', 'ns/name'],
    ['registry.example.io/modules-source/module-1/release', 'registry.example.io', 'modules-source/module-1/release'],
    ['Registry/app', 'Registry', 'app'],
    ['ghcr.io/a__b/c-d.e_f', 'ghcr.io', 'a__b/c-d.e_f'],
  ])('%s → %s / %s', (input, registry, repoPath) => {
    const repository = parseRepository(input);
    expect(repository.registry).toBe(registry);
    expect(repository.path).toBe(repoPath);
    expect(repository.toString()).toBe(`${registry}/${repoPath}`);
  });

  it.each(['', 'UPPER', 'ns/UPPER', 'a//b', 'a/-b', 'a/b-', 'a/b..c', 'host:5000/', '/abc', 'a/b_-c'])('rejects %j', (input) => {
    expect(() => parseRepository(input)).toThrow(RegistryError);
    try {
      parseRepository(input);
    } catch (error) {
      expect((error as RegistryError).code).toBe('REGISTRY_INVALID_REFERENCE');
    }
  });

  it('rejects names longer than 255 characters', () => {
    expect(() => parseRepository(`127.0.0.1:5000/${'a'.repeat(256)}`)).toThrow(/longer than 255/);
  });
});

describe('parseImageReference', () => {
  it('defaults the tag to latest', () => {
    const ref = parseImageReference('alpine');
    expect(ref.tag).toBe('latest');
    expect(ref.reference).toBe('latest');
    expect(ref.toString()).toBe('docker.io/library/alpine:latest');
  });

  it('parses tags, digests and ports', () => {
    const tagged = parseImageReference('127.0.0.1:5000/ns/name:d4bf3e71-1589714365467');
    expect(tagged.repository.registry).toBe('127.0.0.1:5000');
    expect(tagged.tag).toBe('d4bf3e71-1589714365467');
    const pinned = parseImageReference(`localhost:5000/app@${DIGEST}`);
    expect(pinned.tag).toBeUndefined();
    expect(pinned.digest).toBe(DIGEST);
    expect(pinned.reference).toBe(DIGEST);
    const both = parseImageReference(`alpine:3.18@${DIGEST}`);
    expect(both.tag).toBe('3.18');
    expect(both.reference).toBe(DIGEST);
    expect(both.toString()).toBe(`docker.io/library/alpine:3.18@${DIGEST}`);
  });

  it('rejects bad tags and digests', () => {
    expect(() => parseImageReference('alpine:-bad')).toThrow(/invalid tag/);
    expect(() => parseImageReference(`alpine:${'t'.repeat(129)}`)).toThrow(/invalid tag/);
    expect(() => parseImageReference('alpine@sha256:abc')).toThrow(/invalid digest/);
    expect(() => parseImageReference(`alpine@sha512:${'a'.repeat(128)}`)).toThrow(RegistryError);
  });

  it('round-trips fully qualified references', () => {
    const component = fc.stringMatching(/^[a-z0-9]{1,8}(?:[._-][a-z0-9]{1,8})?$/);
    const tag = fc.stringMatching(/^[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}$/);
    const host = fc.constantFrom('127.0.0.1:5000', 'localhost:5055', 'registry.example.io', 'docker.io');
    fc.assert(
      fc.property(host, fc.array(component, { minLength: 2, maxLength: 4 }), tag, (h, parts, t) => {
        const text = `${h}/${parts.join('/')}:${t}`;
        const ref = parseImageReference(text);
        expect(ref.toString()).toBe(text);
        expect(parseImageReference(ref.toString()).toString()).toBe(text);
      }),
    );
  });

  it('Repository.at makes tag and digest references', () => {
    const repository = parseRepository('127.0.0.1:5000/ns/name');
    expect(repository.at('v1').toString()).toBe('127.0.0.1:5000/ns/name:v1');
    expect(repository.at(DIGEST).digest).toBe(DIGEST);
  });
});

describe('digests', () => {
  it('parses only sha256 with 64 lowercase hex', () => {
    expect(parseDigest(DIGEST)).toBe(DIGEST);
    expect(isDigest(DIGEST.toUpperCase())).toBe(false);
    expect(isDigest(`sha256:${'a'.repeat(63)}`)).toBe(false);
    expect(() => parseDigest('md5:abc')).toThrow(expect.objectContaining({ code: 'REGISTRY_INVALID_DIGEST' }) as Error);
  });

  it('hashes content', () => {
    expect(digestOf(new Uint8Array())).toBe('sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

describe('isLoopbackHost', () => {
  it.each([
    ['localhost', true],
    ['localhost:5000', true],
    ['registry.localhost', true],
    ['127.0.0.1', true],
    ['127.1.2.3:5000', true],
    ['[::1]:5000', true],
    ['::1', true],
    ['128.0.0.1', false],
    ['127.0.0.256', false],
    ['10.0.0.1:5000', false],
    ['registry.example.io', false],
    ['localhost.example.io', false],
  ])('%s → %s', (host, expected) => {
    expect(isLoopbackHost(host)).toBe(expected);
  });
});
