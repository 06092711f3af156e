import { StrataError, type StrataErrorOptions } from '@strata/errors';

/** Failure families of the registry client; match on these, never on message text. */
export type RegistryErrorCode =
  /** The registry could not be reached (connection refused/reset, DNS, timeout) after all retries. */
  | 'REGISTRY_UNREACHABLE'
  /** The registry kept answering 429 or 5xx after all retries. */
  | 'REGISTRY_UNAVAILABLE'
  /** 401 after presenting the credentials we have (or having none). */
  | 'REGISTRY_UNAUTHORIZED'
  /** 403: authenticated, but not allowed. */
  | 'REGISTRY_DENIED'
  /** A 4xx the client cannot treat as an expected outcome (invalid manifest, tag, name…). */
  | 'REGISTRY_REJECTED'
  /** The registry does not support the operation (e.g. deletes disabled). */
  | 'REGISTRY_UNSUPPORTED'
  /** The registry answered something that violates the distribution spec. */
  | 'REGISTRY_PROTOCOL'
  /** Content did not hash to the digest it was requested or announced by. */
  | 'REGISTRY_DIGEST_MISMATCH'
  /** `get*` on a manifest that does not exist. */
  | 'REGISTRY_MANIFEST_UNKNOWN'
  /** `get*` on a blob that does not exist. */
  | 'REGISTRY_BLOB_UNKNOWN'
  /** A repository or image reference that does not parse. */
  | 'REGISTRY_INVALID_REFERENCE'
  /** A digest that does not parse (only `sha256:` + 64 lowercase hex is accepted). */
  | 'REGISTRY_INVALID_DIGEST'
  /** Plain HTTP to a host that is not allowed to be insecure. */
  | 'REGISTRY_INSECURE_REFUSED'
  /** Docker's config.json is unreadable or malformed. */
  | 'REGISTRY_CREDENTIALS_INVALID'
  /** The Docker credential helper for this registry is missing or failed. */
  | 'REGISTRY_CREDENTIAL_HELPER_FAILED'
  /** A stage tag of a `RegistryStageStore` holds an image that is not a stage of the project. */
  | 'REGISTRY_NOT_A_STAGE'
  /** A stage to publish is a local image, and the store was given no way to push local images. */
  | 'REGISTRY_INGEST_UNAVAILABLE';

/**
 * What a registry error is about. Never holds credentials, tokens or the Authorization header;
 * `url` is always passed through {@link redactUrl}.
 */
export interface RegistryErrorData {
  method?: string;
  url?: string;
  status?: number;
  /** Error codes from the registry's JSON body (`MANIFEST_INVALID`, `DENIED`, …). */
  registryCodes?: string[];
  repository?: string;
  reference?: string;
  digest?: string;
  registry?: string;
  attempts?: number;
  [key: string]: unknown;
}

export class RegistryError extends StrataError<RegistryErrorCode, RegistryErrorData> {
  constructor(code: RegistryErrorCode, message: string, options: StrataErrorOptions<RegistryErrorData> = {}) {
    super(code, message, options);
  }
}

const KEPT_QUERY = new Set(['digest', 'mount', 'from', 'n', 'last', 'service', 'scope']);

/**
 * A URL safe to show: no userinfo, and only well-known, non-secret query parameters (upload
 * locations carry opaque `_state` values and token realms may carry anything).
 */
export function redactUrl(url: string | URL): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '<unparsable url>';
  }
  parsed.username = '';
  parsed.password = '';
  for (const key of [...parsed.searchParams.keys()]) {
    if (!KEPT_QUERY.has(key)) parsed.searchParams.set(key, '***');
  }
  return parsed.toString();
}
