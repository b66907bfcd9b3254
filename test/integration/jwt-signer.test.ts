/**
 * JwtSigner with the REAL @azure/keyvault-keys clients against the local vault (in-process; one
 * https smoke test): every algorithm jose supports verifies with `jose.jwtVerify` against
 * `createLocalJWKSet(await signer.jwks())` and with our verifier; ES256K verifies with ours and
 * jose refuses it; JWKS hygiene; wrong alg/key pairings fail with zero sign calls; RBAC; vault
 * call budgets from the vault's own counters.
 */
import { KeyClient } from '@azure/keyvault-keys';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KekUnavailableError, KeyAccessDeniedError, KeyDisabledError, UnsupportedKeyTypeError } from '../../src/index.js';
import { createVerifier, type JwsAlgorithm, JwtError, JwtSigner, type JwtSignerOptions } from '../../src/jwt/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';

let seq = 0;
const keyName = (p: string) => `${p}-${++seq}`;
const b64 = (s: string) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

type KeySpec = { kind: 'ec'; curve: 'P-256' | 'P-384' | 'P-521' | 'P-256K'; hsm?: boolean } | { kind: 'rsa'; size: number; hsm?: boolean };
const KEY_FOR: Record<JwsAlgorithm, KeySpec> = {
  ES256: { kind: 'ec', curve: 'P-256' },
  ES384: { kind: 'ec', curve: 'P-384', hsm: true },
  ES512: { kind: 'ec', curve: 'P-521' },
  ES256K: { kind: 'ec', curve: 'P-256K' },
  RS256: { kind: 'rsa', size: 2048 },
  RS384: { kind: 'rsa', size: 3072, hsm: true },
  RS512: { kind: 'rsa', size: 4096 },
  PS256: { kind: 'rsa', size: 2048 },
  PS384: { kind: 'rsa', size: 3072 },
  PS512: { kind: 'rsa', size: 2048 },
};
const JOSE_ALGS = (Object.keys(KEY_FOR) as JwsAlgorithm[]).filter((a) => a !== 'ES256K');

