/**
 * JWTs across machines, with the real JwtSigner against the in-process local vault and injected
 * clocks:
 * - clock skew: an issuer whose clock runs ahead of the verifier's (300 ms, 1 s, 10 min) and
 *   tokens issued at every point of a second. Before: 300 ms ahead → ~30 % of fresh tokens
 *   refused as "issued in the future" while jose and jsonwebtoken accept them.
 * - rotation right after creation: a key rotated within publishLeadTime of its creation switched
 *   signing to the new version at once, so a JWKS client holding the JWKS from before the
 *   rotation (jose refetches at most every 30 s) refused the new tokens.
 */
import { KeyClient } from '@azure/keyvault-keys';
import * as jose from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createVerifier, JwtError, JwtSigner } from '../../src/jwt/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { ManualClock } from '../helpers/local-vault.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const kidOf = (token: string): string => JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid;
let seq = 0;

describe('JWTs across machines (in-process vault, injected clocks)', () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let vault: LocalKeyVault;
  let keyClient: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport: 'in-process', clock: clock.now });
    keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  async function newKey(options: { aheadMs?: number; publishLeadTime?: string } = {}) {
    const name = `skew-${++seq}`;
    clock.ms = Math.ceil(clock.ms / 1000) * 1000 + 1000; // Key Vault's timestamps are whole seconds
    const v1 = (await keyClient.createEcKey(name, { curve: 'P-256' })).properties.version!;
    const aheadMs = options.aheadMs ?? 0;
    const signer = new JwtSigner({
      vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions,
      now: () => clock.ms + aheadMs, publishLeadTime: options.publishLeadTime ?? '1h', refreshInterval: '5m',
    });
    return { name, signer, v1 };
  }

  describe('the issuer\'s clock runs ahead of the verifier\'s', () => {
    /** Signs at `count` evenly spaced instants of one second (issuer ahead by `aheadMs`), verifies each at once; returns the refusals. */
    async function refusals(aheadMs: number, verifierOptions: { maxTokenAge?: string; clockTolerance?: number }, notBefore?: number) {
      const { signer } = await newKey({ aheadMs, publishLeadTime: '0s' });
      const jwks = await signer.jwks();
      const ours = createVerifier({ jwks, algorithms: ['ES256'], audience: 'orders', now: clock.now, ...verifierOptions });
      const base = Math.ceil(clock.ms / 1000) * 1000 + 10_000;
      const errors: unknown[] = [];
      const joseErrors: unknown[] = [];
      for (let i = 0; i < 50; i++) {
        clock.ms = base + i * 20;
        const token = await signer.sign({ i }, { audience: 'orders', expiresIn: '10m', ...(notBefore === undefined ? {} : { notBefore }) });
        await ours.verify(token).catch((e: unknown) => errors.push(e));
        await jose.jwtVerify(token, jose.createLocalJWKSet(jwks), {
          algorithms: ['ES256'], audience: 'orders', currentDate: new Date(clock.ms), ...verifierOptions,
        }).catch((e: unknown) => joseErrors.push(e));
      }
      for (const e of errors) expect(e).toBeInstanceOf(JwtError);
      return { ours: errors.length, jose: joseErrors.length, codes: errors.map((e) => (e as JwtError).code) };
    }

    it('300 ms ahead, tokens with iat (and nbf = iat): none refused at any point of the second (jose: none refused without nbf)', async () => {
      expect((await refusals(300, {})).ours).toBe(0);
      expect((await refusals(300, {})).jose).toBe(0);
      // nbf = iat: "not yet" compares with the current second's end (NumericDates are whole seconds).
      expect((await refusals(300, {}, 0)).ours).toBe(0);
    });

    it('1 s and 10 min ahead: a future iat alone is no reason to refuse (as jose and jsonwebtoken)', async () => {
      expect((await refusals(1000, {})).ours).toBe(0);
      expect((await refusals(10 * MIN, {})).ours).toBe(0);
      expect((await refusals(10 * MIN, {})).jose).toBe(0);
    });

    it('with maxTokenAge, a future iat stretches the window: refused beyond clockTolerance (ERR_JWT_NOT_YET_VALID), sub-second skew is not', async () => {
      expect((await refusals(300, { maxTokenAge: '5m' })).ours).toBe(0);
      const far = await refusals(10 * MIN, { maxTokenAge: '5m' });
      expect(far.ours).toBe(50);
      expect(new Set(far.codes)).toEqual(new Set(['ERR_JWT_NOT_YET_VALID']));
      expect(far.jose).toBe(50); // jose refuses these too
      expect((await refusals(10 * MIN, { maxTokenAge: '5m', clockTolerance: 11 * 60 })).ours).toBe(0);
    });
  });

  describe('a key rotated within publishLeadTime of its creation', () => {
    it('keeps signing with the version already in use until the new one has been published for the lead time', async () => {
      const { name, signer, v1 } = await newKey({ publishLeadTime: '1h' });
      const created = clock.ms;
      const first = await signer.sign({ n: 0 }, { audience: 'orders' });
      expect(kidOf(first)).toBe(v1); // a brand-new key signs at once: nothing older exists

      // A JWKS client fetched the set now and will not refetch for a while (jose: 30 s cooldown; caches: minutes).
      const staleJwks = jose.createLocalJWKSet(await signer.jwks());

      clock.ms = created + 10 * MIN;
      const v2 = (await keyClient.rotateKey(name)).properties.version!;
      await signer.refresh();
      expect((await signer.versions()).map((v) => [v.version, v.state])).toEqual([[v1, 'active'], [v2, 'pending']]);
      clock.ms += 1000;
      const afterRotation = await signer.sign({ n: 1 }, { audience: 'orders' });
      expect(kidOf(afterRotation)).toBe(v1); // before: v2 signed at once
      const verified = await jose.jwtVerify(afterRotation, staleJwks, { algorithms: ['ES256'], audience: 'orders', currentDate: new Date(clock.ms) });
      expect(verified.payload.n).toBe(1);

      // v1's own lead time passing changes nothing; v2 signs once IT has been published for the lead time.
      clock.ms = created + HOUR + 5 * MIN;
      expect(kidOf(await signer.sign({ n: 2 }, { audience: 'orders' }))).toBe(v1);
      const jwksBeforeSwitch = jose.createLocalJWKSet(await signer.jwks()); // holds v2 (published since the rotation)
      clock.ms = created + 10 * MIN + HOUR - 1000;
      expect(kidOf(await signer.sign({ n: 3 }, { audience: 'orders' }))).toBe(v1);
      clock.ms = created + 10 * MIN + HOUR;
      const byV2 = await signer.sign({ n: 4 }, { audience: 'orders' });
      expect(kidOf(byV2)).toBe(v2);
      expect((await jose.jwtVerify(byV2, jwksBeforeSwitch, { audience: 'orders', currentDate: new Date(clock.ms) })).payload.n).toBe(4);
      expect((await signer.versions()).map((v) => v.state)).toEqual(['retired', 'active']);
    });

    it('two rotations inside the first lead time: the oldest published version keeps signing, each new one waits its turn', async () => {
      const { name, signer, v1 } = await newKey({ publishLeadTime: '1h' });
      const created = clock.ms;
      expect(kidOf(await signer.sign({}))).toBe(v1);
      clock.ms = created + 5 * MIN;
      const v2 = (await keyClient.rotateKey(name)).properties.version!;
      clock.ms = created + 10 * MIN;
      const v3 = (await keyClient.rotateKey(name)).properties.version!;
      await signer.refresh();
      expect(kidOf(await signer.sign({}))).toBe(v1);
      clock.ms = created + 5 * MIN + HOUR;
      expect(kidOf(await signer.sign({}))).toBe(v2);
      clock.ms = created + 10 * MIN + HOUR;
      expect(kidOf(await signer.sign({}))).toBe(v3);
    });
  });
});
