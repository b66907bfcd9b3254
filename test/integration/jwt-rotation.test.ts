/**
 * Rotation of a JwtSigner's key against the local vault, with one injected clock for the vault,
 * the signer and the verifiers (time travel): publish before sign, activate after the lead time,
 * retire and drop after maxTokenLifetime + clockSkew, disable = revoke at once, rotation policy,
 * nbf-gated versions, and the verifier's refresh cooldown on unknown kids.
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

describe('JwtSigner rotation (in-process vault, injected clock)', () => {
  const clock = new ManualClock(Date.UTC(2030, 0, 1));
  let vault: LocalKeyVault;
  let keyClient: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport: 'in-process', clock: clock.now });
    keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
  });
  afterAll(() => vault.close());

  async function setup(): Promise<{ name: string; signer: JwtSigner; v1: string }> {
    const name = `rot-${++seq}`;
    const v1 = (await keyClient.createEcKey(name, { curve: 'P-256' })).properties.version!;
    const signer = new JwtSigner({
      vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions, now: clock.now,
      publishLeadTime: '1h', maxTokenLifetime: '2h', clockSkew: '5m', refreshInterval: '5m',
    });
    return { name, signer, v1 };
  }
  /** jose against the signer's JWKS now, at the injected time. */
  const joseVerify = async (signer: JwtSigner, token: string, clockTolerance = 0) =>
    jose.jwtVerify(token, jose.createLocalJWKSet(await signer.jwks()), { algorithms: ['ES256'], currentDate: new Date(clock.ms), clockTolerance });
  const kids = async (signer: JwtSigner) => (await signer.jwks()).keys.map((k) => k.kid);

  it('publishes a new version before it signs, signs with it after the lead time, drops the old one after maxTokenLifetime + skew', async () => {
    const { name, signer, v1 } = await setup();
    clock.ms += 2 * HOUR; // v1 is past its own lead time
    expect(kidOf(await signer.sign({ n: 0 }))).toBe(v1);

    const v2 = (await keyClient.rotateKey(name)).properties.version!;
    const rotatedAt = clock.ms;
    await signer.refresh();
    expect(await kids(signer)).toEqual([v2, v1]); // published at once, newest first
    expect((await signer.versions()).map((v) => [v.version, v.state])).toEqual([[v1, 'active'], [v2, 'pending']]);

    clock.ms = rotatedAt + HOUR - 1000;
    const lastByV1 = await signer.sign({ n: 1 }, { expiresIn: '2h' });
    expect(kidOf(lastByV1)).toBe(v1); // the lead time is not over: v2 must not sign yet

    clock.ms = rotatedAt + HOUR;
    const firstByV2 = await signer.sign({ n: 2 });
    expect(kidOf(firstByV2)).toBe(v2);
    expect((await signer.versions()).map((v) => v.state)).toEqual(['retired', 'active']);

    // The token v1 signed just before the switch still verifies against the new JWKS, with jose and ours.
    expect((await joseVerify(signer, lastByV1)).payload.n).toBe(1);
    const verifier = createVerifier({ signer, algorithms: ['ES256'], audience: false });
    expect((await verifier.verify(lastByV1)).payload.n).toBe(1);
    expect((await verifier.verify(firstByV2)).payload.n).toBe(2);

    // v1 stopped signing at rotatedAt + 1h; it stays published for 2h (maxTokenLifetime) + 5m (skew).
    const [, status] = await signer.versions();
    expect(status?.readyAt?.getTime()).toBe(rotatedAt + HOUR);
    clock.ms = rotatedAt + HOUR + 2 * HOUR + 5 * MIN - 2000;
    expect(await kids(signer)).toEqual([v2, v1]);
    // Its exp (rotatedAt + 3h - 1s) has passed, but a verifier allowing 5 min of skew still accepts it.
    expect((await joseVerify(signer, lastByV1, 300)).payload.n).toBe(1);
    clock.ms = rotatedAt + HOUR + 2 * HOUR + 5 * MIN;
    expect(await kids(signer)).toEqual([v2]);
    expect((await signer.versions()).map((v) => v.state)).toEqual(['removed', 'active']);
    const err = await verifier.verify(lastByV1).catch((e: unknown) => e);
    expect((err as JwtError).code).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it('disabling a version revokes it at once: gone from the JWKS and the previous version signs again', async () => {
    const { name, signer, v1 } = await setup();
    clock.ms += 2 * HOUR;
    const v2 = (await keyClient.rotateKey(name)).properties.version!;
    clock.ms += 2 * HOUR;
    const byV2 = await signer.sign({ n: 1 });
    expect(kidOf(byV2)).toBe(v2);

    await keyClient.updateKeyProperties(name, v2, { enabled: false });
    vault.stats.reset();
    const byV1 = await signer.sign({ n: 2 }); // the vault refuses v2: one refresh, then v1 signs
    expect(kidOf(byV1)).toBe(v1);
    expect(vault.stats.byStatus['403']).toBe(1);
    expect(await kids(signer)).toEqual([v1]);
    const err = await createVerifier({ jwks: await signer.jwks(), algorithms: ['ES256'], audience: false }).verify(byV2).catch((e: unknown) => e);
    expect((err as JwtError).code).toBe('ERR_JWT_KEY_NOT_FOUND');
  });

  it('a brand-new key signs at once (nothing older to sign with), and an emergency rotation too', async () => {
    const { name, signer, v1 } = await setup();
    expect(kidOf(await signer.sign({ a: 1 }))).toBe(v1);
    expect((await signer.versions())[0]?.state).toBe('active');
    clock.ms += 2 * HOUR;
    // Emergency: rotate and disable the compromised version in one go.
    const v2 = (await keyClient.rotateKey(name)).properties.version!;
    await keyClient.updateKeyProperties(name, v1, { enabled: false });
    await signer.refresh();
    expect(kidOf(await signer.sign({ a: 2 }))).toBe(v2);
    expect(await kids(signer)).toEqual([v2]);
  });

  it('a version with a future nbf stays pending (published) until its nbf, even past the lead time', async () => {
    const { name, signer, v1 } = await setup();
    clock.ms += 2 * HOUR;
    const v2 = (await keyClient.rotateKey(name)).properties.version!;
    const nbf = new Date(clock.ms + 3 * HOUR);
    await keyClient.updateKeyProperties(name, v2, { notBefore: nbf });
    await signer.refresh();
    clock.ms += 2 * HOUR;
    expect(kidOf(await signer.sign({}))).toBe(v1);
    expect(await kids(signer)).toEqual([v2, v1]);
    clock.ms = nbf.getTime();
    expect(kidOf(await signer.sign({}))).toBe(v2);
  });

  it('follows versions made by the vault\'s rotation policy (picked up on the refresh interval)', async () => {
    const { name, signer, v1 } = await setup();
    await keyClient.updateKeyRotationPolicy(name, { lifetimeActions: [{ action: 'Rotate', timeAfterCreate: 'P30D' }], expiresIn: 'P90D' });
    expect(kidOf(await signer.sign({}))).toBe(v1);
    clock.advanceDays(30);
    clock.ms += 30 * MIN; // the policy rotated 30 min ago: v2 is published, pending
    const token = await signer.sign({});
    const versions = await signer.versions();
    expect(versions).toHaveLength(2);
    expect(kidOf(token)).toBe(v1);
    expect(versions[1]?.state).toBe('pending');
    clock.ms += 31 * MIN;
    expect(kidOf(await signer.sign({}))).toBe(versions[1]?.version);
  });

  it('a verifier built from the signer refreshes at most once per cooldown for unknown kids, never per token', async () => {
    const { signer } = await setup();
    const token = await signer.sign({ ok: 1 });
    const verifier = createVerifier({ signer, algorithms: ['ES256'], refreshCooldown: '30s', audience: false });
    await verifier.verify(token);
    const [h, p, s] = token.split('.');
    const withKid = (kid: string) => {
      const header = JSON.parse(Buffer.from(h!, 'base64url').toString());
      return `${Buffer.from(JSON.stringify({ ...header, kid })).toString('base64url')}.${p}.${s}`;
    };
    vault.stats.reset();
    const results = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => verifier.verify(withKid(`unknown-${i}`))));
    expect(results.every((r) => r.status === 'rejected' && (r.reason as JwtError).code === 'ERR_JWT_KEY_NOT_FOUND')).toBe(true);
    expect(vault.stats.byOperation.getKeyVersions).toBe(1);
    clock.ms += 10_000;
    await expect(verifier.verify(withKid('unknown-again'))).rejects.toMatchObject({ code: 'ERR_JWT_KEY_NOT_FOUND' });
    expect(vault.stats.byOperation.getKeyVersions).toBe(1);
    clock.ms += 21_000;
    await expect(verifier.verify(withKid('unknown-later'))).rejects.toMatchObject({ code: 'ERR_JWT_KEY_NOT_FOUND' });
    expect(vault.stats.byOperation.getKeyVersions).toBe(2);
    expect((await verifier.verify(token)).payload.ok).toBe(1); // known kids never refresh
    expect(vault.stats.byOperation.getKeyVersions).toBe(2);
  });
});
