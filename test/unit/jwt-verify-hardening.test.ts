/**
 * The verifier against the attacks of issue 8 item 7 (each test names its adversary and fails on
 * the verifier before this change):
 * - a JWKS holding an RSA key with e = 1 (anyone forges RS256: the padded message is its own
 *   signature) or another weak exponent;
 * - a token minted for another service of the same issuer, replayed to a verifier that never
 *   said which audience it is (audience is now required, or explicitly `false`);
 * - an old token with a far `exp` (maxTokenAge caps the age by `iat`);
 * - repeated JSON member names (`{"alg":"none","alg":"ES256"}`): JSON.parse keeps the last, other
 *   parsers the first;
 * - a token without `kid` (RFC 7515 A.3) against a single-key JWKS, only when allowed.
 * Clock skew between issuer and verifier: jwt-skew-rotation.test.ts (with the real signer).
 */
import { createHash, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from 'node:crypto';
import fc from 'fast-check';
import * as jose from 'jose';
import { describe, expect, it } from 'vitest';
import {
  createVerifier, JwtClaimInvalidError, JwtError, JwtExpiredError, JwtInvalidError, JwtKeyNotFoundError, JwtNotYetValidError,
  verifyJwsSignature,
} from '../../src/jwt/index.js';
import { duplicateMemberName } from '../../src/jwt/internal/strict-json.js';

const NOW = 1_900_000_000_000;
const now = () => NOW;
const sec = NOW / 1000;
const b64 = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const ec2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = (key: KeyObject, kid?: string, alg?: string) => ({ ...key.export({ format: 'jwk' }), use: 'sig', ...(kid ? { kid } : {}), ...(alg ? { alg } : {}) });
const JWKS = { keys: [jwk(ec.publicKey, 'p256', 'ES256'), jwk(rsa.publicKey, 'rsa')] };

/** A compact JWS over the exact header and payload TEXT given (so member names can repeat). */
function signText(headerJson: string, payloadJson: string, key: KeyObject = ec.privateKey, alg = 'ES256'): string {
  const input = `${b64(headerJson)}.${b64(payloadJson)}`;
  const sig = alg === 'ES256' ? sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' }) : sign('sha256', Buffer.from(input), key);
  return `${input}.${sig.toString('base64url')}`;
}
const token = (header: Record<string, unknown>, payload: Record<string, unknown>, key?: KeyObject) =>
  signText(JSON.stringify(header), JSON.stringify(payload), key, String(header.alg));
const claims = { sub: 'alice', aud: 'orders', iat: sec - 10, exp: sec + 600 };

async function failure(promise: Promise<unknown>): Promise<JwtError> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err, 'expected a JwtError').toBeInstanceOf(JwtError);
  return err as JwtError;
}

/** The RSASSA-PKCS1-v1_5 encoded message of SHA-256(input) for a `bytes`-long modulus (RFC 8017 §9.2). */
function pkcs1Sha256(input: string, bytes: number): Buffer {
  const t = Buffer.concat([Buffer.from('3031300d060960864801650304020105000420', 'hex'), createHash('sha256').update(input).digest()]);
  return Buffer.concat([Buffer.from([0, 1]), Buffer.alloc(bytes - t.length - 3, 0xff), Buffer.from([0]), t]);
}

