/**
 * KeyVaultKek with the REAL @azure/keyvault-keys clients against the local vault, on both
 * transports: rotation, soft delete, disabled versions, EC refusal, the allow-list, oct-HSM and
 * RBAC. Vault-call budgets are asserted from the vault's own counters.
 */
import { KeyClient } from '@azure/keyvault-keys';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyVaultKek, type KeyVaultKekOptions } from '../../src/azure/index.js';
import { LocalKeyVault } from '../../src/local-vault/index.js';
import {
  EnvelopeClient, FieldEncryptor, KeyAccessDeniedError, KeyDisabledError, KeyNotFoundError, MemoryKeyStore, UnwrappedKeyCache,
  readWrappedKeys,
} from '../../src/index.js';
import { encodeWrappedKeys, parseComplete, parseHeader } from '../../src/format/envelope.js';

const text = (s: string) => new TextEncoder().encode(s);
const str = (b: Uint8Array) => new TextDecoder().decode(b);
let seq = 0;
const keyName = (p: string) => `${p}-${++seq}`;

describe.each(['in-process', 'https'] as const)('KeyVaultKek against the local vault (%s)', (transport) => {
  let vault: LocalKeyVault;
  let keyClient: KeyClient;

  // oct-HSM keys exist on Managed HSM only.
  let hsm: LocalKeyVault;
  let hsmClient: KeyClient;

  beforeAll(async () => {
    vault = await LocalKeyVault.start({ transport });
    keyClient = new KeyClient(vault.url, vault.credential(), vault.clientOptions);
    hsm = await LocalKeyVault.start({ transport, flavour: 'managed-hsm' });
    hsmClient = new KeyClient(hsm.url, hsm.credential(), hsm.clientOptions);
  });
  afterAll(async () => {
    await vault.close();
    await hsm.close();
  });

  function kek(name: string, extra: Partial<KeyVaultKekOptions> = {}, on: LocalKeyVault = vault): KeyVaultKek {
    return new KeyVaultKek({
      vaultUrl: on.url, keyName: name, credential: on.credential(), clientOptions: on.clientOptions,
      retry: { baseDelayMs: 5, maxDelayMs: 50 }, ...extra,
    });
  }
  /** Decrypts on a fresh KEK (cold clients) with a fresh cache. */
  const coldDecrypt = (name: string, envelope: Uint8Array) =>
    new EnvelopeClient({ keks: kek(name), unwrappedKeyCache: new UnwrappedKeyCache() }).decrypt(envelope);

  it('follows a rotation: new envelopes and DEK records name the new version, both versions decrypt, 0 wrapKey calls', async () => {
    const name = keyName('rot');
    const v1 = await keyClient.createRsaKey(name, { keySize: 2048 });
    const k = kek(name);
    const envelopes = new EnvelopeClient({ keks: k, cache: false });
    const store = new MemoryKeyStore();
    const fields = new FieldEncryptor({ keks: k, keyStore: store });
    vault.stats.reset();

    const e1 = await envelopes.encrypt(text('before rotation'));
    const f1 = await fields.encryptText('ssn-1', { aad: 'users.ssn#1' });
    const v2 = await keyClient.rotateKey(name);
    expect(await k.refresh()).toBe(v2.id);
    fields.retireActiveDek();
    const e2 = await envelopes.encrypt(text('after rotation'));
    const f2 = await fields.encryptText('ssn-2', { aad: 'users.ssn#2' });

    expect(readWrappedKeys(e1).map((w) => w.kekId)).toEqual([v1.id]);
    expect(readWrappedKeys(e2).map((w) => [w.kekId, w.alg])).toEqual([[v2.id, 'RSA-OAEP-256']]);
    expect(vault.stats.byOperation.wrapKey ?? 0).toBe(0);
    expect(vault.stats.total).toBe(3); // + rotateKey
    expect(vault.stats.byOperation.getKey).toBe(2); // the first resolution and refresh(); no other vault call
    expect(str((await coldDecrypt(name, e1)).plaintext)).toBe('before rotation');
    expect(str((await coldDecrypt(name, e2)).plaintext)).toBe('after rotation');
    const coldFields = new FieldEncryptor({ keks: kek(name), keyStore: store });
    expect(await coldFields.decryptText(f1, { aad: 'users.ssn#1' })).toBe('ssn-1');
    expect(await coldFields.decryptText(f2, { aad: 'users.ssn#2' })).toBe('ssn-2');
  });

  it('soft delete: a cold decrypt fails with KeyNotFoundError; after recovery it works', async () => {
    const name = keyName('del');
    await keyClient.createRsaKey(name);
    const envelope = await new EnvelopeClient({ keks: kek(name) }).encrypt(text('keep me'));
    await (await keyClient.beginDeleteKey(name, { intervalInMs: 10 })).pollUntilDone();
    const k = kek(name);
    const client = () => new EnvelopeClient({ keks: k, unwrappedKeyCache: new UnwrappedKeyCache() });
    const err = await client().decrypt(envelope).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyNotFoundError);
    expect((err as Error).message).toContain(`/keys/${name}/`);
    await (await keyClient.beginRecoverDeletedKey(name, { intervalInMs: 10 })).pollUntilDone();
    expect(str((await client().decrypt(envelope)).plaintext)).toBe('keep me'); // same KEK: the failed client was dropped
  });

  it('a disabled version gives KeyDisabledError naming the kid; re-enabled, the same KEK works again', async () => {
    const name = keyName('dis');
    const v1 = await keyClient.createRsaKey(name);
    const k = kek(name);
    const envelope = await new EnvelopeClient({ keks: k }).encrypt(text('x'));
    await keyClient.updateKeyProperties(name, v1.properties.version!, { enabled: false });
    const fresh = () => new EnvelopeClient({ keks: k, unwrappedKeyCache: new UnwrappedKeyCache() });
    const err = await fresh().decrypt(envelope).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyDisabledError);
    expect((err as Error).message).toContain(v1.id!);
    // Wraps: the only version is disabled, so the next resolution has nothing to use.
    await expect(kek(name).wrap(new Uint8Array(32))).rejects.toMatchObject({ code: 'ERR_KEY_DISABLED' });
    await keyClient.updateKeyProperties(name, v1.properties.version!, { enabled: true });
    expect(str((await fresh().decrypt(envelope)).plaintext)).toBe('x');
  });

  it('unwraps with an expired version (the service allows it, the SDK pre-check does not) but never wraps with it', async () => {
    const name = keyName('exp');
    const v1 = await keyClient.createRsaKey(name);
    const envelope = await new EnvelopeClient({ keks: kek(name) }).encrypt(text('old data'));
    await keyClient.updateKeyProperties(name, v1.properties.version!, { expiresOn: new Date(Date.now() - 60_000) });
    vault.stats.reset();
    expect(str((await coldDecrypt(name, envelope)).plaintext)).toBe('old data');
    // GET (the SDK then refuses locally: "expired at"), then the remote-only client's own challenge and unwrap.
    expect(vault.stats.byOperation).toEqual({ getKey: 1, unwrapKey: 1 });
    expect(vault.stats.challenges).toBe(2);
    await expect(kek(name).wrap(new Uint8Array(32))).rejects.toMatchObject({ code: 'ERR_KEY_DISABLED', message: expect.stringContaining(name) });
  });

  it('wraps with the newest enabled version when the latest is disabled', async () => {
    const name = keyName('roll');
    const v1 = await keyClient.createRsaKey(name);
    const v2 = await keyClient.rotateKey(name);
    await keyClient.updateKeyProperties(name, v2.properties.version!, { enabled: false });
    expect((await kek(name).wrap(new Uint8Array(32))).kekId).toBe(v1.id);
  });

  it('refuses an EC key with ERR_UNSUPPORTED_KEY_TYPE, on wrap and on unwrap', async () => {
    const name = keyName('ec');
    const ec = await keyClient.createEcKey(name, { curve: 'P-256' });
    await expect(kek(name).wrap(new Uint8Array(32))).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_KEY_TYPE', message: expect.stringMatching(/can only sign/) });
    await expect(kek(name).unwrap({ kekId: ec.id!, alg: 'RSA-OAEP-256', bytes: new Uint8Array(256) })).rejects.toMatchObject({ code: 'ERR_UNSUPPORTED_KEY_TYPE' });
    expect(() => kek(name, { key: ec, vaultUrl: undefined, keyName: undefined })).toThrow(expect.objectContaining({ code: 'ERR_UNSUPPORTED_KEY_TYPE' }));
  });

  it('refuses an envelope whose kekId names another host or key with ERR_KEY_NOT_ALLOWED, sending nothing', async () => {
    const name = keyName('allow');
    await keyClient.createRsaKey(name);
    const envelope = await new EnvelopeClient({ keks: kek(name) }).encrypt(text('x'));
    const [w] = readWrappedKeys(envelope);
    const version = w!.kekId.split('/').pop();
    for (const kekId of [`https://attacker.example/keys/${name}/${version}`, `${vault.url}/keys/other/${version}`]) {
      // The attacker holds no DEK: the section is spliced in byte for byte (its MAC no longer
      // matches, but the allow-list refuses the kekId before any vault call or MAC check).
      const h = parseComplete(() => parseHeader(envelope));
      const forged = Buffer.concat([envelope.subarray(0, h.wrappedSectionStart), encodeWrappedKeys([{ ...w!, kekId }]), envelope.subarray(h.wrappedSectionEnd)]);
      const k = kek(name);
      const before = vault.stats.total + vault.stats.challenges;
      await expect(new EnvelopeClient({ keks: k }).decrypt(forged)).rejects.toMatchObject({ code: 'ERR_KEY_NOT_ALLOWED', kekId });
      expect(vault.stats.total + vault.stats.challenges).toBe(before);
    }
  });

  it('round-trips with an oct-HSM key on Managed HSM (A256KW, remote wrap and unwrap)', async () => {
    const name = keyName('oct');
    await hsmClient.createOctKey(name, { hsm: true, keySize: 256 });
    const k = kek(name, {}, hsm);
    hsm.stats.reset();
    const envelope = await new EnvelopeClient({ keks: k }).encrypt(text('aes kw'));
    const [w] = readWrappedKeys(envelope);
    expect(w!.alg).toBe('A256KW');
    expect(w!.bytes).toHaveLength(40);
    expect(hsm.stats.byOperation.wrapKey).toBe(1);
    const cold = new EnvelopeClient({ keks: kek(name, {}, hsm), unwrappedKeyCache: new UnwrappedKeyCache() });
    expect(str((await cold.decrypt(envelope)).plaintext)).toBe('aes kw');
    const k128 = await hsmClient.createOctKey(keyName('oct128'), { hsm: true, keySize: 128 });
    const small = kek(k128.name, { octWrapAlgorithm: 'A128KW' }, hsm);
    expect(await small.unwrap(await small.wrap(new Uint8Array(32).fill(7)))).toEqual(new Uint8Array(32).fill(7));
  });

  it('RBAC: a Crypto Service Encryption User can wrap and unwrap; an unassigned principal is denied', async () => {
    const name = keyName('rbac');
    await keyClient.createRsaKey(name);
    vault.assignRole('app-service', 'Key Vault Crypto Service Encryption User', name);
    const as = (principal: string) => kek(name, { credential: vault.credential(principal) });
    const envelope = await new EnvelopeClient({ keks: as('app-service') }).encrypt(text('rbac'));
    expect(str((await new EnvelopeClient({ keks: as('app-service') }).decrypt(envelope)).plaintext)).toBe('rbac');
    await expect(as('stranger').wrap(new Uint8Array(32))).rejects.toBeInstanceOf(KeyAccessDeniedError);
    await expect(new EnvelopeClient({ keks: as('stranger') }).decrypt(envelope)).rejects.toBeInstanceOf(KeyAccessDeniedError);
  });
});
