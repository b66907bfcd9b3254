/**
 * Attacker-controlled strings in error messages (issue 8 item 7). The adversary writes a kid (in
 * an envelope's wrapped-key section, a key-store record, a JWT header), an `alg`, or a context
 * key holding "\n[INFO] forged" and "\u001b[2J": printed raw, it forges a log line and clears
 * the operator's terminal. Every such error must show it escaped, on one line, and cut short,
 * in `err.message` and in `String(err)` (what loggers print); the raw value stays available on
 * the error's own fields (`kekId`, `kekIds`).
 */
import { generateKeyPairSync, sign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { KeyVaultKek } from '../../src/azure/index.js';
import { toEnvelopeError } from '../../src/azure/internal/errors.js';
import {
  EnvelopeError, KekUnavailableError, KeyNotAllowedError, LocalAesKek, NoMatchingKekError,
} from '../../src/index.js';
import { encodeContext } from '../../src/format/context.js';
import { MAX_UNTRUSTED_CHARS } from '../../src/internal/escape.js';
import { unwrapWithAny } from '../../src/keys/multi.js';
import { createVerifier, JwtAlgorithmNotAllowedError, JwtInvalidError, JwtKeyNotFoundError } from '../../src/jwt/index.js';

const FORGED = '\n[INFO] forged\u001b[2J';
const TAIL = 'END-OF-ATTACKER-STRING';
/** A kid that forges a log line, clears the screen, and is far too long to show whole. */
const hostile = (prefix = 'kid') => `${prefix}${FORGED}${'A'.repeat(500)}${TAIL}`;
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;

/** One line, escaped, and cut: in the message and in String(err). */
function expectEscaped(err: unknown, { truncated = true } = {}): void {
  expect(err).toBeInstanceOf(Error);
  for (const text of [(err as Error).message, String(err)]) {
    expect(text).not.toMatch(UNSAFE);
    expect(text).toContain('\\u000a[INFO] forged\\u001b[2J');
    if (truncated) {
      expect(text).not.toContain(TAIL);
      expect(text).toContain('…');
      expect(text.length).toBeLessThan(MAX_UNTRUSTED_CHARS + 200);
    }
  }
}

const wrapped = (kekId: string) => ({ kekId, alg: 'A256KW', bytes: new Uint8Array(40) });

describe('kids in core errors', () => {
  const kek = new LocalAesKek({ id: 'local/aes/1', key: new Uint8Array(32).fill(7) });

  it('KeyNotAllowedError (a local KEK asked to unwrap under a foreign kid) shows the kid escaped; kekId keeps it raw', async () => {
    const kid = hostile();
    const err = await kek.unwrap(wrapped(kid)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyNotAllowedError);
    expect((err as KeyNotAllowedError).code).toBe('ERR_KEY_NOT_ALLOWED');
    expectEscaped(err);
    expect((err as KeyNotAllowedError).kekId).toBe(kid);
  });

  it('NoMatchingKekError (an envelope whose wrapped keys all name foreign kids) escapes and lists at most 4 of them', async () => {
    const kids = Array.from({ length: 16 }, (_, i) => hostile(`k${i}`));
    const err = await unwrapWithAny([kek], kids.map(wrapped)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NoMatchingKekError);
    expect((err as NoMatchingKekError).code).toBe('ERR_NO_MATCHING_KEK');
    expectEscaped(err, { truncated: false });
    const message = (err as Error).message;
    expect(message).not.toContain(TAIL);
    expect(message).toContain('16 in all');
    expect(message.length).toBeLessThan(4 * (MAX_UNTRUSTED_CHARS + 10) + 200);
    expect((err as NoMatchingKekError).kekIds).toEqual(kids);
  });

  it('a message built elsewhere with a raw control character is still one line (the base class escapes what is left)', () => {
    const err = new KekUnavailableError(`vault said: ${FORGED}`);
    expect(err).toBeInstanceOf(EnvelopeError);
    expectEscaped(err, { truncated: false });
  });
});

describe('kids in Azure errors', () => {
  const credential = { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) };
  const kek = new KeyVaultKek({ keyId: 'https://myvault.vault.azure.net/keys/kek', credential });

  it('KeyVaultKek.unwrap of a kid that is not a Key Vault key id, or one on another host: escaped, nothing sent', async () => {
    for (const kid of [hostile('not a url'), `https://evil.example/keys/kek/0123456789abcdef${hostile('')}`, hostile('https://evil.example/keys/kek/')]) {
      const err = await kek.unwrap({ kekId: kid, alg: 'RSA-OAEP-256', bytes: new Uint8Array(256) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(KeyNotAllowedError);
      expectEscaped(err);
    }
  });

  it('vault failures name the kid escaped (a 404 and a network error whose code is attacker-shaped)', () => {
    const rest = Object.assign(new Error('not found'), { name: 'RestError', statusCode: 404, code: `KeyNotFound${FORGED}` });
    const notFound = toEnvelopeError(rest, 'unwrapKey', hostile('https://myvault.vault.azure.net/keys/kek/'), false, 1000);
    expect(notFound.code).toBe('ERR_KEY_NOT_FOUND');
    expectEscaped(notFound);
    const network = Object.assign(new Error('reset'), { name: 'RestError', code: `ECONNRESET${FORGED}` });
    const unavailable = toEnvelopeError(network, 'getKey', hostile(), false, 1000);
    expect(unavailable.code).toBe('ERR_KEK_UNAVAILABLE');
    expectEscaped(unavailable);
  });
});

describe('token header values in JWT errors', () => {
  const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwks = { keys: [{ ...ec.publicKey.export({ format: 'jwk' }), kid: 'p256', alg: 'ES256', use: 'sig' }] };
  const verifier = createVerifier({ jwks, algorithms: ['ES256'], audience: false, now: () => 1_900_000_000_000 });
  const b64 = (text: string) => Buffer.from(text).toString('base64url');
  const signed = (header: string, payload = '{"exp":1900000600}') => {
    const input = `${b64(header)}.${b64(payload)}`;
    return `${input}.${sign('sha256', Buffer.from(input), { key: ec.privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url')}`;
  };
  const jwtKid = `kid${FORGED}${'A'.repeat(150)}${TAIL}`; // under the 256-character kid bound

  it('an unknown kid (ERR_JWT_KEY_NOT_FOUND), an unknown alg (ERR_JWT_ALG_NOT_ALLOWED), a repeated member name (ERR_JWT_INVALID)', async () => {
    const notFound = await verifier.verify(signed(JSON.stringify({ alg: 'ES256', kid: jwtKid }))).catch((e: unknown) => e);
    expect(notFound).toBeInstanceOf(JwtKeyNotFoundError);
    expectEscaped(notFound);
    const alg = await verifier.verify(signed(JSON.stringify({ alg: `HS256${FORGED}${'A'.repeat(100)}${TAIL}`, kid: 'p256' }))).catch((e: unknown) => e);
    expect(alg).toBeInstanceOf(JwtAlgorithmNotAllowedError);
    expectEscaped(alg);
    const name = JSON.stringify(`x${FORGED}${'A'.repeat(100)}${TAIL}`);
    const dup = await verifier.verify(signed(`{"alg":"ES256","kid":"p256",${name}:1,${name}:2}`)).catch((e: unknown) => e);
    expect(dup).toBeInstanceOf(JwtInvalidError);
    expectEscaped(dup);
  });

  it('a JWKS that uses one hostile kid twice: the TypeError shows it escaped', () => {
    const key = { ...jwks.keys[0]!, kid: jwtKid };
    let err: unknown;
    try {
      createVerifier({ jwks: { keys: [key, key] }, algorithms: ['ES256'], audience: false });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TypeError);
    expectEscaped(err);
  });
});

describe('context keys in argument errors', () => {
  it('a context key with control characters is escaped in the TypeError / RangeError', () => {
    const key = hostile('tenant');
    expect(() => encodeContext({ [key]: 1 as never })).toThrow(TypeError);
    for (const context of [{ [key]: 1 as never }, { [`kv-envelope:${key}`]: 'v' }, { [key]: '\ud800' }]) {
      let err: unknown;
      try {
        encodeContext(context);
      } catch (e) {
        err = e;
      }
      expectEscaped(err);
    }
  });
});