describe('weak RSA exponents (attacker: a JWKS that holds an RSA key with e = 1)', () => {
  const n = rsa.publicKey.export({ format: 'jwk' }).n!;
  const weak = (e: string) => ({ kty: 'RSA', n, e, kid: 'weak', use: 'sig' });

  it('an RS256 token forged without any private key (signature = the padded message) is refused', async () => {
    // Forgery: with e = 1, s^e mod n = s, so the PKCS#1 block itself verifies.
    const input = `${b64({ alg: 'RS256', kid: 'weak' })}.${b64({ ...claims, sub: 'admin' })}`;
    const forged = `${input}.${pkcs1Sha256(input, 256).toString('base64url')}`;
    // The forgery is real: node:crypto alone accepts it under the e = 1 key.
    expect(verify('sha256', Buffer.from(input), createPublicKey({ key: weak('AQ'), format: 'jwk' }), Buffer.from(forged.split('.')[2]!, 'base64url'))).toBe(true);

    expect(() => createVerifier({ jwks: { keys: [weak('AQ')] }, algorithms: ['RS256'], audience: 'orders', now })).toThrow(TypeError);
    expect(() => createVerifier({ jwks: { keys: [weak('AQ')] }, algorithms: ['RS256'], audience: 'orders', now })).toThrow(/exponent/);
    // The low-level check refuses the key too, whoever imported it.
    const e1 = createPublicKey({ key: weak('AQ'), format: 'jwk' });
    expect(verifyJwsSignature('RS256', e1, input, Buffer.from(forged.split('.')[2]!, 'base64url'))).toBe(false);
  });

  it.each([['e = 3', 'Aw'], ['e = 65535', '__8'], ['e = 65536 (even)', 'AQAA'], ['e = 2^24 + 2 (even, large)', 'AQAAAg']])(
    '%s is refused when the verifier is made', (_name, e) => {
      expect(() => createVerifier({ jwks: { keys: [weak(e)] }, algorithms: ['RS256'], audience: 'orders' })).toThrow(/exponent/);
    },
  );

  it('e = 65537 and larger odd exponents are accepted', async () => {
    const big = generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 65539 });
    const v = createVerifier({ jwks: { keys: [jwk(big.publicKey, 'big')] }, algorithms: ['RS256'], audience: 'orders', now });
    expect((await v.verify(token({ alg: 'RS256', kid: 'big' }, claims, big.privateKey))).payload.sub).toBe('alice');
  });
});

describe('audience is required (attacker: replays a token minted for another service of the same issuer)', () => {
  const billingToken = token({ alg: 'ES256', kid: 'p256' }, { ...claims, aud: 'billing' });

  it('a verifier made without audience throws a TypeError naming options.audience', () => {
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['ES256'], now })).toThrow(TypeError);
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['ES256'], now })).toThrow(/options\.audience/);
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: [], now })).toThrow(TypeError);
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: true as never, now })).toThrow(TypeError);
  });

  it('the orders verifier refuses the billing token; audience: false accepts any audience on purpose', async () => {
    const orders = createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: 'orders', now });
    expect(await failure(orders.verify(billingToken))).toBeInstanceOf(JwtClaimInvalidError);
    const anyAudience = createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: false, now });
    expect((await anyAudience.verify(billingToken)).payload.aud).toBe('billing');
  });
});

describe('maxTokenAge (attacker: replays a token issued long ago whose exp is far away)', () => {
  const v = createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: 'orders', maxTokenAge: '1h', now });
  const t = (c: Record<string, unknown>) => token({ alg: 'ES256', kid: 'p256' }, { aud: 'orders', exp: sec + 30 * 86_400, ...c });

  it('a token older than maxTokenAge by iat is ERR_JWT_EXPIRED even though exp is 30 days away', async () => {
    const err = await failure(v.verify(t({ iat: sec - 3601 })));
    expect(err).toBeInstanceOf(JwtExpiredError);
    expect(err.code).toBe('ERR_JWT_EXPIRED');
    expect((await v.verify(t({ iat: sec - 3600 }))).payload.aud).toBe('orders');
  });

  it('iat becomes required, and may not lie in the future beyond clockTolerance (it would stretch the window)', async () => {
    expect((await failure(v.verify(t({}))))).toBeInstanceOf(JwtClaimInvalidError);
    expect((await failure(v.verify(t({ iat: sec + 5 }))))).toBeInstanceOf(JwtNotYetValidError);
    const lenient = createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: 'orders', maxTokenAge: '1h', clockTolerance: 60, now });
    expect((await lenient.verify(t({ iat: sec + 59 }))).payload.aud).toBe('orders');
    expect((await lenient.verify(t({ iat: sec - 3659 }))).payload.aud).toBe('orders');
  });

  it('is checked when the verifier is made', () => {
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: false, maxTokenAge: 0 })).toThrow(RangeError);
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: false, maxTokenAge: '1 month' })).toThrow(RangeError);
  });
});

