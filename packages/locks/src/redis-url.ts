import { LockError } from './errors.js';

/** Where a Redis lock service is, parsed from `redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]`. */
export interface RedisLocation {
  readonly host: string;
  /** @default 6379 */
  readonly port: number;
  /** Logical database number. @default 0 */
  readonly db: number;
  readonly username: string | undefined;
  /** Never printed: {@link describeRedisLocation} leaves it out. */
  readonly password: string | undefined;
}

/** `redis://HOST:PORT/DB`, without credentials, for messages. */
export function describeRedisLocation(location: RedisLocation): string {
  const host = location.host.includes(':') ? `[${location.host}]` : location.host;
  return `redis://${host}:${location.port}/${location.db}`;
}

/**
 * Parses a `redis://` URL (the `--synchronization` value). Accepts an optional port (default 6379), an
 * optional database number as the path (default 0) and optional credentials. Throws `LOCK_INVALID_URL`,
 * whose message never contains the password.
 */
export function parseRedisUrl(text: string): RedisLocation {
  const shown = text.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@');
  const invalid = (why: string): LockError =>
    new LockError('LOCK_INVALID_URL', `invalid Redis address ${shown}: ${why}`, {
      hint: 'Use redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379/0, or :local for file locks on this host.',
      data: { url: shown },
    });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid('not a URL');
  }
  if (url.protocol !== 'redis:') throw invalid(`unsupported scheme ${url.protocol} (only redis:// is supported)`);
  if (url.hostname === '') throw invalid('no host');
  if (url.search !== '' || url.hash !== '') throw invalid('query strings and fragments are not supported');
  const port = url.port === '' ? 6379 : Number(url.port);
  const path = url.pathname.replace(/^\/+/, '').replace(/\/+$/, '');
  if (path !== '' && !/^\d+$/.test(path)) throw invalid(`database must be a number, got ${JSON.stringify(path)}`);
  const db = path === '' ? 0 : Number(path);
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  return {
    host,
    port,
    db,
    username: url.username === '' ? undefined : decodeURIComponent(url.username),
    password: url.password === '' ? undefined : decodeURIComponent(url.password),
  };
}
