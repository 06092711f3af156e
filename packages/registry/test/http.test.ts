import { describe, expect, it } from 'vitest';
import { parseAuthChallenges, parseNextLink, parseRetryAfter, redactUrl } from '@strata/registry';

describe('parseAuthChallenges', () => {
  it('parses a bearer challenge with quoted, comma-containing values', () => {
    expect(parseAuthChallenges('Bearer realm="https://auth.example.io/token",service="registry.example.io",scope="repository:a/b:pull,push"')).toEqual([
      { scheme: 'bearer', params: { realm: 'https://auth.example.io/token', service: 'registry.example.io', scope: 'repository:a/b:pull,push' } },
    ]);
  });

  it('parses several challenges, unquoted values and escapes', () => {
    expect(parseAuthChallenges('Basic realm="a \\"b\\"", Bearer realm=https://t/token, error=insufficient_scope')).toEqual([
      { scheme: 'basic', params: { realm: 'a "b"' } },
      { scheme: 'bearer', params: { realm: 'https://t/token', error: 'insufficient_scope' } },
    ]);
  });

  it('returns nothing for an empty header', () => {
    expect(parseAuthChallenges('')).toEqual([]);
  });
});

describe('parseNextLink', () => {
  it('resolves a relative next link against the request URL', () => {
    const next = parseNextLink('</v2/ns/name/tags/list?n=10&last=b>; rel="next"', 'http://127.0.0.1:5000/v2/ns/name/tags/list');
    expect(next?.href).toBe('http://127.0.0.1:5000/v2/ns/name/tags/list?n=10&last=b');
  });

  it('picks rel=next among several links and ignores others', () => {
    expect(parseNextLink('<https://x/prev>; rel="prev", <https://x/next>; rel=next', 'https://x/')?.href).toBe('https://x/next');
    expect(parseNextLink('<https://x/prev>; rel="prev"', 'https://x/')).toBeUndefined();
    expect(parseNextLink(null, 'https://x/')).toBeUndefined();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('reads seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Wed, 31 Dec 2025 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('redactUrl', () => {
  it('drops userinfo and opaque query values but keeps protocol parameters', () => {
    const redacted = redactUrl('http://bob:secret@127.0.0.1:5000/v2/a/blobs/uploads/x?_state=SECRETSTATE&digest=sha256:abc&token=t0k');
    expect(redacted).not.toContain('secret');
    expect(redacted).not.toContain('SECRETSTATE');
    expect(redacted).not.toContain('t0k');
    expect(redacted).toContain('digest=sha256%3Aabc');
  });
});
