import type { KeyEncryptionKey } from './kek.js';
import { Limits } from '../format/limits.js';

/** Validates the `keks` option (one KEK or a non-empty array of them) and returns an array. */
export function normalizeKeks(keks: unknown, name: string): readonly KeyEncryptionKey[] {
  const list = Array.isArray(keks) ? [...keks] : [keks];
  if (list.length === 0) throw new RangeError(`${name} must name at least one key-encryption key`);
  if (list.length > Limits.MAX_WRAPPED_KEYS) throw new RangeError(`${name} may name at most ${Limits.MAX_WRAPPED_KEYS} keys`);
  list.forEach((k, i) => {
    const ok = k !== null && typeof k === 'object' && typeof k.wrap === 'function' && typeof k.unwrap === 'function' && typeof k.matches === 'function' && typeof k.id === 'string';
    if (!ok) throw new TypeError(`${name}[${i}] must implement KeyEncryptionKey (id, wrap, unwrap, matches)`);
  });
  const ids = new Set(list.map((k: KeyEncryptionKey) => k.id));
  if (ids.size !== list.length) throw new RangeError(`${name} names the same key twice`);
  return Object.freeze(list as KeyEncryptionKey[]);
}
