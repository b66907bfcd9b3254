/**
 * The envelope key schedules (docs/format.md §Keys). v2 makes two HMAC-SHA-256 calls keyed by
 * the DEK per message, where v1 made an HKDF (three HMACs) plus a header GCM:
 *
 * - contentKey = HKDF-Expand(PRK = DEK, info = contentLabel ‖ prefix ‖ tail ‖ u16 len ‖ requiredContext, L = 32)
 *              = HMAC-SHA-256(DEK, info ‖ 0x01)                                      (RFC 5869 §2.3)
 * - sectionMac = HMAC-SHA-256(DEK, sectionLabel ‖ u8 version ‖ u8 suite ‖ wrapped-key section)
 *
 * The DEK is 32 uniformly random bytes, so it serves as the PRK directly (RFC 5869 §3.3: the
 * extract step may be skipped for such keys). The labels have equal lengths and differ, so the
 * two input domains are disjoint. HMAC-SHA-256 is collision resistant in its key, so the section
 * MAC commits to the DEK; it is compared in constant time before any frame is opened.
 *
 * The section MAC leaves out the message id on purpose: it is then a function of (DEK, section)
 * alone, so an encryptor computes it once per cached DEK and a decryptor verifies it once per
 * DEK and section ({@link SectionMacs}); the message id is bound through the content key.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256 } from '@noble/hashes/sha2.js';
import type { AesGcm } from '../../aead/gcm.js';
import type { EnvelopeSuite } from '../suites.js';
import { writeU16 } from './reader.js';

/** HMAC-SHA-256 over the concatenation of `parts`, without concatenating them. */
export type HmacSha256 = (key: Uint8Array, parts: readonly Uint8Array[]) => Uint8Array;

// The digest Buffer (its own 32-byte allocation) is used as is: it never leaves the envelope code.
const nodeHmac: HmacSha256 = (key, parts) => {
  const h = createHmac('sha256', key);
  for (let i = 0; i < parts.length; i++) h.update(parts[i]!);
  return h.digest();
};

const nobleHmac: HmacSha256 = (key, parts) => {
  const h = hmac.create(sha256, key);
  for (const p of parts) h.update(p);
  return h.digest();
};

/**
 * The HMAC of an AEAD backend: node:crypto's for `'node'`, @noble/hashes' for `'noble'` (which
 * keeps the portable backend free of node:crypto in the envelope key schedule).
 */
export function hmacFor(aead: AesGcm | undefined): HmacSha256 {
  return aead?.backend.name === 'noble' ? nobleHmac : nodeHmac;
}

/**
 * v2 content key. `prefix` is `bytes[0..34)`, `tail` the header after the section MAC.
 * The HMAC input is assembled in one buffer: one native `update` costs less than six.
 * @param requiredContext - the §Context encoding of the caller's required context (≤ 16 KiB).
 */
export function contentKeyV2(mac: HmacSha256, suite: EnvelopeSuite, dek: Uint8Array, prefix: Uint8Array, tail: Uint8Array, requiredContext: Uint8Array): Uint8Array {
  const label = suite.kdfInfo;
  // From Node's buffer pool: a fresh off-heap ArrayBuffer per message cost ~5% of a 1 KiB
  // decrypt. The input holds only public header bytes and the caller's required context, and it
  // never leaves this function.
  const input = Buffer.allocUnsafe(label.length + prefix.length + tail.length + 2 + requiredContext.length + 1);
  input.set(label, 0);
  let off = label.length;
  input.set(prefix, off);
  off += prefix.length;
  input.set(tail, off);
  off = writeU16(input, off + tail.length, requiredContext.length);
  input.set(requiredContext, off);
  input[off + requiredContext.length] = 1; // HKDF-Expand's block counter (RFC 5869 §2.3)
  return mac(dek, [input]);
}

/** v2 section MAC of an encoded wrapped-key section. */
export function sectionMacV2(mac: HmacSha256, suite: EnvelopeSuite, dek: Uint8Array, section: Uint8Array): Uint8Array {
  return mac(dek, [suite.sectionLabel, Uint8Array.of(suite.version, suite.id), section]);
}

/** Constant-time check of a stored v2 section MAC. */
export function sectionMacMatches(mac: HmacSha256, suite: EnvelopeSuite, dek: Uint8Array, section: Uint8Array, stored: Uint8Array): boolean {
  const expected = sectionMacV2(mac, suite, dek, section);
  return expected.length === stored.length && timingSafeEqual(expected, stored);
}

/**
 * Section MACs memoized per DEK (the last section seen with each DEK array, held weakly): a
 * cached DEK encrypts and decrypts many messages with one section, so the MAC is computed or
 * verified once. The memo keeps `section ‖ MAC` in one buffer, as the header lays them out: a
 * decrypt hit is one constant-time compare of the header's section and stored MAC against it
 * (equal exactly when the section is the same and the stored MAC is the one computed before).
 * One instance per client.
 */
export class SectionMacs {
  readonly #mac: HmacSha256;
  readonly #byDek = new WeakMap<Uint8Array, { readonly suite: EnvelopeSuite; readonly sealed: Uint8Array; readonly section: Uint8Array; readonly mac: Uint8Array }>();

  constructor(mac: HmacSha256) {
    this.#mac = mac;
  }

  /** The section MAC of `section` under `dek`. */
  compute(suite: EnvelopeSuite, dek: Uint8Array, section: Uint8Array): Uint8Array {
    const hit = this.#byDek.get(dek);
    if (
      hit !== undefined && hit.suite === suite && hit.section.length === section.length && timingSafeEqual(hit.section, section)
    ) {
      return hit.mac;
    }
    const mac = sectionMacV2(this.#mac, suite, dek, section);
    const sealed = new Uint8Array(section.length + SECTION_MAC_BYTES);
    sealed.set(section, 0);
    sealed.set(mac, section.length);
    this.#byDek.set(dek, { suite, sealed, section: sealed.subarray(0, section.length), mac: sealed.subarray(section.length) });
    return mac;
  }

  /**
   * True when `sealedSection` (a section followed by its stored 32-byte MAC, as in a v2 header)
   * carries the section MAC under `dek` (constant time in the MAC).
   */
  verify(suite: EnvelopeSuite, dek: Uint8Array, sealedSection: Uint8Array): boolean {
    const hit = this.#byDek.get(dek);
    if (hit !== undefined && hit.suite === suite && hit.sealed.length === sealedSection.length && timingSafeEqual(hit.sealed, sealedSection)) return true;
    if (sealedSection.length < SECTION_MAC_BYTES) return false;
    const n = sealedSection.length - SECTION_MAC_BYTES;
    return timingSafeEqual(this.compute(suite, dek, sealedSection.subarray(0, n)), sealedSection.subarray(n));
  }
}

const SECTION_MAC_BYTES = 32;

/** The content key and the key commitment of one v1 message. */
export interface V1Keys {
  readonly contentKey: Uint8Array;
  readonly commitment: Uint8Array;
}

/** v1 (read-only): HKDF-SHA-256(ikm = DEK, salt = messageId, info = suite label) → contentKey ‖ commitment. */
export function keysV1(aead: AesGcm, suite: EnvelopeSuite, dek: Uint8Array, messageId: Uint8Array): V1Keys {
  const okm = aead.hkdf(dek, messageId, suite.kdfInfo, suite.contentKeyLength + suite.commitmentLength);
  return { contentKey: okm.subarray(0, suite.contentKeyLength), commitment: okm.subarray(suite.contentKeyLength) };
}
