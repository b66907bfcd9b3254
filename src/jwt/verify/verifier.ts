/**
 * `createVerifier`: local verification of compact JWTs with node:crypto: no vault call per token.
 *
 * Order of checks: size and shape → header (JSON without repeated member names; `alg` allowed
 * and not `none`; no `crit`/`b64`/`jku`/`jwk`/`x5u`; a `kid`, unless `allowMissingKid` and the
 * key set holds one key) → key by `kid` → the key fits `alg` (the JWK's own `alg`, its kty/crv/
 * size: no algorithm confusion) → signature → payload JSON → `exp`/`nbf` (and `iat` with
 * `maxTokenAge`), `iss`, `aud`.
 *
 * @module
 */
import { JwtAlgorithmNotAllowedError, JwtKeyNotFoundError, JwtSignatureError } from '../errors.js';
import { escapeUntrusted } from '../../internal/escape.js';
import { ALGORITHM_NAMES, algorithmSpec, type JwsAlgorithm, keyMismatch } from '../internal/algorithms.js';
import { assertClock, type Duration, durationSeconds, positiveDurationSeconds } from '../internal/values.js';
import { type JwtSigner, signerClock } from '../sign/signer.js';
import { checkClaims, type ClaimRules, decodePayload, DEFAULT_MAX_TOKEN_LENGTH, parseToken } from './token.js';
import { KeySet } from './key-set.js';
import { verifyJwsSignature } from './signature.js';

/** Options of {@link createVerifier}: give exactly one of `jwks` and `signer`. */
export interface VerifierOptions {
  /** A JWK Set (e.g. `await signer.jwks()` or a fetched `jwks_uri`): fixed for this verifier's life. */
  jwks?: { keys: readonly unknown[] };
  /** Follow this signer's JWKS (refreshed as the signer rotates). */
  signer?: JwtSigner;
  /** The algorithms to accept (required; `none` is never accepted). */
  algorithms: readonly JwsAlgorithm[];
  /** Accepted `iss` value(s); when set, `iss` is required. */
  issuer?: string | readonly string[];
  /**
   * Accepted `aud` value(s): `aud` must contain one. REQUIRED: a verifier without it would take
   * a token minted for another service that trusts the same issuer (RFC 8725 §3.9). Pass
   * `false` to accept any audience on purpose (e.g. a gateway that checks it elsewhere).
   * (Optional in the type only so that a missing value reaches the TypeError that explains it.)
   */
  audience?: string | readonly string[] | false;
  /**
   * Leeway for `exp`, `nbf` (and `iat` with `maxTokenAge`) (default 0; 30–120 s is common).
   * "Not yet" checks also round the current time up to a whole second, so an issuer up to ~1 s
   * ahead is accepted without it.
   */
  clockTolerance?: Duration;
  /**
   * Refuse tokens older than this by `iat` (like jose's `maxTokenAge`): `iat` becomes required
   * and may not lie in the future beyond `clockTolerance`. Default: no cap (`exp` alone bounds a token).
   */
  maxTokenAge?: Duration;
  /**
   * Accept a token without `kid` when the key set holds exactly one key (RFC 7515's own examples
   * carry no `kid`). Default `false`: a token without `kid` is ERR_JWT_INVALID. With several keys
   * a kid-less token is ERR_JWT_KEY_NOT_FOUND (no trying each key in turn).
   */
  allowMissingKid?: boolean;
  /** Longer tokens are refused before parsing (default 16,384 characters). */
  maxTokenLength?: number;
  /** With `signer`: re-read the signer's JWKS when older than this (default `"30s"`). */
  cacheMaxAge?: Duration;
  /** With `signer`: at most one vault refresh per this window for unknown kids (default `"30s"`). */
  refreshCooldown?: Duration;
  /** Clock, ms since the epoch (default: the signer's clock, else `Date.now`). */
  now?: () => number;
}

/** The result of a successful verification. */
export interface VerifiedJwt {
  /** The claims. */
  payload: Record<string, unknown>;
  /** The protected header (`alg`, `kid`, `typ`, …). */
  protectedHeader: Record<string, unknown>;
}

/** Verifies tokens; made by {@link createVerifier}. */
export interface JwtVerifier {
  /**
   * Verifies `token` and returns its claims and header.
   * @throws {JwtError} with a stable `code`: ERR_JWT_INVALID, ERR_JWT_ALG_NOT_ALLOWED, ERR_JWT_KEY_NOT_FOUND,
   *   ERR_JWT_SIGNATURE, ERR_JWT_EXPIRED, ERR_JWT_NOT_YET_VALID, ERR_JWT_CLAIM_INVALID.
   * @throws {EnvelopeError} from the signer (e.g. ERR_KEK_UNAVAILABLE) when a signer-backed verifier has never loaded keys.
   */
  verify(token: string): Promise<VerifiedJwt>;
}

