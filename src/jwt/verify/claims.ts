/**
 * Claim checks of a verified token (RFC 7519 §4.1): `exp` (required), `nbf`, `iat` against the
 * clock with `clockTolerance`, then `iss` and `aud` against the verifier's options.
 *
 * @module
 * @internal
 */
import { JwtClaimInvalidError, JwtExpiredError, JwtInvalidError, JwtNotYetValidError } from '../errors.js';

/** What the claims are checked against. */
export interface ClaimRules {
  readonly issuers: readonly string[] | undefined;
  readonly audiences: readonly string[] | undefined;
  readonly toleranceSeconds: number;
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
 * @throws {JwtExpiredError} when now ≥ exp + tolerance.
 * @throws {JwtNotYetValidError} when nbf or iat > now + tolerance.
 * @throws {JwtClaimInvalidError} when `exp` is missing or `iss`/`aud` do not match.
 */
export function checkClaims(payload: Record<string, unknown>, rules: ClaimRules, nowMs: number): void {
  const now = nowMs / 1000;
  const tolerance = rules.toleranceSeconds;
  const exp = numericDate(payload, 'exp');
  const nbf = numericDate(payload, 'nbf');
  const iat = numericDate(payload, 'iat');
  if (exp === undefined) throw new JwtClaimInvalidError('the token has no "exp" claim');
  if (now - tolerance >= exp) throw new JwtExpiredError(`the token expired at ${exp}`);
  if (nbf !== undefined && nbf > now + tolerance) throw new JwtNotYetValidError(`the token is not valid before ${nbf}`);
  if (iat !== undefined && iat > now + tolerance) throw new JwtNotYetValidError(`the token was issued in the future (${iat})`);
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
