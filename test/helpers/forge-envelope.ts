import { type KeyEncryptionKey, type WrappedKey, readWrappedKeys, replaceWrappedKeys } from '../../src/index.js';

type Replace = (envelope: Uint8Array, wrappedKeys: readonly WrappedKey[], options?: { dek?: Uint8Array }) => Uint8Array;

/**
 * `envelope` with its wrapped-key section replaced by `wrappedKeys`, as made by a party that
 * knows the DEK (for instance the attacker who made the envelope with an RSA KEK's public key,
 * then added entries to waste our vault calls): the section is re-authenticated with the DEK
 * where the format authenticates it, so only the unwraps can fail. `kek` opens the first entry.
 */
export async function withWrappedKeys(envelope: Uint8Array, wrappedKeys: readonly WrappedKey[], kek: KeyEncryptionKey): Promise<Uint8Array> {
  const dek = await kek.unwrap(readWrappedKeys(envelope)[0]!);
  try {
    return (replaceWrappedKeys as Replace)(envelope, wrappedKeys, { dek });
  } finally {
    dek.fill(0);
  }
}
