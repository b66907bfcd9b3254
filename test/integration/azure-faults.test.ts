/**
 * KeyVaultKek under injected faults (429 with and without Retry-After, 503, latency, dropped
 * connections) and under a stampede of cold decrypts, against the local vault on both transports.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek, type KeyVaultKekOptions } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import { EnvelopeClient, EnvelopeError, UnwrappedKeyCache } from '../../src/index.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);

/** Runs `fn` over `items` with at most `limit` in flight. */
async function pool<T, R>(items: readonly T[], limit: number, fn: (item: T, i: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!, i);
    }
  }));
  return out;
}

describe.each(['in-process', 'https'] as const)('KeyVaultKek under faults (%s)', (transport) => {
  let vault: LocalKeyVault;
  const name = 'faulty';

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    await new KeyClient(vault.url, vault.credential(), vault.clientOptions).createRsaKey(name);
  });
  afterEach(() => vault.faults.clear());
  afterAll(() => vault.close());

  const kek = (extra: Partial<KeyVaultKekOptions> = {}) => new KeyVaultKek({
    vaultUrl: vault.url, keyName: name, credential: vault.credential(), clientOptions: vault.clientOptions,
    retry: { maxRetries: 5, baseDelayMs: 10, maxDelayMs: 100 }, ...extra,
  });

  it('200 cold decrypts under a 30% fault mix each return the right plaintext or an EnvelopeError', async () => {
    const messages = Array.from({ length: 200 }, (_, i) => `message ${i}`);
    const encryptor = new EnvelopeClient({ keks: kek(), cache: false }); // one DEK per envelope
    const envelopes = await Promise.all(messages.map((m) => encryptor.encrypt(text(m))));
    // First match wins, so the shares are conditional; together they fire on ~30% of requests.
    vault.faults.rate(0.08, { type: '429' });
    vault.faults.rate(0.06, { type: '429', retryAfterSeconds: 0 });
    vault.faults.rate(0.01, { type: '429', retryAfterSeconds: 1 });
    vault.faults.rate(0.06, { type: '503' });
    vault.faults.rate(0.02, { type: '503', retryAfterSeconds: 0 });
    vault.faults.rate(0.05, { type: 'delay', ms: 20 });
    vault.faults.rate(0.05, { type: 'reset' });
    const injectedBefore = vault.faults.injected;

    const outcomes = await pool(envelopes, 25, async (envelope, i) => {
      const client = new EnvelopeClient({ keks: kek(), unwrappedKeyCache: new UnwrappedKeyCache() });
      try {
        const { plaintext } = await client.decrypt(envelope);
        return str(plaintext) === messages[i] ? 'ok' : 'CORRUPTED';
      } catch (err) {
        return err instanceof EnvelopeError ? err.code : `UNEXPECTED ${String(err)}`;
      }
    });
    const tally: Record<string, number> = {};
    for (const o of outcomes) tally[o] = (tally[o] ?? 0) + 1;
    expect(vault.faults.injected - injectedBefore).toBeGreaterThan(50);
    expect(Object.keys(tally).every((k) => k === 'ok' || k === 'ERR_KEK_UNAVAILABLE'), JSON.stringify(tally)).toBe(true);
    // A decrypt fails only when all 6 attempts hit a fault (~0.1-2% each: a cold attempt is a GET
    // and an unwrap); measured 0-1 failures per 200.
    expect(tally.ok, JSON.stringify(tally)).toBeGreaterThanOrEqual(190);
  });

  it('a call slower than timeoutMs fails with ERR_KEK_UNAVAILABLE, and the next one works', async () => {
    const envelope = await new EnvelopeClient({ keks: kek() }).encrypt(text('slow'));
    vault.faults.next(1, { type: 'delay', ms: 2_000, operations: ['unwrapKey'] });
    const k = kek({ timeoutMs: 200, retry: { maxRetries: 0 } });
    const started = Date.now();
    await expect(new EnvelopeClient({ keks: k }).decrypt(envelope)).rejects.toMatchObject({
      code: 'ERR_KEK_UNAVAILABLE', message: expect.stringMatching(/timed out after 200 ms/),
    });
    expect(Date.now() - started).toBeLessThan(1_500);
    expect(str((await new EnvelopeClient({ keks: k }).decrypt(envelope)).plaintext)).toBe('slow');
  });

  it('gives up after maxRetries on a 429 without Retry-After, sending exactly 1 + maxRetries requests', async () => {
    const envelope = await new EnvelopeClient({ keks: kek() }).encrypt(text('throttled'));
    const k = kek({ retry: { maxRetries: 2, baseDelayMs: 1, maxDelayMs: 2 } });
    await k.refresh(); // warm the pipeline (challenge) first
    vault.faults.next(10, { type: '429', operations: ['getKey'] });
    vault.stats.reset();
    await expect(new EnvelopeClient({ keks: k }).decrypt(envelope)).rejects.toMatchObject({ code: 'ERR_KEK_UNAVAILABLE' });
    expect(vault.stats.byOperation.getKey).toBe(3);
  });

  it('1,000 concurrent cold decrypts sharing one DEK make exactly 1 unwrapKey call', async () => {
    const encryptor = new EnvelopeClient({ keks: kek() }); // DEK reuse on: one DEK for all
    const envelopes = await Promise.all(Array.from({ length: 1000 }, (_, i) => encryptor.encrypt(text(`m${i}`))));
    vault.stats.reset();
    const cold = new EnvelopeClient({ keks: kek(), unwrappedKeyCache: new UnwrappedKeyCache() });
    const plaintexts = await Promise.all(envelopes.map(async (e) => str((await cold.decrypt(e)).plaintext)));
    expect(plaintexts.every((p, i) => p === `m${i}`)).toBe(true);
    expect(vault.stats.byOperation).toEqual({ getKey: 1, unwrapKey: 1 }); // the cold client's one GET, one unwrap
    expect(vault.stats.challenges).toBe(1);
  });
});
