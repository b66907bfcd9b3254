/**
 * Properties of the verifier on tokens signed through the local vault (ES256, ES256K, RS256,
 * PS256):
 * - any single-character change anywhere in a token (header, payload, signature, dots) fails
 *   verification with a JwtError, never another error type;
 * - the verifier is total: arbitrary strings and arbitrary three-segment base64url strings are
 *   refused with a JwtError;
 * - the untouched tokens verify.
 */
import { KeyClient } from '@azure/keyvault-keys';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, type JwsAlgorithm, JwtError, JwtSigner, type JwtVerifier } from '../../src/jwt/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';

const ALGS: { alg: JwsAlgorithm; create: (c: KeyClient, name: string) => Promise<unknown> }[] = [
  { alg: 'ES256', create: (c, n) => c.createEcKey(n, { curve: 'P-256' }) },
  { alg: 'ES256K', create: (c, n) => c.createEcKey(n, { curve: 'P-256K' }) },
  { alg: 'RS256', create: (c, n) => c.createRsaKey(n, { keySize: 2048 }) },
  { alg: 'PS256', create: (c, n) => c.createRsaKey(n, { keySize: 2048 }) },
];
/** Replacement characters: the base64url alphabet, separators, padding, standard-base64 and non-ASCII. */
const CHARS = [...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_', '.', '=', '+', '/', ' ', '\u00e9', '\u0000', '\ud800'];

async function rejection(verifier: JwtVerifier, token: string): Promise<unknown> {
  return verifier.verify(token).then(() => 'accepted', (err: unknown) => err);
}

describe('JWT verifier properties (tokens signed by the local vault)', () => {
  let vault: LocalKeyVault;
  let verifier: JwtVerifier;
  const tokens: string[] = [];

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport: 'in-process' });
    const keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    const keys: unknown[] = [];
    for (const { alg, create } of ALGS) {
      const name = `prop-${alg.toLowerCase()}`;
      await create(keyClient, name);
      const signer = new JwtSigner({ vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions, algorithm: alg });
      tokens.push(await signer.sign({ sub: 'user-1', scope: ['a', 'b'], admin: false }, { audience: 'api', issuer: 'https://issuer.example' }));
      keys.push(...(await signer.jwks()).keys);
    }
    verifier = createVerifier({ jwks: { keys: keys as never }, algorithms: ALGS.map((a) => a.alg), audience: 'api', issuer: 'https://issuer.example' });
  });
  afterAll(() => vault.close());

  it('the untouched tokens verify', async () => {
    for (const token of tokens) expect((await verifier.verify(token)).payload.sub).toBe('user-1');
  });

  it('any single-character change fails with a JwtError', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.nat(), fc.constantFrom(...CHARS), async (which, at, char) => {
        const token = tokens[which % tokens.length]!;
        const i = at % token.length;
        fc.pre(token[i] !== char);
        const err = await rejection(verifier, token.slice(0, i) + char + token.slice(i + 1));
        expect(err).toBeInstanceOf(JwtError);
      }),
      { numRuns: 3000 },
    );
  });

  it('every position of every token, changed to a neighbouring base64url character, fails', async () => {
    let checked = 0;
    for (const token of tokens) {
      for (let i = 0; i < token.length; i++) {
        const c = token[i]!;
        const other = c === '.' ? 'A' : c === 'A' ? 'B' : c === '_' ? '-' : String.fromCharCode(c.charCodeAt(0) - 1).replace(/[^A-Za-z0-9_-]/, 'A');
        const err = await rejection(verifier, token.slice(0, i) + (other === c ? 'Q' : other) + token.slice(i + 1));
        expect(err, `position ${i}`).toBeInstanceOf(JwtError);
        checked++;
      }
    }
    expect(checked).toBe(tokens.reduce((n, t) => n + t.length, 0));
  });

  it('is total: arbitrary strings and arbitrary base64url triples are refused with a JwtError', async () => {
    const segment = fc.stringMatching(/^[A-Za-z0-9_-]{0,80}$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.tuple(segment, segment, segment).map((s) => s.join('.'))), async (text) => {
        expect(await rejection(verifier, text)).toBeInstanceOf(JwtError);
      }),
      { numRuns: 2000 },
    );
  });

  it('JSON-valid headers with arbitrary values never make the verifier throw anything but a JwtError', async () => {
    const [, payload, signature] = tokens[0]!.split('.');
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), fc.jsonValue(), async (alg, kid) => {
        const header = Buffer.from(JSON.stringify({ alg, kid, typ: 'JWT' })).toString('base64url');
        expect(await rejection(verifier, `${header}.${payload}.${signature}`)).toBeInstanceOf(JwtError);
      }),
      { numRuns: 1000 },
    );
  });
});
