/**
 * JwtSigner over a Key Vault certificate (the real CertificateClient against the local vault):
 * tokens carry `x5t#S256` and `kid`, the JWKS carries `x5c` and `x5t#S256`, jose verifies from
 * the JWKS and from the x5c leaf alone, and a renewal (a new certificate version) rotates like
 * a key rotation on one injected clock.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { CertificateClient, type CertificatePolicy } from '@azure/keyvault-certificates';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UnsupportedKeyTypeError } from '../../src/errors.js';
import { JwtSigner } from '../../src/jwt/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { ManualClock } from '../helpers/local-vault.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const header = (token: string) => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
const pemOf = (b64: string) => `-----BEGIN CERTIFICATE-----\n${b64.match(/.{1,64}/g)!.join('\n')}\n-----END CERTIFICATE-----\n`;
const POLL = { intervalInMs: 10 };

describe('JwtSigner with a certificate (in-process vault, injected clock)', () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let vault: LocalKeyVault;
  let certs: CertificateClient;
  let seq = 0;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport: 'in-process', clock: clock.now });
    certs = new CertificateClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  const policy = (over: Partial<CertificatePolicy> = {}): CertificatePolicy =>
    ({ issuerName: 'Self', subject: 'CN=issuer.example', keyType: 'RSA', keySize: 2048, validityInMonths: 12, exportable: false, ...over }) as CertificatePolicy;
  async function create(over?: Partial<CertificatePolicy>) {
    const name = `jwt-cert-${++seq}`;
    const cert = await (await certs.beginCreateCertificate(name, policy(over), POLL)).pollUntilDone();
    return { name, cert };
  }
  const signerFor = (certificateName: string, extra: Partial<ConstructorParameters<typeof JwtSigner>[0]> = {}) =>
    new JwtSigner({
      vaultUrl: vault.url, certificateName, credential: vault.credential(), clientOptions: vault.clientOptions, now: clock.now,
      publishLeadTime: '1h', maxTokenLifetime: '2h', clockSkew: '5m', ...extra,
    });

  it('header kid + x5t#S256, JWKS x5c + x5t#S256 of the certificate; jose verifies from the JWKS and from x5c alone', async () => {
    const { name, cert } = await create();
    const signer = signerFor(name);
    expect(signer.algorithm).toBe('RS256'); // the certificate default
    const token = await signer.sign({ scope: 'orders:read' }, { audience: 'orders', issuer: 'https://issuer.example' });
    const der = Buffer.from(cert.cer!);
    const thumb = createHash('sha256').update(der).digest('base64url');
    expect(header(token)).toEqual({ alg: 'RS256', typ: 'JWT', kid: cert.properties.version, 'x5t#S256': thumb });

    const { keys } = await signer.jwks();
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ kty: 'RSA', use: 'sig', alg: 'RS256', kid: cert.properties.version, x5c: [der.toString('base64')], 'x5t#S256': thumb });
    const opts = { algorithms: ['RS256'], audience: 'orders', issuer: 'https://issuer.example', currentDate: new Date(clock.ms) };
    expect((await jose.jwtVerify(token, jose.createLocalJWKSet({ keys }), opts)).payload.scope).toBe('orders:read');
    // A verifier that trusts the certificate, not the JWKS: only x5c[0].
    const fromX5c = await jose.importX509(pemOf(keys[0]!.x5c![0]!), 'RS256');
    expect((await jose.jwtVerify(token, fromX5c, opts)).payload.scope).toBe('orders:read');
    expect(new X509Certificate(Buffer.from(keys[0]!.x5c![0]!, 'base64')).subject).toBe('CN=issuer.example');
  });

  it('ES256 with an EC P-256 certificate', async () => {
    const { name } = await create({ keyType: 'EC', keyCurveName: 'P-256', keySize: undefined });
    const signer = signerFor(name, { algorithm: 'ES256' });
    const token = await signer.sign({ n: 1 }, { audience: 'a' });
    const { keys } = await signer.jwks();
    const key = await jose.importX509(pemOf(keys[0]!.x5c![0]!), 'ES256');
    expect((await jose.jwtVerify(token, key, { audience: 'a', currentDate: new Date(clock.ms) })).payload.n).toBe(1);
  });

  it('adversary: a certificate whose key does not fit the algorithm fails typed, with 0 sign calls', async () => {
    const { name } = await create({ keyType: 'EC', keyCurveName: 'P-384', keySize: undefined });
    const before = vault.stats.byOperation.sign ?? 0;
    for (const algorithm of ['RS256', 'ES256'] as const) {
      const err = await signerFor(name, { algorithm }).sign({ n: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(UnsupportedKeyTypeError);
      expect((err as UnsupportedKeyTypeError).code).toBe('ERR_UNSUPPORTED_KEY_TYPE');
    }
    expect(vault.stats.byOperation.sign ?? 0).toBe(before);
  });

  it('a renewal mid-run: the new version is published ahead, signs after the lead time, the old one verifies until retired', async () => {
    const { name, cert } = await create();
    const v1 = cert.properties.version!;
    const signer = signerFor(name);
    clock.ms += 2 * HOUR;
    const kids = async () => (await signer.jwks()).keys.map((k) => k.kid);
    const verify = async (token: string, tolerance = 0) =>
      jose.jwtVerify(token, jose.createLocalJWKSet(await signer.jwks()), { algorithms: ['RS256'], currentDate: new Date(clock.ms), clockTolerance: tolerance });
    expect(header(await signer.sign({ n: 0 })).kid).toBe(v1);

    const renewed = await (await certs.beginCreateCertificate(name, await certs.getCertificatePolicy(name), POLL)).pollUntilDone();
    const v2 = renewed.properties.version!;
    expect(v2).not.toBe(v1);
    const renewedAt = clock.ms;
    await signer.refresh();
    expect(await kids()).toEqual([v2, v1]); // published at once, newest first
    clock.ms = renewedAt + HOUR - 1000;
    const lastByV1 = await signer.sign({ n: 1 }, { expiresIn: '2h' });
    expect(header(lastByV1).kid).toBe(v1); // the lead time is not over: the renewed version must not sign yet

    clock.ms = renewedAt + HOUR;
    const firstByV2 = await signer.sign({ n: 2 });
    expect(header(firstByV2)).toMatchObject({ kid: v2, 'x5t#S256': createHash('sha256').update(renewed.cer!).digest('base64url') });
    expect((await verify(lastByV1)).payload.n).toBe(1);
    expect((await verify(firstByV2)).payload.n).toBe(2);

    clock.ms = renewedAt + HOUR + 2 * HOUR + 5 * MIN - 2000; // its exp + 5 min of skew not yet passed
    expect(await kids()).toEqual([v2, v1]);
    expect((await verify(lastByV1, 300)).payload.n).toBe(1);
    clock.ms = renewedAt + HOUR + 2 * HOUR + 5 * MIN;
    expect(await kids()).toEqual([v2]);
    await expect(verify(lastByV1, 300)).rejects.toThrow(/no applicable key found/i);
  });

  it('adversary: an expired certificate (renewal left to EmailContacts) signs nothing: ERR_KEY_DISABLED, and leaves the JWKS', async () => {
    const { name } = await create({ validityInMonths: 1, lifetimeActions: [{ daysBeforeExpiry: 10, action: 'EmailContacts' }] });
    const signer = signerFor(name, { refreshInterval: '1m' });
    clock.ms += 2 * HOUR;
    await signer.sign({ n: 1 });
    clock.ms += 40 * 24 * HOUR; // past notAfter
    const before = vault.stats.byOperation.sign ?? 0;
    const err = await signer.sign({ n: 2 }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ERR_KEY_DISABLED');
    expect(vault.stats.byOperation.sign ?? 0).toBe(before);
    expect((await signer.jwks()).keys).toEqual([]); // expired longer ago than the token lifetime + skew
  });

  it('least privilege: Reader (certificate versions) + Crypto User on the key signs; Reader alone publishes but cannot sign', async () => {
    const { name } = await create();
    vault.assignRole('jwt-svc', 'Key Vault Reader');
    vault.assignRole('jwt-svc', 'Key Vault Crypto User', `keys/${name}`);
    vault.assignRole('jwks-only', 'Key Vault Reader');
    const as = (principal: string) => new JwtSigner({ vaultUrl: vault.url, certificateName: name, credential: vault.credential(principal), clientOptions: vault.clientOptions, now: clock.now });
    const token = await as('jwt-svc').sign({ n: 1 }, { audience: 'a' });
    expect(header(token).kid).toBeTruthy();
    const readerOnly = as('jwks-only');
    expect((await readerOnly.jwks()).keys).toHaveLength(1);
    const err = await readerOnly.sign({ n: 1 }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ERR_KEY_ACCESS_DENIED');
  });

  it('options: a certificate name one way only, checked before any vault call', () => {
    const base = { credential: vault.credential(), clientOptions: vault.clientOptions };
    expect(() => new JwtSigner({ ...base, vaultUrl: vault.url, certificateName: 'a', keyName: 'b' })).toThrow(TypeError);
    expect(() => new JwtSigner({ ...base, vaultUrl: vault.url, certificateName: 'bad_name' })).toThrow(/options.certificateName/);
    expect(() => new JwtSigner({ ...base, certificateName: 'a' })).toThrow(/options.vaultUrl/);
  });
});
