/**
 * The verifier's keys, by `kid`: imported once from a JWK Set (as node:crypto KeyObjects), or
 * followed from a {@link JwtSigner}'s JWKS.
 *
 * From a signer: the keys are re-read from `signer.jwks()` (no vault call unless the signer's
 * own refreshInterval has passed) when older than `cacheMaxAge`. An unknown `kid` triggers at
 * most ONE forced refresh (`signer.refresh()`, a vault call) per `cooldown` window: concurrent
 * unknown kids share it, and a flood of random kids costs one vault call per window, not one per
 * token (reference jwt.md §4.6).
 *
 * @module
 * @internal
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { escapeUntrusted } from '../../internal/escape.js';
import { algorithmSpec, type AlgorithmSpec, CURVES, type JwkCurve, keyMismatch, type KeyShape, rsaExponentProblem } from '../internal/algorithms.js';
import { decodeB64url, isPlainObject } from '../internal/values.js';

/** One verification key. */
export interface VerificationKey {
  /** Undefined for a JWK without `kid` (usable only by a kid-less token, as a set's only key). */
  readonly kid: string | undefined;
  /** The JWK's `alg`, when it names one: then only that algorithm may use the key. */
  readonly alg: AlgorithmSpec | undefined;
  readonly shape: KeyShape;
  readonly publicKey: KeyObject;
}

/** Where a signer-backed key set reads from (a JwtSigner). */
export interface KeySource {
  jwks(): Promise<{ keys: readonly unknown[] }>;
  refresh(): Promise<unknown>;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

/**
 * Imports one JWK; undefined for keys that cannot verify JWS signatures here (another `use`,
 * `key_ops` without verify, another `kty`, a non-JWS `alg`, a `kid` that is not a non-empty string).
 * @throws {TypeError} for private keys and malformed EC/RSA members (an RSA exponent that is even or below 65537
 *   included: e = 1 makes every "signature" verify), or an `alg` that does not fit the key.
 */
export function importJwk(jwk: unknown, name: string): VerificationKey | undefined {
  if (!isPlainObject(jwk)) throw new TypeError(`${name} must be a JWK object`);
  if (PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m))) throw new TypeError(`${name} is a private or secret key: publish public keys only`);
  if (jwk.use !== undefined && jwk.use !== 'sig') return undefined;
  if (jwk.key_ops !== undefined && !(Array.isArray(jwk.key_ops) && jwk.key_ops.includes('verify'))) return undefined;
  if (jwk.kty !== 'EC' && jwk.kty !== 'RSA') return undefined;
  const alg = jwk.alg === undefined ? undefined : algorithmSpec(jwk.alg);
  if (jwk.alg !== undefined && alg === undefined) return undefined;
  if (jwk.kid !== undefined && (typeof jwk.kid !== 'string' || jwk.kid === '')) return undefined;
  let shape: KeyShape;
  let members: Record<string, string>;
  if (jwk.kty === 'EC') {
    const crv = typeof jwk.crv === 'string' && Object.hasOwn(CURVES, jwk.crv) ? (jwk.crv as JwkCurve) : undefined;
    if (crv === undefined) throw new TypeError(`${name}.crv must be one of ${Object.keys(CURVES).join(', ')}`);
    for (const m of ['x', 'y'] as const) {
      const bytes = typeof jwk[m] === 'string' ? decodeB64url(jwk[m]) : undefined;
      // RFC 7518 §6.2.1.2: coordinates are the full field size.
      if (bytes?.length !== CURVES[crv].bytes) throw new TypeError(`${name}.${m} must be ${CURVES[crv].bytes} base64url-encoded bytes`);
    }
    shape = { family: 'EC', crv };
    members = { kty: 'EC', crv, x: jwk.x as string, y: jwk.y as string };
  } else {
    for (const m of ['n', 'e'] as const) {
      const bytes = typeof jwk[m] === 'string' ? decodeB64url(jwk[m]) : undefined;
      if (bytes === undefined || bytes.length === 0) throw new TypeError(`${name}.${m} must be base64url`);
    }
    const weak = rsaExponentProblem(decodeB64url(jwk.e as string)!);
    if (weak !== undefined) throw new TypeError(`${name}.e: ${weak}`);
    members = { kty: 'RSA', n: jwk.n as string, e: jwk.e as string };
    shape = { family: 'RSA', bits: 0 };
  }
  let publicKey: KeyObject;
  try {
    publicKey = createPublicKey({ key: members, format: 'jwk' });
  } catch (err) {
    throw new TypeError(`${name} is not a valid ${jwk.kty} public key`, { cause: err });
  }
  if (shape.family === 'RSA') shape = { family: 'RSA', bits: publicKey.asymmetricKeyDetails?.modulusLength ?? 0 };
  const mismatch = alg === undefined ? undefined : keyMismatch(alg, shape);
  if (mismatch !== undefined) throw new TypeError(`${name}: ${mismatch}`);
  return { kid: jwk.kid as string | undefined, alg, shape, publicKey };
}

