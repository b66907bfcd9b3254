/**
 * Who sent a request: the `Authorization` header checked under the vault's auth mode.
 *
 * - `strict`: a JWT this vault signed (./tokens.ts), for this vault's resource and tenant.
 * - `any-bearer`: any well-formed bearer token, as lowkey-vault accepts any Authorization
 *   header (`CommonAuthHeaderFilter`), so that other languages' SDKs and tools can bring their
 *   own credentials. Well-formed = RFC 6750's `b64token` syntax, up to 8 KiB: opaque tokens
 *   pass, like a JWT. The principal is the JWT's `oid`, else its `sub`, else
 *   {@link ANY_BEARER_PRINCIPAL}. Signature, audience and lifetime are not checked.
 *
 * @module
 */
import type { VaultAuthMode } from '../options.js';
import { issuerFor, parsePayload, verifyToken } from './tokens.js';

/** The principal of an any-bearer token that names none (opaque, or a JWT without oid/sub). */
export const ANY_BEARER_PRINCIPAL = 'any-bearer';

/** The service's message for a request without a token. */
export const MISSING_TOKEN = 'AKV10000: Request is missing a Bearer or PoP token.';

const BEARER = /^Bearer\s+(\S+)\s*$/i;
// RFC 6750 §2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN_LENGTH = 8192;

/** The outcome of authenticating a request. */
export type Authentication = { ok: true; principal: string } | { ok: false; reason: string };

/** What checking a token needs from the vault. */
export interface BearerPolicy {
  mode: VaultAuthMode;
  tokenKey: Buffer;
  tenantId: string;
  /** The resource tokens must be for (Key Vault or Managed HSM). */
  resource: string;
}

function namedPrincipal(token: string): string {
  const parts = token.split('.');
  if (parts.length !== 3) return ANY_BEARER_PRINCIPAL;
  const claims = parsePayload(parts[1] ?? '');
  for (const claim of ['oid', 'sub'] as const) {
    const value = claims?.[claim];
    if (typeof value === 'string' && value !== '') return value;
  }
  return ANY_BEARER_PRINCIPAL;
}

/**
 * Authenticates an `Authorization` header value. `strict` forces the strict check whatever
 * the policy's mode (the admin endpoints accept only the vault's own tokens).
 */
export function authenticate(authorization: string, policy: BearerPolicy, options: { strict?: boolean } = {}): Authentication {
  const token = BEARER.exec(authorization)?.[1];
  if (!token) return { ok: false, reason: MISSING_TOKEN };
  if (policy.mode === 'any-bearer' && !options.strict) {
    if (token.length > MAX_TOKEN_LENGTH || !B64TOKEN.test(token)) return { ok: false, reason: 'The bearer token is malformed.' };
    return { ok: true, principal: namedPrincipal(token) };
  }
  const check = verifyToken(policy.tokenKey, token, {
    issuer: issuerFor(policy.tenantId),
    // Real time: the SDK caches tokens against Date.now(), whatever the vault's clock says.
    nowSeconds: Math.floor(Date.now() / 1000),
    resource: policy.resource,
  });
  return check.ok ? { ok: true, principal: check.claims.oid } : check;
}
