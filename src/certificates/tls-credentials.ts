/**
 * TLS credentials from a Key Vault certificate that follow its renewals: load the current
 * version's key and chain from the certificate's secret, ask the vault every
 * `refreshInterval` whether a new version exists, and swap the server's context
 * (`server.setSecureContext`) when one does. Open connections keep the context they were
 * accepted with; new connections get the new certificate. No restart.
 *
 * @module
 */
import { EventEmitter } from 'node:events';
import { inspect, type InspectOptions } from 'node:util';
import { CertificateClient } from '@azure/keyvault-certificates';
import { SecretClient } from '@azure/keyvault-secrets';
import { raceAbort } from '../internal/abort.js';
import { CertificateError } from './errors.js';
import { type CertificateLocation, currentVersion, type LoadedVersion, loadVersion } from './internal/fetch.js';
import { type ResolvedTlsOptions, resolveTlsOptions, type TlsCredentialsOptions } from './internal/options.js';
import { TlsMaterial, type TlsMaterialInfo } from './tls-material.js';

/** What `renewed` reports. */
export interface TlsRenewedEvent extends TlsMaterialInfo {
  /** The version served before. */
  previousVersion: string;
}

/** The events of {@link TlsCredentials}. */
export interface TlsCredentialsEvents {
  /** A new certificate version is loaded (and every attached server uses it for new connections). */
  renewed: [event: TlsRenewedEvent];
  /** A refresh failed; the last good certificate keeps serving. Never carries key material. */
  refreshFailed: [error: unknown];
  /** The served version's notAfter is closer than `nearExpiry` (once per version). */
  nearExpiry: [event: TlsMaterialInfo];
}

/** A server whose context can be replaced: `tls.Server`, `https.Server`, `http2.Http2SecureServer`. */
export interface SecureContextTarget {
  setSecureContext(options: { key: string; cert: string }): void;
}

/**
 * The current certificate of a Key Vault certificate, kept fresh. Make it with
 * {@link createTlsCredentials}.
 */
export class TlsCredentials extends EventEmitter<TlsCredentialsEvents> {
  readonly #o: ResolvedTlsOptions;
  readonly #where: CertificateLocation;
  #current: TlsMaterial;
  #timer: NodeJS.Timeout | undefined;
  #inflight: Promise<boolean> | undefined;
  #warned = new Set<string>();
  #closed = false;

  /** @internal use {@link createTlsCredentials} */
  constructor(o: ResolvedTlsOptions, where: CertificateLocation, first: TlsMaterial) {
    super();
    this.#o = o;
    this.#where = where;
    this.#current = first;
    this.#timer = setInterval(() => void this.#tick(), o.refreshIntervalMs).unref();
    o.signal?.addEventListener('abort', () => this.close(), { once: true });
  }

  /** The certificate served now. */
  get current(): TlsMaterial {
    return this.#current;
  }

  /** The private key of the current version, PKCS#8 PEM (never log it). */
  get key(): string {
    return this.#current.key;
  }

  /** The chain of the current version, leaf first, PEM. */
  get cert(): string {
    return this.#current.cert;
  }

  /** The current version's notAfter. */
  get notAfter(): Date {
    return this.#current.notAfter;
  }

  /** The current version (Key Vault's version id). */
  get version(): string {
    return this.#current.version;
  }

  /** `{ key, cert }` of the current version, for `https.createServer(...)` or `tls.createSecureContext(...)`. */
  secureContextOptions(): { key: string; cert: string } {
    return this.#current.secureContextOptions();
  }