/** An imported JWK Set: the keys with a kid, by kid, and the set's only key when it holds exactly one. */
export interface KeyTable {
  readonly byKid: ReadonlyMap<string, VerificationKey>;
  readonly sole: VerificationKey | undefined;
}

/**
 * Imports a JWK Set.
 * @throws {TypeError} for a malformed set or key, or a kid used twice.
 */
export function importJwks(jwks: unknown, name: string, cache?: Map<string, VerificationKey | undefined>): KeyTable {
  if (!isPlainObject(jwks) || !Array.isArray(jwks.keys)) throw new TypeError(`${name} must be a JWK Set: { keys: [...] }`);
  const byKid = new Map<string, VerificationKey>();
  const all: VerificationKey[] = [];
  jwks.keys.forEach((jwk: unknown, i: number) => {
    const text = cache === undefined ? '' : JSON.stringify(jwk);
    const key = cache?.has(text) ? cache.get(text) : importJwk(jwk, `${name}.keys[${i}]`);
    cache?.set(text, key);
    if (key === undefined) return;
    all.push(key);
    if (key.kid === undefined) return;
    if (byKid.has(key.kid)) throw new TypeError(`${name}: kid "${escapeUntrusted(key.kid, 64)}" is used by more than one key`);
    byKid.set(key.kid, key);
  });
  return { byKid, sole: all.length === 1 ? all[0] : undefined };
}

/** Settings of a signer-backed key set. */
export interface FollowSettings {
  readonly maxAgeMs: number;
  readonly cooldownMs: number;
  readonly now: () => number;
}

/** Keys by kid, fixed or following a signer. */
export class KeySet {
  #keys: KeyTable;
  readonly #source: KeySource | undefined;
  readonly #settings: FollowSettings | undefined;
  readonly #imported = new Map<string, VerificationKey | undefined>();
  #loadedAt = -Infinity;
  #lastForcedAt = -Infinity;
  #loading: Promise<void> | undefined;
  #forcing: Promise<void> | undefined;

  private constructor(keys: KeyTable, source?: KeySource, settings?: FollowSettings) {
    this.#keys = keys;
    this.#source = source;
    this.#settings = settings;
  }

  /** A fixed set. @throws {TypeError} as {@link importJwks}. */
  static fixed(jwks: unknown): KeySet {
    return new KeySet(importJwks(jwks, 'options.jwks'));
  }

  /** A set that follows `source`. */
  static follow(source: KeySource, settings: FollowSettings): KeySet {
    return new KeySet({ byKid: new Map(), sole: undefined }, source, settings);
  }

  /**
   * The key set's only key (for a token without `kid`), reloading when stale; undefined when it
   * holds none or several (no forced refresh: a rotation adds keys, it never removes the need for a kid).
   */
  async only(): Promise<VerificationKey | undefined> {
    await this.#fresh();
    return this.#keys.sole;
  }

  /** The key of `kid`, reloading / refreshing as described above; undefined when unknown. */
  async get(kid: string): Promise<VerificationKey | undefined> {
    const s = this.#settings;
    if (s === undefined) return this.#keys.byKid.get(kid);
    await this.#fresh();
    const key = this.#keys.byKid.get(kid);
    if (key !== undefined) return key;
    if (this.#forcing === undefined) {
      if (s.now() - this.#lastForcedAt < s.cooldownMs) return undefined;
      this.#lastForcedAt = s.now();
      this.#forcing = this.#reload(true);
    }
    // A failed forced refresh leaves the kid unknown; the keys already loaded stay.
    await this.#forcing.catch(() => undefined);
    return this.#keys.byKid.get(kid);
  }

  async #fresh(): Promise<void> {
    const s = this.#settings;
    if (s === undefined || s.now() - this.#loadedAt < s.maxAgeMs) return;
    try {
      await (this.#loading ??= this.#reload(false));
    } catch (err) {
      if (this.#loadedAt === -Infinity) throw err; // never loaded: nothing to verify with
    }
  }

  #reload(forced: boolean): Promise<void> {
    const source = this.#source!;
    const p = (async () => {
      if (forced) await source.refresh();
      this.#keys = importJwks(await source.jwks(), 'signer.jwks()', this.#imported);
      this.#loadedAt = this.#settings!.now();
    })();
    const clear = () => {
      if (forced) this.#forcing = undefined;
      else this.#loading = undefined;
    };
    p.then(clear, clear);
    return p;
  }
}
