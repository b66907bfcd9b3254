/**
 * Named bounds of both formats. Every length read from untrusted bytes is checked against one of
 * these before anything is allocated or sliced (docs/format.md §Limits says why each exists).
 */
export const Limits = {
  /** Wrapped DEKs per envelope: one per KEK; 16 covers primary + DR vaults with room to spare. */
  MAX_WRAPPED_KEYS: 16,
  /** UTF-8 bytes of a kekId: a Key Vault kid is < 200; 1 KiB leaves room for long host names. */
  MAX_KEK_ID_BYTES: 1024,
  /** ASCII bytes of an algorithm id ('RSA-OAEP-256' is 12). */
  MAX_ALG_BYTES: 32,
  /** Wrapped DEK bytes: RSA-4096 gives 512; 1 KiB bounds an attacker's allocation. */
  MAX_WRAPPED_KEY_BYTES: 1024,
  /** Encoded encryption context (stored part). Context is for labels, not data. */
  MAX_CONTEXT_BYTES: 16 * 1024,
  /** Pairs in one context map. */
  MAX_CONTEXT_PAIRS: 64,
  /** Smallest and largest frame size a decryptor accepts (the largest bounds memory per stream). */
  MIN_FRAME_SIZE: 1024,
  MAX_FRAME_SIZE: 4 * 1024 * 1024,
  /**
   * Default frame size, 1 MiB (Tink's AES-GCM-HKDF streaming templates use 1 MiB segments too).
   * A message up to one frame decrypts without a copy, and each frame costs a cipher init and 20
   * bytes. Measured (bench/frame-size.mjs, 1 MiB message, Node 20, 2 cores): decrypt 1,527 MB/s
   * with 1 MiB frames vs 904 with 256 KiB and 925 with 64 KiB; encrypt 1,063 vs 1,025 vs 978.
   * A stream holds at most about two frames, so memory stays ~2 MiB per stream.
   */
  DEFAULT_FRAME_SIZE: 1024 * 1024,
  /** Frames per message: the sequence number is a u32 in the nonce; 0 is the header's. */
  MAX_FRAMES: 0xffff_ffff,
  /** Bytes of a field AAD string once UTF-8 encoded. */
  MAX_FIELD_AAD_BYTES: 4096,
} as const;
