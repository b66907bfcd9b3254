/**
 * The signing side's input checks (src/jwt/sign/claims.ts, internal/time.ts) and the JWK
 * normalization of Key Vault keys (src/jwt/jwks/jwk.ts): padded EC coordinates, minimal RSA
 * members, `EC`/`RSA` for HSM types, `secp256k1` for `P-256K`.
 */
import { generateKeyPairSync } from 'node:crypto';
import type { JsonWebKey as VaultJsonWebKey } from '@azure/keyvault-keys';
import { describe, expect, it } from 'vitest';
import { KekUnavailableError, UnsupportedKeyTypeError } from '../../src/errors.js';
import { durationSeconds } from '../../src/jwt/internal/values.js';
import { materialFromVault, publicJwk } from '../../src/jwt/jwks/jwk.js';
import { buildPayload, extraHeader } from '../../src/jwt/sign/claims.js';

const NOW = 1_900_000_000;

describe('durationSeconds', () => {
  it.each([
    [0, 0], [90, 90], ['90s', 90], ['15m', 900], ['15 min', 900], ['2h', 7200], ['7d', 604_800], ['1w', 604_800], [' 3 Hours ', 10_800],
  ] as const)('%j → %d s', (input, seconds) => expect(durationSeconds(input, 'd')).toBe(seconds));

  it.each(['', '15', 'm', '1.5h', '-1h', '1y', '2 months', '1h30m', 'P1D'])('refuses %j with a RangeError', (input) => {
    expect(() => durationSeconds(input, 'options.x')).toThrow(RangeError);
  });

  it('refuses negative or fractional numbers (RangeError) and other types (TypeError)', () => {
    expect(() => durationSeconds(-1, 'x')).toThrow(RangeError);
    expect(() => durationSeconds(1.5, 'x')).toThrow(RangeError);
    expect(() => durationSeconds(null, 'x')).toThrow(TypeError);
    expect(() => durationSeconds({}, 'x')).toThrow(TypeError);
  });
});

describe('buildPayload', () => {
  it('sets iat to now and exp to now + maxTokenLifetime by default; options become registered claims', () => {
    expect(buildPayload({ scope: 'a' }, { issuer: 'i', subject: 's', audience: ['a', 'b'], jwtId: 'j', notBefore: '1m' }, NOW, 3600)).toEqual({
      scope: 'a', iss: 'i', sub: 's', aud: ['a', 'b'], jti: 'j', iat: NOW, nbf: NOW + 60, exp: NOW + 3600,
    });
    expect(buildPayload({}, { expiresIn: '15m' }, NOW, 3600)).toEqual({ iat: NOW, exp: NOW + 900 });
    expect(buildPayload({ exp: NOW + 10, nbf: NOW, aud: 'x' }, {}, NOW, 3600)).toEqual({ exp: NOW + 10, nbf: NOW, aud: 'x', iat: NOW });
  });

  it('enforces maxTokenLifetime as the upper bound of expiresIn and of a given exp', () => {
    expect(() => buildPayload({}, { expiresIn: 3601 }, NOW, 3600)).toThrow(RangeError);
    expect(() => buildPayload({ exp: NOW + 3601 }, {}, NOW, 3600)).toThrow(RangeError);
    expect(() => buildPayload({}, { expiresIn: 0 }, NOW, 3600)).toThrow(RangeError);
    expect(() => buildPayload({ exp: NOW }, {}, NOW, 3600)).toThrow(RangeError);
    expect(() => buildPayload({}, { notBefore: '2h' }, NOW, 3600)).toThrow(RangeError);
  });

  it('numeric dates are whole seconds; iat is ours; a claim set twice is refused', () => {
    expect(() => buildPayload({ exp: NOW + 1.5 }, {}, NOW, 3600)).toThrow(TypeError);
    expect(() => buildPayload({ nbf: '2030-01-01' }, {}, NOW, 3600)).toThrow(TypeError);
    expect(() => buildPayload({ iat: NOW }, {}, NOW, 3600)).toThrow(/iat is set by the signer/);
    expect(() => buildPayload({ sub: 'a' }, { subject: 'b' }, NOW, 3600)).toThrow(TypeError);
    expect(() => buildPayload({ exp: NOW + 5 }, { expiresIn: 5 }, NOW, 3600)).toThrow(TypeError);
    expect(() => buildPayload({ aud: [] }, {}, NOW, 3600)).toThrow(TypeError);
    expect(() => buildPayload({ iss: 1 }, {}, NOW, 3600)).toThrow(TypeError);
  });

  it('the payload must be plain JSON: no undefined, functions, bigints, NaN, Dates, class instances, cycles', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    for (const bad of [
      null, [], 'x', new Date(), new Map(), { a: undefined }, { a: () => 1 }, { a: 1n }, { a: Number.NaN }, { a: Infinity }, { a: [new Uint8Array(1)] },
      { a: Symbol('s') },
    ]) {
      expect(() => buildPayload(bad, {}, NOW, 3600), String(bad)).toThrow(TypeError);
    }
    expect(() => buildPayload(cyclic, {}, NOW, 3600)).toThrow(RangeError);
    expect(buildPayload(Object.assign(Object.create(null), { a: { b: [1, null, true] } }), {}, NOW, 60)).toMatchObject({ a: { b: [1, null, true] } });
  });
});