describe('repeated JSON member names (attacker: a header or payload that means two things)', () => {
  const v = createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: 'orders', now });
  const payload = JSON.stringify(claims);

  it.each([
    ['header alg twice: {"alg":"none","alg":"ES256"}', '{"alg":"none","alg":"ES256","kid":"p256"}', payload],
    ['header kid twice, once escaped: "\\u006bid"', '{"alg":"ES256","kid":"rsa","\\u006bid":"p256"}', payload],
    ['payload sub twice: alice then admin', '{"alg":"ES256","kid":"p256"}', payload.replace('"sub":"alice"', '"sub":"alice","sub":"admin"')],
    ['payload aud twice', '{"alg":"ES256","kid":"p256"}', payload.replace('"aud":"orders"', '"aud":"billing","aud":"orders"')],
    ['nested object in the payload', '{"alg":"ES256","kid":"p256"}', payload.replace('{', '{"cnf":{"jkt":"a","jkt":"b"},')],
  ])('%s → ERR_JWT_INVALID, even with a valid signature', async (_name, header, body) => {
    const err = await failure(v.verify(signText(header, body)));
    expect(err).toBeInstanceOf(JwtInvalidError);
    expect(err.code).toBe('ERR_JWT_INVALID');
    expect(err.message).toMatch(/twice/);
  });

  it('the same name in different objects, and names inside string values, are not duplicates', async () => {
    const body = payload.replace('{', '{"a":{"x":1,"y":[{"x":2},{"x":3}]},"b":{"x":1},"s":"{\\"sub\\":1,\\"sub\\":2}","t":"\\\\","u":"\\"",');
    expect((await v.verify(signText('{"alg":"ES256","kid":"p256"}', body))).payload.b).toEqual({ x: 1 });
  });

  it('property: JSON.stringify output never has a duplicate; adding any existing name again is always found', () => {
    fc.assert(fc.property(fc.dictionary(fc.string(), fc.jsonValue(), { minKeys: 1 }), fc.nat(), (obj, pick) => {
      const text = JSON.stringify(obj);
      expect(duplicateMemberName(text)).toBeUndefined();
      const names = Object.keys(obj);
      const name = names[pick % names.length]!;
      expect(duplicateMemberName(`{${JSON.stringify(name)}:0,${text.slice(1)}`)).toBe(name);
      expect(duplicateMemberName(`[1,{"deep":${text.slice(0, -1)},${JSON.stringify(name)}:null}}]`)).toBe(name);
    }), { numRuns: 500 });
  });
});

describe('tokens without kid (RFC 7515 A.3) against a single-key JWKS', () => {
  // RFC 7515 Appendix A.3: ES256, header {"alg":"ES256"} (no kid), key without kid.
  const rfcKey = { kty: 'EC', crv: 'P-256', x: 'f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU', y: 'x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0' };
  const rfcToken = 'eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ' +
    '.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q';
  const rfcNow = () => 1_300_819_370_000;
  const noKid = token({ alg: 'ES256' }, claims);

  it('verifies the RFC example and a kid-less token when allowMissingKid is set', async () => {
    const rfc = createVerifier({ jwks: { keys: [rfcKey] }, algorithms: ['ES256'], audience: false, allowMissingKid: true, now: rfcNow });
    expect((await rfc.verify(rfcToken)).payload).toEqual({ iss: 'joe', exp: 1300819380, 'http://example.com/is_root': true });
    const single = createVerifier({ jwks: { keys: [jwk(ec.publicKey, 'p256', 'ES256')] }, algorithms: ['ES256'], audience: 'orders', allowMissingKid: true, now });
    expect((await single.verify(noKid)).payload.sub).toBe('alice');
    // jose agrees on the same input.
    expect((await jose.jwtVerify(rfcToken, jose.createLocalJWKSet({ keys: [rfcKey] }), { currentDate: new Date(rfcNow()) })).payload.iss).toBe('joe');
  });

  it('by default a kid-less token is ERR_JWT_INVALID', async () => {
    const strict = createVerifier({ jwks: { keys: [rfcKey] }, algorithms: ['ES256'], audience: false, now: rfcNow });
    expect(await failure(strict.verify(rfcToken))).toBeInstanceOf(JwtInvalidError);
  });

  it('with two keys a kid-less token is ERR_JWT_KEY_NOT_FOUND (no trying each key), and a wrong key still fails the signature', async () => {
    const two = createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: 'orders', allowMissingKid: true, now });
    expect(await failure(two.verify(noKid))).toBeInstanceOf(JwtKeyNotFoundError);
    const other = createVerifier({ jwks: { keys: [jwk(ec2.publicKey, 'x')] }, algorithms: ['ES256'], audience: 'orders', allowMissingKid: true, now });
    expect((await failure(other.verify(noKid))).code).toBe('ERR_JWT_SIGNATURE');
    expect(() => createVerifier({ jwks: JWKS, algorithms: ['ES256'], audience: false, allowMissingKid: 'yes' as never })).toThrow(TypeError);
  });
});
