/**
 * Claims and protected header of a token to sign, validated before anything is sent to the
 * vault. Caller mistakes are TypeError / RangeError naming the argument.
 *
 * - The payload is a plain JSON object; `iat` is always set by us (now); `exp` always present
 *   (`exp - iat` ≤ maxTokenLifetime, so retired keys can leave the JWKS on schedule); numeric
 *   dates are integers (RFC 7519 §2 NumericDate).
 * - A registered claim may come from `claims` or from its option, not both.
 * - `alg`, `typ`, `kid` are ours. Header parameters that change how a verifier finds the key or
 *   reads the payload (`crit`, `b64`, `jku`, `jwk`, `x5u`, `x5c`, `x5t`, `x5t#S256`, `cty`, JWE
 *   parameters) are refused (RFC 8725 §3.10, RFC 7797). Other extra parameters are allowed.
 *
 * @module
 */
import { assertPlainJson, type Duration, durationSeconds, isPlainObject, positiveDurationSeconds } from '../internal/values.js';

/** Options of `JwtSigner.sign`. */
export interface SignOptions {
  /** Lifetime: seconds or `"15m"`-style (default and maximum: the signer's `maxTokenLifetime`). */
  expiresIn?: Duration;
  /** `nbf` = now + this (seconds or `"5m"`-style). */
  notBefore?: Duration;
  /** `aud`. */
  audience?: string | readonly string[];
  /** `iss`. */
  issuer?: string;
  /** `sub`. */
  subject?: string;
  /** `jti`. */
  jwtId?: string;
  /** Extra protected-header parameters (never `alg`, `typ`, `kid`, `crit`, `b64`, `jku`, `jwk`, `x5*`). */
  header?: Record<string, unknown>;
  /** Stops waiting (the vault request is aborted when it is still in flight). */
  signal?: AbortSignal;
}

/** Header parameters the caller may not set. */
const RESERVED_HEADER = new Set([
  'alg', 'typ', 'kid', 'crit', 'b64', 'jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'cty',
  'enc', 'zip', 'epk', 'apu', 'apv', 'iv', 'tag', 'p2s', 'p2c',
]);
const OURS = new Set(['alg', 'typ', 'kid']);
const MAX_STRING_CLAIM = 8192;

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') throw new TypeError(`${name} must be a non-empty string`);
  if (value.length > MAX_STRING_CLAIM) throw new RangeError(`${name} must be at most ${MAX_STRING_CLAIM} characters`);
  return value;
}

function optionalAudience(value: unknown, name: string): string | string[] | undefined {
  if (value === undefined || typeof value === 'string') return optionalString(value, name);
  if (!Array.isArray(value) || value.length === 0) throw new TypeError(`${name} must be a string or a non-empty array of strings`);
  return value.map((v, i) => optionalString(v, `${name}[${i}]`) as string);
}

function numericDate(value: unknown, name: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new TypeError(`${name} must be a NumericDate: whole seconds since the epoch, got ${JSON.stringify(value)}`);
  }
  return value;
}

/** Takes a registered claim from `claims` or from its option; both is an error. */
function pick<T>(claims: Record<string, unknown>, claim: string, option: T | undefined, optionName: string): unknown {
  const inClaims = Object.hasOwn(claims, claim);
  if (inClaims && option !== undefined) throw new TypeError(`claims.${claim} and options.${optionName} both set it: set one`);
  return inClaims ? claims[claim] : option;
}

/**
 * The payload to sign at `nowSeconds`.
 * @throws {TypeError} for a payload that is not a plain JSON object, a claim of the wrong type, `iat` given, or a claim set twice.
 * @throws {RangeError} for lifetimes ≤ 0 or above `maxLifetime`, `nbf` not before `exp`.
 */
export function buildPayload(claims: unknown, options: SignOptions, nowSeconds: number, maxLifetime: number): Record<string, unknown> {
  if (!isPlainObject(claims)) throw new TypeError('claims must be a plain JSON object');
  assertPlainJson(claims, 'claims');
  if (Object.hasOwn(claims, 'iat')) throw new TypeError('claims.iat is set by the signer (now); remove it');
  const iss = optionalString(pick(claims, 'iss', options.issuer, 'issuer'), 'issuer');
  const sub = optionalString(pick(claims, 'sub', options.subject, 'subject'), 'subject');
  const jti = optionalString(pick(claims, 'jti', options.jwtId, 'jwtId'), 'jwtId');
  const aud = optionalAudience(pick(claims, 'aud', options.audience, 'audience'), 'audience');
  const iat = nowSeconds;
  let exp: number;
  if (Object.hasOwn(claims, 'exp')) {
    if (options.expiresIn !== undefined) throw new TypeError('claims.exp and options.expiresIn both set it: set one');
    exp = numericDate(claims.exp, 'claims.exp');
    if (exp <= iat) throw new RangeError(`claims.exp must be after now (${iat}), got ${exp}`);
  } else {
    exp = iat + (options.expiresIn === undefined ? maxLifetime : positiveDurationSeconds(options.expiresIn, 'options.expiresIn'));
  }
  if (exp - iat > maxLifetime) {
    throw new RangeError(`the token lifetime (${exp - iat} s) must be at most maxTokenLifetime (${maxLifetime} s)`);
  }
  let nbf: number | undefined;
  if (Object.hasOwn(claims, 'nbf')) {
    if (options.notBefore !== undefined) throw new TypeError('claims.nbf and options.notBefore both set it: set one');
    nbf = numericDate(claims.nbf, 'claims.nbf');
  } else if (options.notBefore !== undefined) {
    nbf = iat + durationSeconds(options.notBefore, 'options.notBefore');
  }
  if (nbf !== undefined && nbf >= exp) throw new RangeError(`nbf (${nbf}) must be before exp (${exp})`);
  const registered: Record<string, unknown> = { iss, sub, aud, jti, iat, nbf, exp };
  const payload: Record<string, unknown> = { ...claims };
  for (const [k, v] of Object.entries(registered)) if (v !== undefined) payload[k] = v;
  return payload;
}

/**
 * The caller's extra header parameters, checked.
 * @throws {TypeError} for a non-object, a reserved or dangerous parameter, or a non-JSON value.
 */
export function extraHeader(header: unknown): Record<string, unknown> {
  if (header === undefined) return {};
  if (!isPlainObject(header)) throw new TypeError('options.header must be a plain object');
  for (const name of Object.keys(header)) {
    if (!RESERVED_HEADER.has(name)) continue;
    const why = OURS.has(name) ? 'the signer sets it' : 'it changes how verifiers find the key or read the payload';
    throw new TypeError(`options.header.${name} may not be set: ${why}`);
  }
  assertPlainJson(header, 'options.header');
  return header;
}
