/**
 * Secret response shapes: SecretBundle (with the value) and SecretItem (never the value), as the
 * service sends them; deleted ones add `deletionFields`.
 *
 * @module
 */
import { keyId, objectAttributes } from './bundles.js';
import type { SecretRecord, SecretVersionRecord, VaultState } from './state.js';

/** `https://host[:port]/secrets/{name}[/{version}]`. */
export function secretId(base: string, name: string, version?: string): string {
  return version ? `${base}/secrets/${name}/${version}` : `${base}/secrets/${name}`;
}

function metadata(state: VaultState, version: SecretVersionRecord, out: Record<string, unknown>, record?: SecretRecord, base?: string): Record<string, unknown> {
  if (version.contentType !== undefined) out.contentType = version.contentType;
  out.attributes = objectAttributes(state, version);
  if (version.tags) out.tags = { ...version.tags };
  // A certificate's secret names the certificate's key and says it is managed.
  if (record?.managed && base !== undefined) {
    out.kid = keyId(base, record.name, version.version);
    out.managed = true;
  }
  return out;
}

/** The SecretBundle of one version, value included (only getSecret/setSecret send it). */
export function secretBundle(state: VaultState, base: string, record: SecretRecord, version: SecretVersionRecord): Record<string, unknown> {
  return metadata(state, version, { value: version.value, id: secretId(base, record.name, version.version) }, record, base);
}

/** The SecretBundle without the value (update, delete, recover, restore answer this way). */
export function secretProperties(state: VaultState, base: string, record: SecretRecord, version: SecretVersionRecord): Record<string, unknown> {
  return metadata(state, version, { id: secretId(base, record.name, version.version) }, record, base);
}

/** A SecretItem for list results: never the value; `withVersion` for list-versions. */
export function secretItem(
  state: VaultState,
  base: string,
  record: SecretRecord,
  version: SecretVersionRecord,
  withVersion: boolean,
): Record<string, unknown> {
  const out = metadata(state, version, { id: secretId(base, record.name, withVersion ? version.version : undefined) });
  if (record.managed) out.managed = true;
  return out;
}
