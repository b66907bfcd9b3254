/**
 * The checks of an untrusted token that need no key: parsing of the compact JWS (RFC 7515
 * §7.1) and its protected header, before any key is looked up; and, once the signature has
 * verified, the payload and its claims (RFC 7519 §4.1): `exp` (required), `nbf`, and `iat` when
 * `maxTokenAge` is set, against the clock with `clockTolerance`, then `iss` and `aud`. Every
 * failure is a typed {@link JwtError}; nothing else is thrown.
 *
 * Clocks of different machines disagree. "Not yet" checks (`nbf`, a future `iat`) compare with
 * the current time rounded UP to a whole second: issuers write NumericDates in whole seconds
 * (`floor(now)`), so an issuer whose clock runs a few hundred ms ahead would otherwise see a
 * share of its fresh tokens refused (300 ms ahead: ~30 %). A future `iat` alone is not a reason
 * to refuse a token (RFC 7519 §4.1.6 gives it no rule; jose and jsonwebtoken ignore it): it only
 * matters with `maxTokenAge`, where it would stretch the age window.
 *
 * The payload is only decoded after the signature verified (see verifier.ts): untrusted bytes
 * are parsed as little as possible.
 *
 * @module
 * @internal
 */
import {
  JwtAlgorithmNotAllowedError, JwtClaimInvalidError, JwtExpiredError, JwtInvalidError, JwtNotYetValidError,
} from '../errors.js';
import { type AlgorithmSpec, algorithmSpec, type JwsAlgorithm } from '../internal/algorithms.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { decodeJsonObject } from '../internal/strict-json.js';
import { decodeB64url, isB64urlShape } from '../internal/values.js';

/** Default bound on a token's length (characters). Larger tokens are refused before parsing. */
export const DEFAULT_MAX_TOKEN_LENGTH = 16 * 1024;
/** Bound on the `kid` (our kids are 32 characters). */
const MAX_KID_LENGTH = 256;
/**
 * Header parameters we refuse. `crit`: we understand no extensions (RFC 7515 §4.1.11 says to
 * reject). `b64`: JWTs never use unencoded payloads (RFC 7797 §7). `jku`/`jwk`/`x5u`: the key is
 * found by `kid` in the configured key set only, never where the token points (RFC 8725 §3.10);
 * a token that tries is refused rather than half-trusted.
 */
const REFUSED_HEADER = ['crit', 'b64', 'jku', 'jwk', 'x5u'] as const;

/** A parsed token whose header passed the checks. */
export interface ParsedToken {
  readonly header: Record<string, unknown>;
  readonly alg: AlgorithmSpec;
  /** Undefined only when the verifier allows tokens without a kid. */
  readonly kid: string | undefined;
  readonly signingInput: string;
  readonly payloadSegment: string;
  readonly signature: Buffer;
}

/**
 * Splits, decodes and checks `token`.
 * @throws {JwtInvalidError} for anything malformed or a refused header parameter.
 * @throws {JwtAlgorithmNotAllowedError} for `alg: none` or an algorithm not in `algorithms`.
 */
export function parseToken(token: unknown, algorithms: ReadonlySet<JwsAlgorithm>, maxLength: number, allowMissingKid = false): ParsedToken {
  if (typeof token !== 'string') throw new JwtInvalidError(`a token must be a string, got ${token === null ? 'null' : typeof token}`);
  if (token.length > maxLength) throw new JwtInvalidError(`the token is longer than ${maxLength} characters`);
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw new JwtInvalidError('a compact JWS has exactly three base64url segments separated by dots');
  }
  const headerSegment = token.slice(0, first);
  const payloadSegment = token.slice(first + 1, second);
  const header = decodeJsonObject(headerSegment, 'the protected header');
  const signature = decodeB64url(token.slice(second + 1));
  if (signature === undefined || signature.length === 0) throw new JwtInvalidError('the signature is not valid base64url');
  // The alphabet only: the payload is decoded (strictly) once, after the signature verified.
  if (!isB64urlShape(payloadSegment)) throw new JwtInvalidError('the payload is not valid base64url');
  const algName = header.alg;
  if (typeof algName !== 'string') throw new JwtInvalidError('the header has no alg');
  if (algName.toLowerCase() === 'none') throw new JwtAlgorithmNotAllowedError('alg "none" is never accepted');
  const alg = algorithmSpec(algName);
  if (alg === undefined || !algorithms.has(alg.alg)) {
    throw new JwtAlgorithmNotAllowedError(`alg "${escapeUntrusted(algName, 32)}" is not allowed (allowed: ${[...algorithms].join(', ')})`);
  }
  for (const name of REFUSED_HEADER) {
    if (Object.hasOwn(header, name)) throw new JwtInvalidError(`the header parameter "${name}" is not accepted`);
  }
  const kid = header.kid;
  const absent = kid === undefined && allowMissingKid;
  if (!absent && (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH)) {
    throw new JwtInvalidError(`the header must have a kid (a non-empty string of at most ${MAX_KID_LENGTH} characters)`);
  }
  if (Object.hasOwn(header, 'typ') && typeof header.typ !== 'string') throw new JwtInvalidError('the header typ must be a string');
  return { header, alg, kid: kid as string | undefined, signingInput: token.slice(0, second), payloadSegment, signature };
}

