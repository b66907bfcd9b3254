/**
 * `kv-envelope/rewrap`: the batch re-wrap engine, for the job that follows a KEK rotation.
 *
 * - {@link rewrapEnvelopes}: self-contained envelopes from any async source (files, blobs,
 *   rows); yields each re-wrapped envelope for the caller to store. Payload bytes never change.
 * - {@link rewrapKeyStore}: field-mode DEK records in a KeyStore, updated in place with
 *   compare-and-swap; no data row changes.
 *
 * Both pull-based (async iterators: nothing runs ahead of the consumer by more than
 * `concurrency` items), in source order, with per-item results (`rewrapped`, `skipped`,
 * `would-rewrap` in a dry run, `failed`), progress events, and vault calls that scale with
 * distinct DEKs. {@link rewrapResultToJSON} turns any result into a JSON log record.
 *
 * - Envelope results carry `sourceDigest`: store them conditionally ({@link replaceFileIfUnchanged}
 *   for files), so a writer that replaced an item meanwhile is never rolled back.
 * - {@link verifyEnvelopes}: the pass that ends a job, counting stored items still under old
 *   key versions (0: they can be disabled).
 *
 * @example
 * ```ts
 * import { KeyVaultKek } from 'kv-envelope/azure';
 * import { replaceFileIfUnchanged, rewrapEnvelopes, rewrapResultToJSON, verifyEnvelopes } from 'kv-envelope/rewrap';
 *
 * const kek = new KeyVaultKek({ vaultUrl, keyName: 'kek', credential });
 * for await (const result of rewrapEnvelopes(readEnvelopes(), { to: [kek], checkpoint: 'job.json' })) {
 *   // The caller stores each result, conditionally, before asking for the next one.
 *   if (result.status === 'rewrapped') await replaceFileIfUnchanged(result.id, result.envelope, result.sourceDigest);
 *   console.log(JSON.stringify(rewrapResultToJSON(result)));
 * }
 * const { remaining } = await verifyEnvelopes(readEnvelopes(), { to: [kek] }); // 0: old versions unused
 * ```
 *
 * @module
 */
export { rewrapEnvelopes } from './envelopes.js';
export type { EnvelopeItem } from './envelopes.js';
export { rewrapKeyStore } from './key-store.js';
export type { RewrapOptions, RewrapEnvelopesOptions, RewrapKeyStoreOptions } from './options.js';
export { rewrapResultToJSON } from './results.js';
export { envelopeDigest, replaceFileIfUnchanged } from './files.js';
export type { ConditionalReplace } from './files.js';
export { verifyEnvelopes } from './verify.js';
export type { RewrapVerification, VerifyEnvelopesOptions } from './verify.js';
export type {
  EnvelopeRewrapResult,
  KeyStoreRewrapResult,
  RewrappedEnvelope,
  RewrappedRecord,
  SourceBound,
  PlannedRewrap,
  SkippedItem,
  FailedItem,
  RewrapSkipReason,
  RewrapProgress,
  RewrapResultJson,
} from './results.js';
export { FileCheckpoint } from './checkpoint/file-checkpoint.js';
export { RewrapCheckpointError } from './checkpoint/checkpoint.js';
export type { CheckpointState, CheckpointStore, CheckpointOptions } from './checkpoint/checkpoint.js';
