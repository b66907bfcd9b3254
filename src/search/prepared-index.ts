/**
 * Blind index definitions and keys, memoized per encryptor. A definition's canonical encoding
 * (and its validation) is reused while the caller passes the same, unchanged options object;
 * an index key is derived once per (key record, definition). Both are pure functions of what
 * they are keyed by, so a memo can only skip work, never change a value:
 *
 * - the options memo is keyed by the object and re-checks every field it read (name, bits,
 *   aad, arity, the transform list and each custom transform's id and function) on every use;
 *   a mutated object is validated and encoded again;
 * - the key memo is keyed by the key record the encryptor authenticated and loaded (a new load
 *   is a new object: after `retireDataKey()` or the cache TTL the key is derived again).
 *
 * @module
 * @internal
 */
import type { KeyObject } from 'node:crypto';
import type { SecretKey } from '../internal/secret.js';
import { type BlindIndexOptions, blindIndexDefinition, blindIndexKeyName, deriveIndexKey } from './blind-index.js';

/** A validated definition, ready to key and compute. */
export interface IndexDefinition {
  /** The canonical encoding (the HKDF info). */
  readonly definition: Uint8Array;
  /** The encoding as base64 (a map key). */
  readonly id: string;
  /** The key record's name, `blind-index:<name>`. */
  readonly keyName: string;
  readonly bits: number;
  readonly apply: (value: string) => string;
}

interface Snapshot {
  readonly name: unknown;
  readonly bits: unknown;
  readonly aad: unknown;
  readonly transform: unknown;
  /** Each transform, and for a custom one its id and function, as read when encoded. */
  readonly parts: readonly unknown[];
  readonly arity: number;
  readonly def: IndexDefinition;
}

/** Per-encryptor memo of definitions and derived index keys. */
export class BlindIndexKeys {
  readonly #definitions = new WeakMap<object, Snapshot>();
  readonly #keys = new WeakMap<object, Map<string, KeyObject>>();

  /**
   * The definition of `options` for `arity` values.
   * @throws {TypeError | RangeError} on an invalid definition (checked again whenever it changed).
   */
  definition(options: BlindIndexOptions, arity: number): IndexDefinition {
    const memo = options !== null && typeof options === 'object' ? this.#definitions.get(options) : undefined;
    if (memo !== undefined && unchanged(memo, options, arity)) return memo.def;
    const { definition, bits, apply } = blindIndexDefinition(options, arity);
    const def = { definition, id: Buffer.from(definition).toString('base64'), keyName: blindIndexKeyName(options.name), bits, apply };
    this.#definitions.set(options, { name: options.name, bits: options.bits, aad: options.aad, transform: options.transform, parts: transformParts(options.transform), arity, def });
    return def;
  }

  /** The HMAC key of `def` under the key record `record` (its DEK must not be wiped yet). */
  key(record: { readonly dek: SecretKey }, def: IndexDefinition): KeyObject {
    let byDefinition = this.#keys.get(record);
    if (byDefinition === undefined) this.#keys.set(record, (byDefinition = new Map()));
    let key = byDefinition.get(def.id);
    if (key === undefined) byDefinition.set(def.id, (key = deriveIndexKey(record.dek.expose(), def.definition)));
    return key;
  }
}

function unchanged(s: Snapshot, o: BlindIndexOptions, arity: number): boolean {
  if (s.arity !== arity || s.name !== o.name || s.bits !== o.bits || s.aad !== o.aad || s.transform !== o.transform) return false;
  // transformParts(o.transform) compared with s.parts, without building it (this runs per value).
  const t: unknown = o.transform;
  const list: readonly unknown[] = Array.isArray(t) ? t : t === undefined ? [] : [t];
  const parts = s.parts;
  if (parts[0] !== list.length) return false;
  let j = 1;
  for (const item of list) {
    if (parts[j++] !== item) return false;
    if (item !== null && typeof item === 'object') {
      if (parts[j++] !== (item as { id?: unknown }).id || parts[j++] !== (item as { apply?: unknown }).apply) return false;
    }
  }
  return j === parts.length;
}

/** The transform list flattened to comparable values (a custom transform: itself, id, apply). */
function transformParts(transform: unknown): unknown[] {
  const list: readonly unknown[] = Array.isArray(transform) ? transform : transform === undefined ? [] : [transform];
  const out: unknown[] = [list.length];
  for (const t of list) {
    out.push(t);
    if (t !== null && typeof t === 'object') out.push((t as { id?: unknown }).id, (t as { apply?: unknown }).apply);
  }
  return out;
}
