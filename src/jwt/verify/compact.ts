/**
 * Parsing of an untrusted compact JWS (RFC 7515 §7.1) and the protected-header checks that come
 * before any key is looked up. Every failure is a typed {@link JwtError}; nothing else is thrown.
 *
 * The payload is only decoded after the signature verified (see verifier.ts): untrusted bytes
 * are parsed as little as possible.
 *
 * @module
 * @internal
 */
import { JwtAlgorithmNotAllowedError, JwtInvalidError } from '../errors.js';
import { type AlgorithmSpec, algorithmSpec, type JwsAlgorithm } from '../internal/algorithms.js';
import { decodeB64url, decodeJsonObject } from '../internal/encoding.js';

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
  readonly kid: string;
  readonly signingInput: string;
  readonly payloadSegment: string;
  readonly signature: Buffer;
}

/**
 * Splits, decodes and checks `token`.
 * @throws {JwtInvalidError} for anything malformed or a refused header parameter.
 * @throws {JwtAlgorithmNotAllowedError} for `alg: none` or an algorithm not in `algorithms`.
 */
export function parseToken(token: unknown, algorithms: ReadonlySet<JwsAlgorithm>, maxLength: number): ParsedToken {
  if (typeof token !== 'string') throw new JwtInvalidError(`a token must be a string, got ${token === null ? 'null' : typeof token}`);
  if (token.length > maxLength) throw new JwtInvalidError(`the token is longer than ${maxLength} characters`);
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (first <= 0 || second < 0 || token.indexOf('.', second + 1) >= 0) {
    throw new JwtInvalidError('a compact JWS has exactly three base64url segments separated by dots');
  }
  const headerSegment = token.slice(0, first);
  const payloadSegment = token.slice(first + 1, second);
  const header = decodeJsonObject(headerSegment);
  if (header === undefined) throw new JwtInvalidError('the protected header is not base64url-encoded JSON object');
  const signature = decodeB64url(token.slice(second + 1));
  if (signature === undefined || signature.length === 0) throw new JwtInvalidError('the signature is not valid base64url');
  if (payloadSegment === '' || decodeB64url(payloadSegment) === undefined) throw new JwtInvalidError('the payload is not valid base64url');
  const algName = header.alg;
  if (typeof algName !== 'string') throw new JwtInvalidError('the header has no alg');
  if (algName.toLowerCase() === 'none') throw new JwtAlgorithmNotAllowedError('alg "none" is never accepted');
  const alg = algorithmSpec(algName);
  if (alg === undefined || !algorithms.has(alg.alg)) {
    throw new JwtAlgorithmNotAllowedError(`alg ${JSON.stringify(algName.slice(0, 32))} is not allowed (allowed: ${[...algorithms].join(', ')})`);
  }
  for (const name of REFUSED_HEADER) {
    if (Object.hasOwn(header, name)) throw new JwtInvalidError(`the header parameter "${name}" is not accepted`);
  }
  const kid = header.kid;
  if (typeof kid !== 'string' || kid === '' || kid.length > MAX_KID_LENGTH) {
    throw new JwtInvalidError('the header must have a kid (a non-empty string)');
  }
  if (Object.hasOwn(header, 'typ') && typeof header.typ !== 'string') throw new JwtInvalidError('the header typ must be a string');
  return { header, alg, kid, signingInput: token.slice(0, second), payloadSegment, signature };
}

/**
 * Decodes the (already authenticated) payload.
 * @throws {JwtInvalidError} when it is not a base64url-encoded JSON object.
 */
export function decodePayload(segment: string): Record<string, unknown> {
  const payload = decodeJsonObject(segment);
  if (payload === undefined) throw new JwtInvalidError('the payload is not a JSON object');
  return payload;
}
