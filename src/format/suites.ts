/**
 * Algorithm suites as a data table (resolved once; code below never switches on ids).
 * docs/format.md §Suites. A suite belongs to one envelope version: its id fixes the key schedule
 * and the header layout together, so a v1 suite id inside a v2 envelope is refused.
 */
import { utf8 } from '../internal/bytes.js';

/** Envelope format versions (the first byte). */
export const ENVELOPE_V1 = 0xe1;
export const ENVELOPE_V2 = 0xe2;
export type EnvelopeVersion = typeof ENVELOPE_V1 | typeof ENVELOPE_V2;

export interface EnvelopeSuite {
  /** The byte stored in the envelope. */
  readonly id: number;
  readonly name: string;
  /** The envelope version this suite is defined for. */
  readonly version: EnvelopeVersion;
  /** Length of the DEK the KEKs wrap. */
  readonly dekLength: number;
  /** Length of the per-message content key. */
  readonly contentKeyLength: number;
  /** Length of the stored key commitment (v1: HKDF output; v2: the section MAC). */
  readonly commitmentLength: number;
  readonly nonceLength: number;
  readonly tagLength: number;
  /** Length of the v1 header tag; 0 in v2 (the header is bound into the content key). */
  readonly headerTagLength: number;
  /** v1: HKDF `info`. v2: the content-key label (docs/format.md §Keys v2). */
  readonly kdfInfo: Uint8Array;
  /** v2: the section-MAC label; empty in v1. */
  readonly sectionLabel: Uint8Array;
}

/** Suite 0x01 (v1, read-only): per-message key and commitment from HKDF-SHA-256(DEK, salt = messageId). */
export const SUITE_AES256GCM_HKDF_COMMIT: EnvelopeSuite = Object.freeze({
  id: 0x01,
  name: 'AES-256-GCM-HKDF-SHA256-COMMIT',
  version: ENVELOPE_V1,
  dekLength: 32,
  contentKeyLength: 32,
  commitmentLength: 32,
  nonceLength: 12,
  tagLength: 16,
  headerTagLength: 16,
  kdfInfo: utf8('kv-envelope/v1 suite 0x01 content key + commitment'),
  sectionLabel: new Uint8Array(0),
});

/**
 * Suite 0x02 (v2): content key = HMAC-SHA-256(DEK, label ‖ header ‖ required context) and a
 * section MAC = HMAC-SHA-256(DEK, label ‖ prefix ‖ wrapped-key section) that is also the key
 * commitment. Both labels are 31 bytes, distinct in their first bytes (prefix-free domains).
 */
export const SUITE_AES256GCM_HMAC_COMMIT: EnvelopeSuite = Object.freeze({
  id: 0x02,
  name: 'AES-256-GCM-HMAC-SHA256-COMMIT',
  version: ENVELOPE_V2,
  dekLength: 32,
  contentKeyLength: 32,
  commitmentLength: 32,
  nonceLength: 12,
  tagLength: 16,
  headerTagLength: 0,
  kdfInfo: utf8('kv-envelope/v2 0x02 content key'),
  sectionLabel: utf8('kv-envelope/v2 0x02 section mac'),
});

const SUITES: ReadonlyMap<number, EnvelopeSuite> = new Map([
  [SUITE_AES256GCM_HKDF_COMMIT.id, SUITE_AES256GCM_HKDF_COMMIT],
  [SUITE_AES256GCM_HMAC_COMMIT.id, SUITE_AES256GCM_HMAC_COMMIT],
]);

/** The suite for a stored id in an envelope of `version`, or undefined when unknown there. */
export function suiteById(id: number, version: EnvelopeVersion): EnvelopeSuite | undefined {
  const suite = SUITES.get(id);
  return suite?.version === version ? suite : undefined;
}

/** The suite new envelopes are written with. */
export const DEFAULT_SUITE = SUITE_AES256GCM_HMAC_COMMIT;