  /**
   * Keeps `server` on the current certificate: on every renewal calls
   * `server.setSecureContext(...)` (new connections get the new certificate; open ones stay up).
   * Returns a function that detaches the server again.
   * @throws {TypeError} when `server` has no `setSecureContext`.
   * @example
   * ```ts
   * const server = https.createServer(tls.secureContextOptions(), app).listen(443);
   * tls.attach(server);
   * ```
   */
  attach(server: SecureContextTarget): () => void {
    if (server === null || typeof server !== 'object' || typeof server.setSecureContext !== 'function') {
      throw new TypeError('server must have setSecureContext (a tls, https or http2 secure server)');
    }
    const onRenewed = () => {
      try {
        server.setSecureContext(this.secureContextOptions());
      } catch (err) {
        this.emit('refreshFailed', new CertificateError('ERR_CERTIFICATE_MALFORMED', `${this.#id()}: the server refused the new certificate`, { cause: err, certificate: this.#id() }));
      }
    };
    this.on('renewed', onRenewed);
    return () => void this.off('renewed', onRenewed);
  }

  /**
   * Asks the vault now (one `getCertificate`; one `getSecret` when the version changed) and
   * loads a new version. Concurrent calls share one read. True when the version changed.
   * @throws {CertificateError} the failure (the last good certificate keeps serving).
   * @throws {unknown} `options.signal.reason` when the signal aborts.
   */
  refresh(options?: { signal?: AbortSignal }): Promise<boolean> {
    this.#inflight ??= this.#refresh().finally(() => {
      this.#inflight = undefined;
    });
    return raceAbort(this.#inflight, options?.signal);
  }

  /** Stops the periodic refresh (attached servers keep the certificate they have). */
  close(): void {
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #tick(): Promise<void> {
    try {
      await this.refresh();
    } catch (err) {
      if (!this.#closed) this.emit('refreshFailed', err);
    }
  }

  async #refresh(): Promise<boolean> {
    try {
      const latest = await currentVersion(this.#where);
      if (latest.version === this.#current.version || this.#closed) return false;
      if (!latest.enabled) throw new CertificateError('ERR_CERTIFICATE_DISABLED', `${this.#id()}/${latest.version}: the newest version is disabled`, { certificate: this.#id() });
      const next = material(await loadVersion(this.#where, latest.version), this.#o.now(), this.#id());
      if (this.#closed) return false;
      const previousVersion = this.#current.version;
      this.#current = next;
      this.emit('renewed', { ...next.toJSON(), previousVersion });
      return true;
    } finally {
      this.#checkExpiry();
    }
  }

  #checkExpiry(): void {
    const cur = this.#current;
    if (this.#o.now() < cur.notAfter.getTime() - this.#o.nearExpiryMs || this.#warned.has(cur.version)) return;
    this.#warned.add(cur.version);
    this.emit('nearExpiry', cur.toJSON());
  }

  #id(): string {
    return `${this.#o.vaultUrl}/certificates/${this.#o.name}`;
  }

  /** Public description only (no key). */
  toJSON(): { certificate: string; current: TlsMaterialInfo } {
    return { certificate: this.#id(), current: this.#current.toJSON() };
  }

  [inspect.custom](_depth: number, opts: InspectOptions): string {
    return `TlsCredentials ${inspect(this.toJSON(), opts)}`;
  }
}

/** A loaded version as TLS material, refused when outside its validity. */
function material(loaded: LoadedVersion, now: number, id: string): TlsMaterial {
  const m = new TlsMaterial(loaded.version, loaded.privateKey!, loaded.chain);
  if (now >= m.notAfter.getTime() || now < m.notBefore.getTime()) {
    const when = now >= m.notAfter.getTime() ? `expired at ${m.notAfter.toISOString()}` : `is not valid before ${m.notBefore.toISOString()}`;
    throw new CertificateError('ERR_CERTIFICATE_EXPIRED', `${id}/${loaded.version}: the certificate ${when}`, { certificate: id });
  }
  return m;
}

/**
 * Loads the current version of a Key Vault certificate (key and chain, from its secret: PFX or
 * PEM) for a Node `https` / `http2` / `tls` server, and keeps it fresh. Vault calls: one
 * `getCertificate` + one `getSecret` now, then one `getCertificate` per `refreshInterval`
 * and one `getSecret` per new version.
 * @throws {TypeError | RangeError} for invalid options (before any vault call).
 * @throws {CertificateError} `ERR_CERTIFICATE_NOT_FOUND`, `_ACCESS_DENIED`, `_DISABLED`, `_EXPIRED`
 *   (outside its validity), `_NOT_EXPORTABLE` (no private key in the secret), `_MALFORMED`, `_UNAVAILABLE`.
 * @throws {unknown} `options.signal.reason` when the signal aborts.
 * @example
 * ```ts
 * import { createServer } from 'node:https';
 * import { createTlsCredentials } from 'kv-envelope/certificates';
 *
 * const tls = await createTlsCredentials({ vaultUrl, certificateName: 'api-tls', credential, refreshInterval: '1h' });
 * const server = createServer(tls.secureContextOptions(), handler).listen(8443);
 * tls.attach(server);                                    // renewals reach new connections, no restart
 * tls.on('refreshFailed', (err) => log.warn(err.message)); // the last good certificate keeps serving
 * ```
 */
export async function createTlsCredentials(options: TlsCredentialsOptions): Promise<TlsCredentials> {
  const o = resolveTlsOptions(options);
  o.signal?.throwIfAborted();
  const where: CertificateLocation = {
    vaultUrl: o.vaultUrl,
    name: o.name,
    certificates: new CertificateClient(o.vaultUrl, o.credential, o.clientOptions),
    secrets: new SecretClient(o.vaultUrl, o.credential, o.clientOptions),
    retry: o.retry,
    timeoutMs: o.timeoutMs,
  };
  const id = `${o.vaultUrl}/certificates/${o.name}`;
  const latest = await currentVersion(where, o.signal);
  if (!latest.enabled) throw new CertificateError('ERR_CERTIFICATE_DISABLED', `${id}/${latest.version}: the newest version is disabled`, { certificate: id });
  const first = material(await loadVersion(where, latest.version, o.signal), o.now(), id);
  return new TlsCredentials(o, where, first);
}