/**
 * Decodes the (already authenticated) payload.
 * @throws {JwtInvalidError} when it is not a base64url-encoded JSON object, or repeats a member name.
 */
export function decodePayload(segment: string): Record<string, unknown> {
  return decodeJsonObject(segment, 'the payload');
}

/** What the claims are checked against. */
export interface ClaimRules {
  readonly issuers: readonly string[] | undefined;
  readonly audiences: readonly string[] | undefined;
  readonly toleranceSeconds: number;
  /** `maxTokenAge`, seconds: `iat` is then required and `now - iat` may not exceed it. */
  readonly maxAgeSeconds: number | undefined;
}

function numericDate(payload: Record<string, unknown>, claim: 'exp' | 'nbf' | 'iat'): number | undefined {
  if (!Object.hasOwn(payload, claim)) return undefined;
  const value = payload[claim];
  // RFC 7519 §2: a NumericDate is a JSON number (fractions allowed); anything else is malformed.
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new JwtInvalidError(`the "${claim}" claim must be a number`);
  return value;
}

/**
 * Checks `payload` at `nowMs`.
 * @throws {JwtInvalidError} for a date claim that is not a number, or `iss`/`aud` of the wrong type.
 * @throws {JwtExpiredError} when now ≥ exp + tolerance, or (maxTokenAge) now - iat > maxTokenAge + tolerance.
 * @throws {JwtNotYetValidError} when nbf (or, with maxTokenAge, iat) > now (rounded up to the second) + tolerance.
 * @throws {JwtClaimInvalidError} when `exp` (or, with maxTokenAge, `iat`) is missing or `iss`/`aud` do not match.
 */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, nowMs: number): void {
  const now = nowMs / 1000;
  // NumericDates are written in whole seconds: "not yet" compares with the current second's end.
  const notYet = Math.ceil(now) + rules.toleranceSeconds;
  const tolerance = rules.toleranceSeconds;
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  if (exp === undefined) throw new JwtClaimInvalidError('the token has no "exp" claim');
  if (now - tolerance >= exp) throw new JwtExpiredError(`the token expired at ${exp}`);
  if (nbf !== undefined && nbf > notYet) throw new JwtNotYetValidError(`the token is not valid before ${nbf}`);
  if (rules.maxAgeSeconds !== undefined) {
    if (iat === undefined) throw new JwtClaimInvalidError('the token has no "iat" claim (maxTokenAge needs it)');
    // A future iat would stretch the window to iat + maxTokenAge: refused beyond the tolerance.
    if (iat > notYet) throw new JwtNotYetValidError(`the token was issued in the future (${iat})`);
    if (now - iat > rules.maxAgeSeconds + tolerance) throw new JwtExpiredError(`the token is older than maxTokenAge (${rules.maxAgeSeconds} s; iat ${iat})`);
  }
  if (rules.issuers !== undefined) {
    const iss = payload.iss;
    if (Object.hasOwn(payload, 'iss') && typeof iss !== 'string') throw new JwtInvalidError('the "iss" claim must be a string');
    if (typeof iss !== 'string' || !rules.issuers.includes(iss)) throw new JwtClaimInvalidError('unexpected "iss" claim value');
  }
  if (rules.audiences !== undefined) {
    const aud = payload.aud;
    const list = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
    if (Object.hasOwn(payload, 'aud') && (list === undefined || list.some((a) => typeof a !== 'string'))) {
      throw new JwtInvalidError('the "aud" claim must be a string or an array of strings');
    }
    if (list === undefined || !list.some((a) => rules.audiences!.includes(a as string))) {
      throw new JwtClaimInvalidError('unexpected "aud" claim value');
    }
  }
}
