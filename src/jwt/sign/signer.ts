/**
 * JwtSigner: compact JWTs signed by a Key Vault key that never leaves the vault, and the JWKS
 * that verifies them.
 *
 * - Signing: the JWS signing input is hashed here (SHA-256/384/512 per `alg`) and only the
 *   digest goes to Key Vault (`CryptographyClient.sign(alg, digest)`), on the client of the
 *   exact VERSIONED kid the schedule picked (never a versionless client: its `keyID` would be
 *   wrong after a rotation, reference jwt.md §2). The returned signature is checked (length,
 *   and it must verify under the published public key) before the token is released.
 * - Header: `{ alg, typ: "JWT", kid }`; `kid` is the Key Vault version id (32 hex digits), the
 *   same `kid` the JWKS carries. Not the full key URL: that would publish the vault's host name.
 * - Versions and rotation: rotation/schedule.ts and docs/operations.md (JWT signing).
 * - Vault calls reuse KeyVaultKek's machinery (sign/vault-signer.ts): one KeyClient pipeline,
 *   CryptographyClients per versioned kid, our bounded retry, typed errors.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import { inspect, type InspectOptions } from 'node:util';
import { invalidatesClient } from '../../azure/internal/errors.js';
import { configuredId, parseKeyId } from '../../azure/internal/key-id.js';
import { EnvelopeError, KekUnavailableError, KeyDisabledError, UnsupportedKeyTypeError } from '../../errors.js';
import { JwtSigningFailedError } from '../errors.js';
import { type JwsAlgorithm, keyMismatch, signatureBytes } from '../internal/algorithms.js';
import { b64url, unixSeconds } from '../internal/values.js';
import { type JwkSet, publicJwk } from '../jwks/jwk.js';
import { CertificateSource } from '../rotation/certificate-source.js';
import { type KeyVersionStatus, KeyRing, type RingSnapshot, type RingVersion, type VersionSource, versionStatuses } from '../rotation/key-ring.js';
import { KeySource } from '../rotation/key-source.js';
import { isPublished } from '../rotation/schedule.js';
import { DEFAULT_MAX_TOKEN_LENGTH } from '../verify/token.js';
import { verifyJwsSignature } from '../verify/signature.js';
import { buildPayload, extraHeader, type SignOptions } from './claims.js';
import { type JwtSignerOptions, type ResolvedSignerOptions, resolveSignerOptions } from './options.js';
import { VaultSigner } from './vault-signer.js';

const clocks = new WeakMap<JwtSigner, () => number>();
/** The clock of `signer` (for verifiers built from it). @internal */
export const signerClock = (signer: JwtSigner): (() => number) => clocks.get(signer) ?? Date.now;

/**
 * Signs JWTs with a Key Vault EC or RSA key and publishes its JWKS.
 *
 * @example
 * ```ts
 * import { DefaultAzureCredential } from '@azure/identity';
 * import { JwtSigner } from 'kv-envelope/jwt';
 * const signer = new JwtSigner({ vaultUrl: 'https://myvault.vault.azure.net', keyName: 'jwt', credential: new DefaultAzureCredential() });
 * const token = await signer.sign({ scope: 'read' }, { issuer: 'https://issuer.example', audience: 'api', expiresIn: '15m' });
 * const jwks = await signer.jwks(); // serve it with jwksHandler(signer)
 * ```
 */
export class JwtSigner {
  /** The configured key id (versionless unless a version was pinned). */
  readonly keyId: string;
  /** The JWS algorithm of every token. */
  readonly algorithm: JwsAlgorithm;
  readonly #o: ResolvedSignerOptions;
  readonly #vault: VaultSigner;
  readonly #ring: KeyRing;