function audienceList(value: unknown): readonly string[] | undefined {
  if (value === false) return undefined;
  if (value === undefined) {
    throw new TypeError('options.audience is required: the audience(s) this verifier accepts, or false to accept any audience on purpose');
  }
  return stringList(value, 'options.audience');
}

function stringList(value: unknown, name: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((v) => typeof v !== 'string' || v === '')) {
    throw new TypeError(`${name} must be a non-empty string or a non-empty array of them`);
  }
  return [...list] as string[];
}

/**
 * Makes a verifier. ES256K is supported (node:crypto verifies secp256k1; jose v6 does not).
 * @throws {TypeError | RangeError} for invalid options (a missing `audience` included), a malformed `jwks` (or an RSA
 *   key with an even exponent or one below 65537), `none` or an unknown algorithm.
 * @example
 * ```ts
 * import { createVerifier } from 'kv-envelope/jwt';
 * const verifier = createVerifier({ signer, algorithms: ['ES256'], issuer: 'https://issuer.example', audience: 'api', clockTolerance: 60 });
 * const { payload } = await verifier.verify(token);
 * ```
 */
export function createVerifier(options: VerifierOptions): JwtVerifier {
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  if ((options.jwks === undefined) === (options.signer === undefined)) throw new TypeError('options needs exactly one of jwks and signer');
  // Duck-typed: an ESM and a CJS copy of this package have distinct JwtSigner classes.
  const candidate = options.signer as { jwks?: unknown; refresh?: unknown } | undefined;
  if (candidate !== undefined && (typeof candidate?.jwks !== 'function' || typeof candidate.refresh !== 'function')) {
    throw new TypeError('options.signer must be a JwtSigner');
  }
  if (!Array.isArray(options.algorithms) || options.algorithms.length === 0) {
    throw new TypeError(`options.algorithms must be a non-empty array of ${ALGORITHM_NAMES.join(', ')}`);
  }
  const algorithms = new Set<JwsAlgorithm>();
  for (const alg of options.algorithms) {
    const spec = algorithmSpec(alg);
    if (spec === undefined) throw new RangeError(`options.algorithms: ${JSON.stringify(alg)} is not supported (${ALGORITHM_NAMES.join(', ')})`);
    algorithms.add(spec.alg);
  }
  const rules: ClaimRules = {
    issuers: stringList(options.issuer, 'options.issuer'),
    audiences: audienceList(options.audience),
    toleranceSeconds: durationSeconds(options.clockTolerance ?? 0, 'options.clockTolerance'),
    maxAgeSeconds: options.maxTokenAge === undefined ? undefined : positiveDurationSeconds(options.maxTokenAge, 'options.maxTokenAge'),
  };
  const allowMissingKid = options.allowMissingKid ?? false;
  if (typeof allowMissingKid !== 'boolean') throw new TypeError('options.allowMissingKid must be a boolean');
  const maxLength = options.maxTokenLength ?? DEFAULT_MAX_TOKEN_LENGTH;
  if (!Number.isSafeInteger(maxLength) || maxLength < 16) throw new RangeError('options.maxTokenLength must be an integer ≥ 16');
  assertClock(options.now, 'options.now');
  const signer = options.signer;
  const now = options.now ?? (signer === undefined ? Date.now : signerClock(signer));
  const keys = signer === undefined
    ? KeySet.fixed(options.jwks)
    : KeySet.follow(signer, {
      maxAgeMs: positiveDurationSeconds(options.cacheMaxAge ?? '30s', 'options.cacheMaxAge') * 1000,
      cooldownMs: durationSeconds(options.refreshCooldown ?? '30s', 'options.refreshCooldown') * 1000,
      now,
    });

  return {
    async verify(token: string): Promise<VerifiedJwt> {
      const parsed = parseToken(token, algorithms, maxLength, allowMissingKid);
      const key = parsed.kid === undefined ? await keys.only() : await keys.get(parsed.kid);
      const kid = () => (parsed.kid === undefined ? '(none)' : `"${escapeUntrusted(parsed.kid, 64)}"`);
      if (key === undefined) {
        throw new JwtKeyNotFoundError(parsed.kid === undefined ? 'the token has no kid and the key set does not hold exactly one key' : `no published key has kid ${kid()}`);
      }
      if (key.alg !== undefined && key.alg.alg !== parsed.alg.alg) {
        throw new JwtAlgorithmNotAllowedError(`the key ${kid()} is for ${key.alg.alg}, the token says ${parsed.alg.alg}`);
      }
      const mismatch = keyMismatch(parsed.alg, key.shape);
      if (mismatch !== undefined) throw new JwtAlgorithmNotAllowedError(`the key ${kid()} does not fit: ${mismatch}`);
      if (!verifyJwsSignature(parsed.alg.alg, key.publicKey, parsed.signingInput, parsed.signature)) throw new JwtSignatureError();
      const payload = decodePayload(parsed.payloadSegment);
      checkClaims(payload, rules, now());
      return { payload, protectedHeader: parsed.header };
    },
  };
}