describe('JwtSigner against the local vault (in-process)', () => {
  let vault: LocalKeyVault;
  let keyClient: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport: 'in-process' });
    keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  async function createKey(name: string, spec: KeySpec): Promise<void> {
    if (spec.kind === 'ec') await keyClient.createEcKey(name, { curve: spec.curve, hsm: spec.hsm ?? false });
    else await keyClient.createRsaKey(name, { keySize: spec.size, hsm: spec.hsm ?? false });
  }
  function signer(name: string, extra: Partial<JwtSignerOptions> = {}): JwtSigner {
    return new JwtSigner({
      vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions,
      retry: { baseDelayMs: 5, maxDelayMs: 20 }, ...extra,
    });
  }

  it.each(JOSE_ALGS)('%s: jose.jwtVerify accepts the token against createLocalJWKSet(signer.jwks()); so does our verifier', async (alg) => {
    const name = keyName(alg.toLowerCase());
    await createKey(name, KEY_FOR[alg]);
    const s = signer(name, { algorithm: alg });
    vault.stats.reset();
    const token = await s.sign({ scope: 'orders:read', n: 1 }, { issuer: 'https://issuer.example', audience: 'orders', subject: 'u1', expiresIn: '10m' });
    expect(vault.stats.byKey[name]?.sign).toBe(1);
    const [h, p, sig] = token.split('.');
    const version = (await keyClient.getKey(name)).properties.version;
    expect(b64(h!)).toEqual({ alg, typ: 'JWT', kid: version });
    expect(Object.keys(b64(p!))).toEqual(['scope', 'n', 'iss', 'sub', 'aud', 'iat', 'exp']);
    expect(Buffer.from(sig!, 'base64url').length).toBe(alg.startsWith('ES') ? { ES256: 64, ES384: 96, ES512: 132 }[alg as 'ES256'] : KEY_FOR[alg].kind === 'rsa' ? (KEY_FOR[alg] as { size: number }).size / 8 : 0);

    const jwks = await s.jwks();
    const { payload, protectedHeader } = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), {
      algorithms: [alg], issuer: 'https://issuer.example', audience: 'orders', typ: 'JWT', requiredClaims: ['exp', 'iat'],
    });
    expect(payload).toMatchObject({ scope: 'orders:read', n: 1, sub: 'u1' });
    expect(payload.exp! - payload.iat!).toBe(600);
    expect(protectedHeader.kid).toBe(version);
    const ours = await createVerifier({ jwks, algorithms: [alg], issuer: 'https://issuer.example', audience: 'orders' }).verify(token);
    expect(ours.payload).toEqual(payload);
  });

  it('ES256K: our verifier accepts it (jwks and signer-backed); jose v6 refuses ES256K (removed in jose 6.0.0)', async () => {
    const name = keyName('es256k');
    await createKey(name, KEY_FOR.ES256K);
    const s = signer(name, { algorithm: 'ES256K' });
    const token = await s.sign({ chain: 'btc' });
    const jwks = await s.jwks();
    expect(jwks.keys[0]).toMatchObject({ kty: 'EC', crv: 'secp256k1', alg: 'ES256K', use: 'sig' });
    expect((await createVerifier({ jwks, algorithms: ['ES256K'], audience: false }).verify(token)).payload.chain).toBe('btc');
    expect((await createVerifier({ signer: s, algorithms: ['ES256K'], audience: false }).verify(token)).protectedHeader.alg).toBe('ES256K');
    const err = await jose.jwtVerify(token, jose.createLocalJWKSet(jwks)).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('ERR_JOSE_NOT_SUPPORTED');
  });

  it('publishes RFC-correct public JWKs: EC/RSA (never -HSM), padded coordinates, minimal n/e, use/alg/kid, no key_ops or private members', async () => {
    const ec = keyName('jwk-ec');
    const rsa = keyName('jwk-rsa');
    await createKey(ec, { kind: 'ec', curve: 'P-521', hsm: true });
    await createKey(rsa, { kind: 'rsa', size: 2048, hsm: true });
    const [ecKey] = (await signer(ec, { algorithm: 'ES512' }).jwks()).keys;
    const [rsaKey] = (await signer(rsa, { algorithm: 'PS256' }).jwks()).keys;
    const ecVersion = (await keyClient.getKey(ec)).properties.version;
    expect(Object.keys(ecKey!)).toEqual(['kty', 'crv', 'x', 'y', 'use', 'alg', 'kid']);
    expect(ecKey).toMatchObject({ kty: 'EC', crv: 'P-521', use: 'sig', alg: 'ES512', kid: ecVersion });
    if (ecKey?.kty !== 'EC' || rsaKey?.kty !== 'RSA') throw new Error('unexpected key types');
    expect(Buffer.from(ecKey.x, 'base64url').length).toBe(66);
    expect(Buffer.from(ecKey.y, 'base64url').length).toBe(66);
    expect(Object.keys(rsaKey)).toEqual(['kty', 'n', 'e', 'use', 'alg', 'kid']);
    expect(Buffer.from(rsaKey.n, 'base64url')[0]).not.toBe(0);
    expect(Buffer.from(rsaKey.n, 'base64url').length).toBe(256);
    expect(rsaKey.e).toBe('AQAB');
  });

  it.each([
    ['ES256', { kind: 'ec', curve: 'P-384' }],
    ['ES256', { kind: 'rsa', size: 2048 }],
    ['ES256K', { kind: 'ec', curve: 'P-256' }],
    ['ES512', { kind: 'ec', curve: 'P-256K' }],
    ['RS256', { kind: 'ec', curve: 'P-256' }],
    ['PS384', { kind: 'ec', curve: 'P-384' }],
  ] as const)('%s with a %o key: UnsupportedKeyTypeError before any sign call, and the key is not published', async (alg, spec) => {
    const name = keyName('mismatch');
    await createKey(name, spec);
    const s = signer(name, { algorithm: alg });
    vault.stats.reset();
    const err = await s.sign({ a: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedKeyTypeError);
    expect((err as UnsupportedKeyTypeError).code).toBe('ERR_UNSUPPORTED_KEY_TYPE');
    expect((err as Error).message).toContain(alg);
    expect(vault.stats.byOperation.sign ?? 0).toBe(0);
    expect(vault.stats.byOperation.getKeyVersions).toBe(1);
    expect((await s.jwks()).keys).toEqual([]);
  });

  it('RBAC: Key Vault Crypto User can sign; Crypto Service Encryption User gets KeyAccessDeniedError from sign', async () => {
    const name = keyName('rbac');
    await createKey(name, KEY_FOR.ES256);
    vault.assignRole('jwt-issuer', 'Key Vault Crypto User', name);
    vault.assignRole('kek-service', 'Key Vault Crypto Service Encryption User', name);
    const allowed = signer(name, { credential: vault.credential('jwt-issuer') });
    const token = await allowed.sign({ ok: true });
    expect((await createVerifier({ signer: allowed, algorithms: ['ES256'], audience: false }).verify(token)).payload.ok).toBe(true);

    const denied = signer(name, { credential: vault.credential('kek-service') });
    const err = await denied.sign({ ok: false }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyAccessDeniedError);
    expect((err as KeyAccessDeniedError).code).toBe('ERR_KEY_ACCESS_DENIED');
    expect((err as Error).message).toContain(`Key Vault sign on ${vault.url}/keys/${name}/`);
    expect((await denied.jwks()).keys).toHaveLength(1); // keys/read is enough to publish
  });

  it('caller mistakes are TypeError/RangeError with no vault call at all', async () => {
    const name = keyName('mistakes');
    await createKey(name, KEY_FOR.ES256);
    const s = signer(name, { maxTokenLifetime: '1h' });
    vault.stats.reset();
    await expect(s.sign({ a: 1 }, { header: { kid: 'x' } })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: 1 }, { header: { alg: 'none' } })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: 1 }, { header: { crit: ['exp'] } })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: 1 }, { header: { b64: false } })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: 1 }, { header: { jku: 'https://evil.example/jwks' } })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: 1 }, { header: { jwk: { kty: 'EC' } } })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: 1 }, { header: { x5u: 'https://evil.example/cert' } })).rejects.toThrow(TypeError);
    await expect(s.sign({ iat: 1 })).rejects.toThrow(TypeError);
    await expect(s.sign({ exp: 1.5 })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: 1 }, { expiresIn: '2h' })).rejects.toThrow(RangeError);
    await expect(s.sign({ a: new Date() })).rejects.toThrow(TypeError);
    await expect(s.sign({ a: undefined })).rejects.toThrow(TypeError);
    await expect(s.sign([1, 2] as unknown as Record<string, unknown>)).rejects.toThrow(TypeError);
    await expect(s.sign({ iss: 'a' }, { issuer: 'b' })).rejects.toThrow(TypeError);
    await expect(s.sign({ big: 'x'.repeat(20_000) })).rejects.toThrow(RangeError);
    expect(vault.stats.total).toBe(0);
  });

  it('budget: a warm signer costs exactly one vault sign per token', async () => {
    const name = keyName('budget');
    await createKey(name, KEY_FOR.ES256);
    const s = signer(name);
    await s.sign({ warm: true });
    vault.stats.reset();
    await Promise.all(Array.from({ length: 20 }, (_, i) => s.sign({ i })));
    expect(vault.stats.byOperation).toEqual({ sign: 20 });
  });

  it('throttling: 429s without Retry-After are retried by our bounded loop; past the bound, KekUnavailableError', async () => {
    const name = keyName('throttle');
    await createKey(name, KEY_FOR.ES256);
    const s = signer(name);
    await s.sign({ warm: true });
    vault.stats.reset();
    vault.faults.next(2, { type: '429', operations: ['sign'] });
    expect(typeof (await s.sign({ n: 1 }))).toBe('string');
    expect(vault.stats.byOperation.sign).toBe(3);
    vault.faults.next(10, { type: '429', operations: ['sign'] });
    const strict = signer(name, { retry: { maxRetries: 1, baseDelayMs: 1 } });
    const err = await strict.sign({ n: 2 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KekUnavailableError);
    vault.faults.clear();
  });

  it('an aborted sign rejects with the signal\'s reason', async () => {
    const name = keyName('abort');
    await createKey(name, KEY_FOR.ES256);
    const s = signer(name);
    await s.sign({ warm: true });
    vault.faults.next(1, { type: 'delay', ms: 2000, operations: ['sign'] });
    const controller = new AbortController();
    const pending = s.sign({ n: 1 }, { signal: controller.signal });
    setTimeout(() => controller.abort(new Error('caller gave up')), 20);
    await expect(pending).rejects.toThrow('caller gave up');
    vault.faults.clear();
  });

  it('no enabled version: KeyDisabledError from sign, an empty JWKS', async () => {
    const name = keyName('disabled');
    const v1 = (await keyClient.createEcKey(name, { curve: 'P-256' })).properties.version!;
    await keyClient.updateKeyProperties(name, v1, { enabled: false });
    const s = signer(name);
    const err = await s.sign({ a: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyDisabledError);
    expect((await s.jwks()).keys).toEqual([]);
    expect((await s.versions()).map((v) => v.state)).toEqual(['disabled']);
  });

  it('a pinned version (keyId with version) signs with and publishes only that version', async () => {
    const name = keyName('pinned');
    await createKey(name, KEY_FOR.ES256);
    const v1 = await keyClient.getKey(name);
    await keyClient.rotateKey(name);
    const s = new JwtSigner({ keyId: v1.id!, credential: vault.credential(), clientOptions: vault.clientOptions });
    const token = await s.sign({ a: 1 });
    expect(b64(token.split('.')[0]!).kid).toBe(v1.properties.version);
    expect((await s.jwks()).keys.map((k) => k.kid)).toEqual([v1.properties.version]);
  });

  it('verifier errors are JwtErrors; a tampered payload fails with ERR_JWT_SIGNATURE', async () => {
    const name = keyName('tamper');
    await createKey(name, KEY_FOR.ES256);
    const s = signer(name);
    const token = await s.sign({ admin: false });
    const [h, , sig] = token.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ admin: true, exp: 9e9 })).toString('base64url')}.${sig}`;
    const err = await createVerifier({ signer: s, algorithms: ['ES256'], audience: false }).verify(forged).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JwtError);
    expect((err as JwtError).code).toBe('ERR_JWT_SIGNATURE');
  });
});

describe('JwtSigner over https (smoke)', () => {
  it('signs through the https transport and jose verifies it', async () => {
    const vault = await LocalKeyVault.start({ transport: 'https' });
    try {
      const keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
      await keyClient.createEcKey('jwt', { curve: 'P-256' });
      const s = new JwtSigner({ vaultUrl: vault.url, keyName: 'jwt', credential: vault.credential(), clientOptions: vault.clientOptions });
      const token = await s.sign({ over: 'https' }, { audience: 'smoke' });
      const { payload } = await jose.jwtVerify(token, jose.createLocalJWKSet(await s.jwks()), { algorithms: ['ES256'], audience: 'smoke' });
      expect(payload.over).toBe('https');
      expect(vault.stats.byOperation.sign).toBe(1);
    } finally {
      await vault.close();
    }
  });
});
