/**
 * kv-envelope/drizzle: Drizzle ORM (PostgreSQL) column types for encrypted fields and blind
 * indexes, and a row codec that binds every value to its row. Needs `drizzle-orm` (peer).
 *
 * @module
 */
export { encrypted, encryptedText, blindIndexColumn } from './columns.js';
export { rowCodec } from './row-codec.js';
export type { RowCodec, RowCodecOptions, EncryptedColumnSpec } from './row-codec.js';
