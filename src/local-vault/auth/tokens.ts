/**
 * Bearer tokens: JWTs (RFC 7519) signed by the vault with HMAC-SHA-256 under a key derived from
 * its secret, so that only this vault's `credential()` can mint tokens it accepts. Another local
 * process that can reach the HTTPS port cannot forge one. Also the TokenCredential that
 * `vault.credential(principal)` returns.
 *
 * @module
 */
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { createHmac, timingSafeEqual } from 'node:crypto';

/** The resource (audience) Key Vault tokens are issued for. */
export const VAULT_RESOURCE = 'https://vault.azure.net';

/** The resource (audience) Managed HSM tokens are issued for. */
export const MANAGED_HSM_RESOURCE = 'https://managedhsm.azure.net';

/** The claims the vault puts into (and requires from) a token. */
export interface TokenClaims {
  aud: string;
  iss: string;
  tid: string;
  oid: string;
  sub: string;
  iat: number;
  nbf: number;
  exp: number;
}

/** The outcome of checking a bearer token. */
export type TokenCheck = { ok: true; claims: TokenClaims } | { ok: false; reason: string };

const HEADER = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
const CLOCK_SKEW_S = 300;
const TOKEN_LIFETIME_S = 3600;

function mac(key: Buffer, signingInput: string): Buffer {
  return createHmac('sha256', key).update(signingInput).digest();
}

/**
 * The claims of a JWT payload segment, or `undefined` when it is not base64url JSON of an
 * object (`null`, a number, an array are all refused: claims are members of an object).
 */
export function parsePayload(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

/** Signs `claims` as a compact JWS (HS256). */
export function signToken(key: Buffer, claims: TokenClaims): string {
  const signingInput = `${HEADER}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${signingInput}.${mac(key, signingInput).toString('base64url')}`;
}

/**
 * Checks signature, header, audience, issuer and lifetime of `token` (times in Unix seconds of
 * the real clock: tokens are cached by the SDK against `Date.now()`).
 */
export function verifyToken(
  key: Buffer,
  token: string,
  expected: { issuer: string; nowSeconds: number; resource?: string },
): TokenCheck {
  const parts = token.split('.');
  if (parts.length !== 3) return { ok: false, reason: 'The bearer token is not a JWT.' };
  const [header = '', payload = '', signature = ''] = parts;
  const expectedMac = mac(key, `${header}.${payload}`);
  const actualMac = Buffer.from(signature, 'base64url');
  if (header !== HEADER || actualMac.length !== expectedMac.length || !timingSafeEqual(actualMac, expectedMac)) {
    return { ok: false, reason: 'The bearer token signature is invalid.' };
  }
  const parsed = parsePayload(payload);
  if (parsed === undefined) return { ok: false, reason: 'The bearer token payload is not a JSON object.' };
  const claims = parsed as unknown as TokenClaims;
  const resource = expected.resource ?? VAULT_RESOURCE;
  if (claims.aud !== resource && claims.aud !== `${resource}/`) {
    return { ok: false, reason: 'AKV10022: Invalid audience.' };
  }
  if (claims.iss !== expected.issuer) return { ok: false, reason: 'AKV10032: Invalid issuer.' };
  if (typeof claims.exp !== 'number' || claims.exp + CLOCK_SKEW_S <= expected.nowSeconds) {
    return { ok: false, reason: 'The bearer token has expired.' };
  }
  if (typeof claims.nbf !== 'number' || claims.nbf - CLOCK_SKEW_S > expected.nowSeconds) {
    return { ok: false, reason: 'The bearer token is not yet valid.' };
  }
  if (typeof claims.oid !== 'string' || claims.oid === '') return { ok: false, reason: 'The bearer token has no oid.' };
  return { ok: true, claims };
}


/** What a credential needs from its vault. */
export interface TokenIssuer {
  /** The HMAC key tokens are signed with. */
  readonly tokenKey: Buffer;
  /** The tenant the challenge names. */
  readonly tenantId: string;
}

/** The issuer claim for a tenant, as Entra ID v1 tokens carry it. */
export function issuerFor(tenantId: string): string {
  return `https://sts.windows.net/${tenantId}/`;
}

/**
 * A credential for `principal`. Tokens live one hour of real time; the SDK caches them and asks
 * again shortly before expiry.
 */
export function vaultCredential(issuer: TokenIssuer, principal: string): TokenCredential {
  return {
    async getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken> {
      if (options?.abortSignal?.aborted) throw Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' });
      const scope = (Array.isArray(scopes) ? scopes[0] : scopes) ?? '';
      const now = Math.floor(Date.now() / 1000);
      const claims: TokenClaims = {
        aud: scope.replace(/\/\.default$/, ''),
        iss: issuerFor(issuer.tenantId),
        tid: issuer.tenantId,
        oid: principal,
        sub: principal,
        iat: now,
        nbf: now,
        exp: now + TOKEN_LIFETIME_S,
      };
      return { token: signToken(issuer.tokenKey, claims), expiresOnTimestamp: claims.exp * 1000, tokenType: 'Bearer' };
    },
  };
}
