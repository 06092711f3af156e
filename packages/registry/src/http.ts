/** Pure helpers for the HTTP details of the distribution protocol. */

/** One challenge from a `WWW-Authenticate` header. Scheme is lowercased; parameter names too. */
export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/**
 * Parses a `WWW-Authenticate` header (RFC 7235): one or more challenges, each a scheme followed by
 * comma-separated `name=value` or `name="quoted, value"` parameters.
 */
export function parseAuthChallenges(header: string): AuthChallenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const n = header.length;
  const skip = (chars: string) => {
    while (i < n && chars.includes(header[i] as string)) i++;
  };
  const token = () => {
    const start = i;
    while (i < n && !' \t,="'.includes(header[i] as string)) i++;
    return header.slice(start, i);
  };
  while (i < n) {
    skip(' \t,');
    const word = token();
    if (word === '') {
      i++;
      continue;
    }
    skip(' \t');
    if (header[i] === '=' && challenges.length > 0) {
      i++;
      skip(' \t');
      let value: string;
      if (header[i] === '"') {
        i++;
        value = '';
        while (i < n && header[i] !== '"') {
          if (header[i] === '\\' && i + 1 < n) i++;
          value += header[i];
          i++;
        }
        i++;
      } else {
        value = token();
      }
      (challenges.at(-1) as { params: Record<string, string> }).params[word.toLowerCase()] = value;
    } else {
      challenges.push({ scheme: word.toLowerCase(), params: {} });
    }
  }
  return challenges;
}

/** The target of `Link: <url>; rel="next"`, resolved against `base`; `undefined` when absent. */
export function parseNextLink(header: string | null, base: string | URL): URL | undefined {
  if (header === null) return undefined;
  for (const part of header.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>(.*)$/.exec(part);
    if (match === null) continue;
    const rels = /;\s*rel\s*=\s*"?([^";]*)"?/i.exec(match[2] ?? '')?.[1]?.toLowerCase().split(/\s+/) ?? [];
    if (rels.includes('next')) {
      try {
        return new URL(match[1] ?? '', base);
      } catch {
        return undefined;
      }
    }
  }
  return undefined;
}

/**
 * Milliseconds to wait according to a `Retry-After` header (delta-seconds or an HTTP date),
 * `undefined` when absent or unparsable. Never negative.
 */
export function parseRetryAfter(header: string | null, nowMs: number): number | undefined {
  if (header === null) return undefined;
  const trimmed = header.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed) * 1000;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - nowMs);
}

/** Registry error codes (`MANIFEST_UNKNOWN`, …) from a distribution JSON error body. */
export function parseRegistryErrorCodes(body: string): string[] {
  try {
    const parsed = JSON.parse(body) as { errors?: { code?: unknown }[] };
    if (!Array.isArray(parsed.errors)) return [];
    return parsed.errors.map((e) => e.code).filter((c): c is string => typeof c === 'string');
  } catch {
    return [];
  }
}

/** True for statuses worth retrying: 408, 429 and every 5xx except 501/505. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || (status >= 500 && status !== 501 && status !== 505);
}
