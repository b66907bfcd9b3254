/**
 * Helpers of the re-wrap tests: envelope fixtures, result collection, and the byte split of an
 * envelope into "everything but the wrapped-key section" and the section itself.
 */
import { randomBytes } from 'node:crypto';
import {
  EnvelopeClient, KeyNotAllowedError, LocalAesKek, type KekOperationOptions, type KeyEncryptionKey, type WrappedKey,
} from '../../src/index.js';
import { parseComplete, parseHeader } from '../../src/format/envelope.js';
import type { EnvelopeItem } from '../../src/rewrap/index.js';

export const text = (s: string): Uint8Array => new TextEncoder().encode(s);
export const str = (b: Uint8Array): string => new TextDecoder().decode(b);

/** `n` envelopes of `item i` under `kek`, `perDek` consecutive envelopes sharing a DEK. */
export async function makeEnvelopes(kek: KeyEncryptionKey | readonly KeyEncryptionKey[], n: number, perDek = 10): Promise<EnvelopeItem[]> {
  const client = new EnvelopeClient({ keks: kek, cache: { maxMessages: perDek } });
  const items: EnvelopeItem[] = [];
  for (let i = 0; i < n; i++) items.push({ id: `item-${String(i).padStart(6, '0')}`, envelope: await client.encrypt(text(`item ${i}`)) });
  return items;
}

/** Drains an async iterable into an array. */
export async function drain<T>(source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of source) out.push(x);
  return out;
}

/** The envelope without its wrapped-key section (and, v2, its section MAC), and the section's wrapped keys. */
export function splitEnvelope(envelope: Uint8Array): { outside: Buffer; wrappedKeys: readonly WrappedKey[] } {
  const h = parseComplete(() => parseHeader(envelope));
  const outside = Buffer.concat([envelope.subarray(0, h.wrappedSectionStart), envelope.subarray(h.tailStart)]);
  return { outside, wrappedKeys: h.wrappedKeys };
}

/** An async generator over `items` that counts how many were read. */
export function countingSource<T>(items: readonly T[] | ((i: number) => T), count: number = Array.isArray(items) ? items.length : 0) {
  const state = { read: 0, returned: false };
  async function* gen(): AsyncGenerator<T> {
    try {
      for (let i = 0; i < count; i++) {
        state.read++;
        yield typeof items === 'function' ? items(i) : (items as readonly T[])[i]!;
      }
    } finally {
      state.returned = true;
    }
  }
  return { source: gen(), state };
}

/** Resolves after `ms` milliseconds. */
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * A versioned in-memory KEK shaped like KeyVaultKek: `id` is versionless, wraps name
 * `${id}/v${n}` of the version current at the last `refresh()`, any version unwraps.
 */
export class VersionedTestKek implements KeyEncryptionKey {
  readonly id: string;
  refreshes = 0;
  wraps = 0;
  unwraps = 0;
  readonly #versions: LocalAesKek[] = [];
  #current = 0;

  constructor(id = `test/kek-${randomBytes(3).toString('hex')}`) {
    this.id = id;
    this.rotate();
    this.#current = 0;
  }

  /** Adds a version; wraps keep using the old one until `refresh()`. */
  rotate(): string {
    const kek = new LocalAesKek({ id: `${this.id}/v${this.#versions.length + 1}`, key: randomBytes(32) });
    this.#versions.push(kek);
    return kek.id;
  }

  get currentKeyId(): string {
    return this.#versions[this.#current]!.id;
  }

  async refresh(): Promise<string> {
    this.refreshes++;
    this.#current = this.#versions.length - 1;
    return this.currentKeyId;
  }

  wrap(dek: Uint8Array, options?: KekOperationOptions): Promise<WrappedKey> {
    this.wraps++;
    return this.#versions[this.#current]!.wrap(dek, options);
  }

  async unwrap(wrapped: WrappedKey, options?: KekOperationOptions): Promise<Uint8Array> {
    this.unwraps++;
    const version = this.#versions.find((v) => v.id === wrapped.kekId);
    if (version === undefined) throw new KeyNotAllowedError(wrapped.kekId);
    return version.unwrap(wrapped, options);
  }

  matches(wrapped: WrappedKey): boolean {
    return typeof wrapped?.kekId === 'string' && wrapped.kekId.startsWith(`${this.id}/v`);
  }
}
