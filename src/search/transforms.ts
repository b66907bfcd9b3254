/**
 * Normalizations applied to a value before it is blind-indexed, so that `Ada@Example.com ` and
 * `ada@example.com` land in one bucket. A transform is part of the index definition: its id
 * goes into the index key derivation, so values indexed under one definition never match
 * queries made under another (a silent mismatch would look like "no rows").
 *
 * @module
 */

/** A custom normalization: a stable `id` (part of the definition) and the function. */
export interface CustomTransform {
  readonly id: string;
  readonly apply: (value: string) => string;
}

/** Built-in normalizations, by name. */
export const BUILTIN_TRANSFORMS = {
  trim: (v: string): string => v.trim(),
  lowercase: (v: string): string => v.toLowerCase(),
  uppercase: (v: string): string => v.toUpperCase(),
  nfc: (v: string): string => v.normalize('NFC'),
  nfkc: (v: string): string => v.normalize('NFKC'),
  digits: (v: string): string => v.replace(/\D+/gu, ''),
  alphanumeric: (v: string): string => v.replace(/[^\p{L}\p{N}]+/gu, ''),
} as const satisfies Record<string, (v: string) => string>;

/** A built-in name or a custom transform. */
export type BlindIndexTransform = keyof typeof BUILTIN_TRANSFORMS | CustomTransform;

/** A validated transform chain: the ids (for the definition) and the composed function. */
export interface TransformChain {
  readonly ids: readonly string[];
  readonly apply: (value: string) => string;
}

/**
 * Validates `transform` (one, a list, or undefined) into a chain applied left to right.
 * @throws {TypeError | RangeError} naming the bad element.
 */
export function resolveTransforms(transform: BlindIndexTransform | readonly BlindIndexTransform[] | undefined, name: string): TransformChain {
  const list = transform === undefined ? [] : Array.isArray(transform) ? transform : [transform as BlindIndexTransform];
  const fns: ((v: string) => string)[] = [];
  const ids: string[] = [];
  list.forEach((t, i) => {
    if (typeof t === 'string') {
      if (!Object.hasOwn(BUILTIN_TRANSFORMS, t)) {
        throw new RangeError(`${name}[${i}] must be one of ${Object.keys(BUILTIN_TRANSFORMS).join(', ')} or { id, apply }`);
      }
      fns.push(BUILTIN_TRANSFORMS[t as keyof typeof BUILTIN_TRANSFORMS]);
      ids.push(t);
    } else if (t !== null && typeof t === 'object' && typeof t.id === 'string' && t.id.length > 0 && typeof t.apply === 'function') {
      fns.push(t.apply);
      ids.push(`custom:${t.id}`);
    } else {
      throw new TypeError(`${name}[${i}] must be a built-in transform name or { id: string, apply(value) }`);
    }
  });
  return {
    ids,
    apply: (value) => {
      let v = value;
      for (const fn of fns) {
        v = fn(v);
        if (typeof v !== 'string') throw new TypeError(`a ${name} returned a non-string`);
      }
      return v;
    },
  };
}
