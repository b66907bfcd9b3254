/**
 * createVerifier with a fixed JWKS and tokens made here with node:crypto (no vault): malformed
 * tokens, `alg: none`, algorithm confusion, kid handling, refused header parameters, time
 * claims with clockTolerance, iss/aud, size bound, and JWKS import checks. Every failure is
 * asserted by `code` and class.
 */
import { constants, createHmac, generateKeyPairSync, type KeyObject, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  createVerifier, JwtAlgorithmNotAllowedError, JwtClaimInvalidError, JwtError, JwtExpiredError, JwtInvalidError, JwtKeyNotFoundError,
  JwtNotYetValidError, JwtSignatureError, type JwsAlgorithm,
} from '../../src/jwt/index.js';

const NOW = 1_900_000_000_000;
const now = () => NOW;
const sec = NOW / 1000;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

const ec256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 });
const jwk = (key: KeyObject, kid: string, alg?: string) => ({ ...key.export({ format: 'jwk' }), use: 'sig', kid, ...(alg ? { alg } : {}) });
const JWKS = {
  keys: [
    jwk(ec256.publicKey, 'p256', 'ES256'), jwk(ec384.publicKey, 'p384', 'ES384'), jwk(k1.publicKey, 'k1', 'ES256K'),
    jwk(rsa.publicKey, 'rsa-rs', 'RS256'), jwk(rsa.publicKey, 'rsa-any'), jwk(rsa1024.publicKey, 'rsa-small'),
    { kty: 'oct', k: undefined, kid: 'ignored' }, { ...jwk(ec256.publicKey, 'enc-key'), use: 'enc' },
  ].map((k) => Object.fromEntries(Object.entries(k).filter(([, v]) => v !== undefined))),
};

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512', '56K': 'sha256' };
function signJws(alg: string, key: KeyObject, input: string): Buffer {
  const hash = HASH[alg.slice(-3)] ?? 'sha256';
  if (alg.startsWith('ES')) return sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  if (alg.startsWith('PS')) return sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 });
  return sign(hash, Buffer.from(input), key);
}
function token(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject = ec256.privateKey): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${signJws(String(header.alg), key, input).toString('base64url')}`;
}
const claims = { sub: 'u', iat: sec, exp: sec + 600 };
const good = token({ alg: 'ES256', typ: 'JWT', kid: 'p256' }, claims);
const verifier = createVerifier({ jwks: JWKS, algorithms: ['ES256', 'ES384', 'ES256K', 'RS256', 'PS256'], audience: false, now });

async function failure(t: unknown, v = verifier): Promise<JwtError> {
  const err = await v.verify(t as string).then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a JwtError').toBeInstanceOf(JwtError);
  return err as JwtError;
}

describe('createVerifier (fixed JWKS)', () => {
  it('verifies ES256, ES384, ES256K, RS256 and PS256 tokens and returns payload and protected header', async () => {
    const cases: [JwsAlgorithm, string, KeyObject][] = [
      ['ES256', 'p256', ec256.privateKey], ['ES384', 'p384', ec384.privateKey], ['ES256K', 'k1', k1.privateKey],
      ['RS256', 'rsa-rs', rsa.privateKey], ['PS256', 'rsa-any', rsa.privateKey],
    ];
    for (const [alg, kid, key] of cases) {
      const result = await verifier.verify(token({ alg, typ: 'JWT', kid }, claims, key));
      expect(result).toEqual({ payload: claims, protectedHeader: { alg, typ: 'JWT', kid } });
    }
  });

  it.each([
    ['not a string', 42],
    ['two segments', 'a.b'],
    ['four segments', `${good}.x`],
    ['five segments (JWE)', 'a.b.c.d.e'],
    ['empty header', `.${good.split('.')[1]}.${good.split('.')[2]}`],
    ['empty signature', good.replace(/\.[^.]+$/, '.')],
    ['bad base64url in the header', `*${good}`],
    ['padding', `${good}=`],
    ['header not JSON', `${b64('not json')}.${good.split('.')[1]}.${good.split('.')[2]}`],
    ['header an array', `${b64([1])}.${good.split('.')[1]}.${good.split('.')[2]}`],
    ['header invalid UTF-8', `${Buffer.from([0x7b, 0xff, 0x7d]).toString('base64url')}.e30.AAAA`],
    ['oversized', `${good}${'A'.repeat(17_000)}`],
    ['no kid', token({ alg: 'ES256' }, claims)],
    ['numeric kid', token({ alg: 'ES256', kid: 7 }, claims)],
    ['crit', token({ alg: 'ES256', kid: 'p256', crit: ['exp'] }, claims)],
    ['b64: false', token({ alg: 'ES256', kid: 'p256', b64: false }, claims)],
    ['jku', token({ alg: 'ES256', kid: 'p256', jku: 'https://evil.example/jwks' }, claims)],
    ['jwk', token({ alg: 'ES256', kid: 'p256', jwk: jwk(ec256.publicKey, 'x') }, claims)],
    ['x5u', token({ alg: 'ES256', kid: 'p256', x5u: 'https://evil.example/c' }, claims)],
    ['empty payload', `${good.split('.')[0]}..${good.split('.')[2]}`],
  ])('%s → ERR_JWT_INVALID', async (_name, t) => {
    const err = await failure(t);
    expect(err).toBeInstanceOf(JwtInvalidError);
    expect(err.code).toBe('ERR_JWT_INVALID');
  });

  it('a payload that is not a JSON object but correctly signed → ERR_JWT_INVALID (checked after the signature)', async () => {
    const input = `${b64({ alg: 'ES256', kid: 'p256' })}.${b64('[1,2]')}`;
    const t = `${input}.${signJws('ES256', ec256.privateKey, input).toString('base64url')}`;
    expect(await failure(t)).toBeInstanceOf(JwtInvalidError);
  });

  it('alg none (any case), HS256 and algorithms outside the allow-list → ERR_JWT_ALG_NOT_ALLOWED', async () => {
    for (const alg of ['none', 'NONE', 'None']) {
      expect(await failure(`${b64({ alg, kid: 'p256' })}.${b64(claims)}.`)).toBeInstanceOf(JwtInvalidError); // empty signature
      expect(await failure(`${b64({ alg, kid: 'p256' })}.${b64(claims)}.AAAA`)).toBeInstanceOf(JwtAlgorithmNotAllowedError);
    }
    // CVE-2015-9235 class: HS256 "signed" with the RSA public key as the HMAC secret.
    const input = `${b64({ alg: 'HS256', kid: 'rsa-any' })}.${b64(claims)}`;
    const pem = rsa.publicKey.export({ type: 'spki', format: 'pem' });
    const hs = `${input}.${createHmac('sha256', pem).update(input).digest('base64url')}`;
    expect(await failure(hs)).toBeInstanceOf(JwtAlgorithmNotAllowedError);
    const es512 = token({ alg: 'ES512', kid: 'p256' }, claims, generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey);
    expect(await failure(es512)).toBeInstanceOf(JwtAlgorithmNotAllowedError);
  });

  it('algorithm confusion: the alg must fit the JWK alg, kty, curve and size', async () => {
    expect(await failure(token({ alg: 'PS256', kid: 'rsa-rs' }, claims, rsa.privateKey))).toBeInstanceOf(JwtAlgorithmNotAllowedError); // JWK says RS256
    expect(await failure(token({ alg: 'ES384', kid: 'p256' }, claims, ec384.privateKey))).toBeInstanceOf(JwtAlgorithmNotAllowedError);
    expect(await failure(token({ alg: 'ES256', kid: 'k1' }, claims, k1.privateKey))).toBeInstanceOf(JwtAlgorithmNotAllowedError); // ES256 vs secp256k1
    expect(await failure(token({ alg: 'RS256', kid: 'p256' }, claims, rsa.privateKey))).toBeInstanceOf(JwtAlgorithmNotAllowedError);
    expect(await failure(token({ alg: 'RS256', kid: 'rsa-small' }, claims, rsa1024.privateKey))).toBeInstanceOf(JwtAlgorithmNotAllowedError);
  });

  it('unknown kid, and keys that are not for signatures → ERR_JWT_KEY_NOT_FOUND', async () => {
    expect(await failure(token({ alg: 'ES256', kid: 'nope' }, claims))).toBeInstanceOf(JwtKeyNotFoundError);
    expect(await failure(token({ alg: 'ES256', kid: 'enc-key' }, claims))).toBeInstanceOf(JwtKeyNotFoundError);
  });

  it('wrong key, DER-encoded ECDSA, all-zero (psychic) and truncated signatures → ERR_JWT_SIGNATURE', async () => {
    const input = `${b64({ alg: 'ES256', kid: 'p256' })}.${b64(claims)}`;
    const der = sign('sha256', Buffer.from(input), ec256.privateKey).toString('base64url');
    for (const sig of [der, Buffer.alloc(64).toString('base64url'), signJws('ES256', ec384.privateKey, input).subarray(0, 64).toString('base64url')]) {
      expect(await failure(`${input}.${sig}`)).toBeInstanceOf(JwtSignatureError);
    }
    expect(await failure(token({ alg: 'ES256', kid: 'p256' }, claims, generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey))).toBeInstanceOf(JwtSignatureError);
    const pssSalt0 = `${b64({ alg: 'PS256', kid: 'rsa-any' })}.${b64(claims)}`;
    const sig0 = sign('sha256', Buffer.from(pssSalt0), { key: rsa.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 0 });
    expect(await failure(`${pssSalt0}.${sig0.toString('base64url')}`)).toBeInstanceOf(JwtSignatureError); // salt must be the hash length
  });

  it('exp, nbf and iat with clockTolerance', async () => {
    const t = (c: Record<string, unknown>) => token({ alg: 'ES256', kid: 'p256' }, c);
    expect(await failure(t({ exp: sec }))).toBeInstanceOf(JwtExpiredError);
    expect(await failure(t({ exp: sec - 1 }))).toBeInstanceOf(JwtExpiredError);
    expect(await failure(t({ exp: sec + 100, nbf: sec + 1 }))).toBeInstanceOf(JwtNotYetValidError);
    // A future iat alone is no reason to refuse (jose, jsonwebtoken): see jwt-verify-hardening.test.ts.
    await expect(verifier.verify(t({ exp: sec + 100, iat: sec + 61 }))).resolves.toBeDefined();
    expect(await failure(t({ sub: 'no exp' }))).toBeInstanceOf(JwtClaimInvalidError);
    expect(await failure(t({ exp: String(sec + 100) }))).toBeInstanceOf(JwtInvalidError);
    const lenient = createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: false, clockTolerance: '1m', now });
    await expect(lenient.verify(t({ exp: sec - 59, nbf: sec + 59, iat: sec + 59 }))).resolves.toBeDefined();
    expect(await failure(t({ exp: sec - 60 }), lenient)).toBeInstanceOf(JwtExpiredError);
    expect(await failure(t({ exp: sec + 100, nbf: sec + 61 }), lenient)).toBeInstanceOf(JwtNotYetValidError);
  });

  it('issuer and audience', async () => {
    const v = createVerifier({ jwks: JWKS, algorithms: ['ES256'], issuer: ['https://a', 'https://b'], audience: 'api', now });
    const t = (c: Record<string, unknown>) => token({ alg: 'ES256', kid: 'p256' }, { exp: sec + 60, ...c });
    await expect(v.verify(t({ iss: 'https://b', aud: ['x', 'api'] }))).resolves.toBeDefined();
    expect(await failure(t({ iss: 'https://c', aud: 'api' }), v)).toBeInstanceOf(JwtClaimInvalidError);
    expect(await failure(t({ aud: 'api' }), v)).toBeInstanceOf(JwtClaimInvalidError);
    expect(await failure(t({ iss: 'https://a', aud: 'other' }), v)).toBeInstanceOf(JwtClaimInvalidError);
    expect(await failure(t({ iss: 'https://a' }), v)).toBeInstanceOf(JwtClaimInvalidError);
    expect(await failure(t({ iss: 'https://a', aud: [1] }), v)).toBeInstanceOf(JwtInvalidError);
  });

  it('options and JWKS are checked when the verifier is made', () => {
    expect(() => createVerifier({ jwks: JWKS, algorithms: [], audience: false })).toThrow(TypeError);
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['none' as JwsAlgorithm], audience: false })).toThrow(RangeError);
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['HS256' as JwsAlgorithm], audience: false })).toThrow(RangeError);
    expect(() => createVerifier({ algorithms: ['ES256'], audience: false })).toThrow(TypeError);
    expect(() => createVerifier({ jwks: { keys: [{ ...ec256.privateKey.export({ format: 'jwk' }), kid: 'x' }] }, algorithms: ['ES256'], audience: false })).toThrow(/private/);
    expect(() => createVerifier({ jwks: { keys: [jwk(ec256.publicKey, 'a'), jwk(ec384.publicKey, 'a')] }, algorithms: ['ES256'], audience: false })).toThrow(/more than one/);
    expect(() => createVerifier({ jwks: { keys: [jwk(ec256.publicKey, 'a', 'ES384')] }, algorithms: ['ES256'], audience: false })).toThrow(TypeError);
    const short = { ...jwk(ec256.publicKey, 'a'), x: 'AAAA' };
    expect(() => createVerifier({ jwks: { keys: [short] }, algorithms: ['ES256'], audience: false })).toThrow(TypeError);
  });
});