describe('extraHeader', () => {
  it('allows harmless extra parameters', () => {
    expect(extraHeader({ ver: 2, org: 'x' })).toEqual({ ver: 2, org: 'x' });
    expect(extraHeader(undefined)).toEqual({});
  });

  it.each(['alg', 'typ', 'kid', 'crit', 'b64', 'jku', 'jwk', 'x5u', 'x5c', 'x5t', 'x5t#S256', 'cty', 'enc', 'zip'])('refuses %s', (name) => {
    expect(() => extraHeader({ [name]: 'x' })).toThrow(TypeError);
  });
});

describe('materialFromVault', () => {
  const bytes = (b64: string | undefined) => new Uint8Array(Buffer.from(b64 ?? '', 'base64url'));

  it('EC-HSM → kty EC; a coordinate the vault sent short is left-padded to the field size; P-256K → secp256k1', () => {
    let jwk: { x?: string; y?: string } = {};
    for (let i = 0; i < 10_000; i++) {
      jwk = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
      if (bytes(jwk.x)[0] === 0) break; // about 1 key in 256
    }
    const x = bytes(jwk.x);
    expect(x[0]).toBe(0);
    const vaultKey: VaultJsonWebKey = { kty: 'EC-HSM', crv: 'P-256', x: x.subarray(1), y: bytes(jwk.y) };
    const material = materialFromVault(vaultKey, 'kid');
    expect(publicJwk(material, 'ES256', 'v1')).toEqual({ kty: 'EC', crv: 'P-256', x: jwk.x, y: jwk.y, use: 'sig', alg: 'ES256', kid: 'v1' });

    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey.export({ format: 'jwk' });
    const m1 = materialFromVault({ kty: 'EC', crv: 'P-256K', x: bytes(k1.x), y: bytes(k1.y) }, 'kid');
    expect(m1.members).toMatchObject({ kty: 'EC', crv: 'secp256k1' });
    expect(m1.shape).toEqual({ family: 'EC', crv: 'secp256k1' });
  });

  it('RSA-HSM → kty RSA; n and e lose leading zero octets', () => {
    const jwk = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' });
    const n = new Uint8Array([0, ...bytes(jwk.n)]);
    const material = materialFromVault({ kty: 'RSA-HSM', n, e: new Uint8Array([0, 1, 0, 1]) }, 'kid');
    expect(material.members).toEqual({ kty: 'RSA', n: jwk.n, e: 'AQAB' });
    expect(material.shape).toEqual({ family: 'RSA', bits: 2048 });
  });

  it('refuses oct keys and unknown curves (UnsupportedKeyTypeError) and broken material (KekUnavailableError)', () => {
    expect(() => materialFromVault({ kty: 'oct-HSM' }, 'kid')).toThrow(UnsupportedKeyTypeError);
    expect(() => materialFromVault({ kty: 'EC', crv: 'Ed25519' as 'P-256' }, 'kid')).toThrow(UnsupportedKeyTypeError);
    expect(() => materialFromVault({ kty: 'EC', crv: 'P-256', x: new Uint8Array(33).fill(1), y: new Uint8Array(32) }, 'kid')).toThrow(KekUnavailableError);
    expect(() => materialFromVault({ kty: 'EC', crv: 'P-256', x: new Uint8Array(32).fill(1), y: new Uint8Array(32).fill(1) }, 'kid')).toThrow(KekUnavailableError);
    expect(() => materialFromVault({ kty: 'RSA', n: new Uint8Array(0), e: new Uint8Array([1, 0, 1]) }, 'kid')).toThrow(KekUnavailableError);
  });
});