  /** @throws {TypeError | RangeError} on invalid options, naming the option. No vault call is made. */
  constructor(options: JwtSignerOptions) {
    this.#o = resolveSignerOptions(options);
    const key = this.#o.key;
    this.keyId = configuredId(key);
    this.algorithm = this.#o.algorithm.alg;
    this.#vault = new VaultSigner(this.#o.credential, this.#o.clientOptions, { retry: this.#o.retry, timeoutMs: this.#o.timeoutMs });
    const pinned = key.version !== undefined;
    const source: VersionSource = this.#o.certificate
      ? new CertificateSource(key, this.#vault.certificateClient(key.origin), this.#vault.call)
      : new KeySource(key, this.#vault.keyClient(key.origin), this.#vault.call);
    this.#ring = new KeyRing({
      source,
      // A pinned version was chosen by the operator: no lead time.
      schedule: { leadMs: pinned ? 0 : this.#o.publishLeadMs, tailMs: this.#o.maxTokenLifetimeSeconds * 1000 + this.#o.clockSkewMs },
      refreshIntervalMs: this.#o.refreshIntervalMs,
      now: this.#o.now,
    });
    clocks.set(this, this.#o.now);
  }

  /**
   * Signs `claims` as a compact JWT. `iat` is now; `exp` defaults to now + maxTokenLifetime.
   * One vault `sign` call (plus the version list every `refreshInterval`, and one `getKey` the
   * first time a version signs).
   * @throws {TypeError | RangeError} for invalid claims or options (before any vault call).
   * @throws {UnsupportedKeyTypeError} when the signing version does not fit the algorithm (e.g. ES256 with an
   *   RSA or P-384 key, RS256 with RSA < 2048) or its key_ops exclude sign: before any sign call.
   * @throws {KeyDisabledError} when no version is enabled and inside its nbf..exp now.
   * @throws {KeyAccessDeniedError | KeyNotFoundError | KekUnavailableError} from Key Vault.
   * @throws {JwtSigningFailedError} when the vault's signature does not verify under the published key.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example
   * ```ts
   * const token = await signer.sign({ role: 'admin' }, { subject: 'user-42', audience: ['api'], expiresIn: '15m' });
   * ```
   */
  async sign(claims: Record<string, unknown>, options: SignOptions = {}): Promise<string> {
    if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
    const signal = options.signal;
    signal?.throwIfAborted();
    const nowMs = this.#o.now();
    const payload = b64url(JSON.stringify(buildPayload(claims, options, unixSeconds(nowMs), this.#o.maxTokenLifetimeSeconds)));
    const extra = extraHeader(options.header);
    const tooLong = () => new RangeError(`the token would be longer than ${DEFAULT_MAX_TOKEN_LENGTH} characters (verifiers refuse it): make the claims smaller`);
    if (payload.length >= DEFAULT_MAX_TOKEN_LENGTH) throw tooLong(); // before any vault call
    let failed: string | undefined;
    for (;;) {
      const active = await this.#activeVersion(signal, nowMs);
      const material = active.material!;
      const x5t = material.x509 === undefined ? {} : { 'x5t#S256': material.x509.x5tS256 };
      const input = `${b64url(JSON.stringify({ alg: this.algorithm, typ: 'JWT', kid: active.version, ...x5t, ...extra }))}.${payload}`;
      const length = signatureBytes(this.#o.algorithm, material.shape);
      if (input.length + 1 + Math.ceil((length * 4) / 3) > DEFAULT_MAX_TOKEN_LENGTH) throw tooLong();
      const digest = createHash(this.#o.algorithm.hash).update(input).digest();
      let signature: Uint8Array;
      try {
        signature = await this.#remoteSign(active, digest, signal);
      } catch (err) {
        // The active version was disabled or deleted since the last refresh: re-read once.
        const stale = err instanceof EnvelopeError && (err.code === 'ERR_KEY_DISABLED' || err.code === 'ERR_KEY_NOT_FOUND');
        if (!stale || failed !== undefined) throw err;
        failed = active.version;
        await this.#ring.refresh(signal);
        if ((await this.#activeVersion(signal, nowMs)).version === failed) throw err;
        continue;
      }
      if (signature.length < length && this.#o.algorithm.family === 'RSA') {
        // An RSA signature is an integer: left-pad one a service returned without leading zeros.
        const padded = new Uint8Array(length);
        padded.set(signature, length - signature.length);
        signature = padded;
      }
      if (signature.length !== length || !verifyJwsSignature(this.algorithm, material.publicKey, input, signature)) {
        throw new JwtSigningFailedError(`Key Vault sign on ${active.kid} returned a signature that does not verify under its public key`);
      }
      this.#ring.signed(active.version, this.#o.now());
      return `${input}.${b64url(signature)}`;
    }
  }

  /**
   * The public JWKs of every published version (pending, active, retired), newest first.
   * Served from memory; the vault is re-read at most every `refreshInterval`, and a failed
   * re-read keeps the last JWKS.
   * @throws {KeyNotFoundError | KeyAccessDeniedError | KekUnavailableError} when the versions were never read.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example
   * ```ts
   * const { keys } = await signer.jwks(); // [{ kty: 'EC', crv: 'P-256', x, y, use: 'sig', alg: 'ES256', kid }]
   * ```
   */
  async jwks(options?: { signal?: AbortSignal }): Promise<JwkSet> {
    const snapshot = await this.#ring.current(options?.signal);
    const schedule = this.#ring.schedule(snapshot, this.#o.now());
    const keys = snapshot.versions
      .filter((v, i) => isPublished(schedule.versions[i]!.state) && v.material !== undefined && keyMismatch(this.#o.algorithm, v.material.shape) === undefined)
      .reverse()
      .map((v) => publicJwk(v.material!, this.algorithm, v.version));
    return { keys };
  }

  /**
   * Re-reads the key's versions now (e.g. right after `keyClient.rotateKey`, or to drop a
   * disabled version from the JWKS at once). Concurrent calls share one read.
   * @throws {KeyNotFoundError | KeyAccessDeniedError | KekUnavailableError} from Key Vault.
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   * @example
   * ```ts
   * await keyClient.rotateKey('jwt');
   * await signer.refresh(); // the new version is published now and signs after publishLeadTime
   * ```
   */
  async refresh(options?: { signal?: AbortSignal }): Promise<void> {
    await this.#ring.refresh(options?.signal);
  }

  /**
   * Where every version stands in the rotation schedule now, oldest first.
   * @throws {KeyNotFoundError | KeyAccessDeniedError | KekUnavailableError} when the versions were never read.
   * @example
   * ```ts
   * for (const v of await signer.versions()) console.log(v.version, v.state, v.readyAt, v.removeAt);
   * ```
   */
  async versions(options?: { signal?: AbortSignal }): Promise<KeyVersionStatus[]> {
    const snapshot = await this.#ring.current(options?.signal);
    return versionStatuses(snapshot, this.#ring.schedule(snapshot, this.#o.now()));
  }

  async #activeVersion(signal: AbortSignal | undefined, nowMs: number): Promise<RingVersion> {
    let snapshot: RingSnapshot = await this.#ring.current(signal);
    let active = this.#pick(snapshot, nowMs);
    if (active.material === undefined) {
      snapshot = await this.#ring.refresh(signal); // e.g. a long-removed version became active again
      active = this.#pick(snapshot, nowMs);
      if (active.material === undefined) throw new KekUnavailableError(`${active.kid}: its public key could not be read`);
    }
    const mismatch = keyMismatch(this.#o.algorithm, active.material.shape);
    if (mismatch !== undefined) throw new UnsupportedKeyTypeError(`${active.kid} cannot sign ${this.algorithm}: ${mismatch}`);
    const ops = active.material.keyOps;
    if (ops !== undefined && ops.length > 0 && !ops.includes('sign')) throw new UnsupportedKeyTypeError(`${active.kid}: its key_ops do not allow sign`);
    return active;
  }

  #pick(snapshot: RingSnapshot, nowMs: number): RingVersion {
    const schedule = this.#ring.schedule(snapshot, nowMs);
    const active = snapshot.versions.find((v) => v.version === schedule.active);
    if (active === undefined) {
      throw new KeyDisabledError(`${this.keyId} has no version that is enabled and inside its nbf..exp window now`);
    }
    return active;
  }

  async #remoteSign(active: RingVersion, digest: Buffer, signal: AbortSignal | undefined): Promise<Uint8Array> {
    try {
      return await this.#vault.sign(parseKeyId(active.kid) ?? { ...this.#o.key, version: active.version }, this.algorithm, digest, signal);
    } catch (err) {
      if (err instanceof EnvelopeError && invalidatesClient(err)) this.#ring.invalidate();
      throw err;
    }
  }

  /** Public description only (no credential). */
  toJSON(): { keyId: string; algorithm: JwsAlgorithm } {
    return { keyId: this.keyId, algorithm: this.algorithm };
  }

  toString(): string {
    return `JwtSigner(${this.keyId}, ${this.algorithm})`;
  }

  [inspect.custom](_depth: number, opts: InspectOptions): string {
    return `JwtSigner ${inspect(this.toJSON(), opts)}`;
  }
}
