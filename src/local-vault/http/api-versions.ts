/**
 * The api-versions the vault accepts: those of the Key Vault data-plane REST specification
 * (Azure/azure-rest-api-specs, specification/keyvault/data-plane/Microsoft.KeyVault, the
 * `stable/` and `preview/` folders), which is what the service answers to. Anything else is the
 * service's 400 "The specified version (…) is not recognized." (./service-errors.ts), as a
 * request for `9.9` or `banana` gets from Azure (Azure/azure-sdk-for-python#28595); lowkey-vault
 * is strict the same way.
 *
 * The vault serves one behaviour whatever the version (it does not emulate older versions'
 * response shapes); the check is there so that a client pinned to a version the service does not
 * know fails here as it would in Azure.
 *
 * @module
 */
import { SERVICE_ERRORS } from './service-errors.js';
import type { VaultHttpError } from './vault-http-error.js';

/** Stable versions (folders of `stable/`), oldest first. */
export const STABLE_API_VERSIONS = [
  '2015-06-01',
  '2016-10-01',
  '7.0',
  '7.1',
  '7.2',
  '7.3',
  '7.4',
  '7.5',
  '7.6',
  '2025-06-01',
  '2025-07-01',
] as const;

/** Preview versions (folders of `preview/`) that current SDKs can send. */
export const PREVIEW_API_VERSIONS = [
  '7.0-preview',
  '7.1-preview',
  '7.2-preview',
  '7.3-preview',
  '7.4-preview.1',
  '7.5-preview.1',
  '7.6-preview.1',
  '7.6-preview.2',
  '2025-06-01-preview',
  '2025-07-01-preview',
  '2026-01-01-preview',
] as const;

const KNOWN: ReadonlySet<string> = new Set<string>([...STABLE_API_VERSIONS, ...PREVIEW_API_VERSIONS]);

/**
 * The error for a request's `api-version` query value, or `undefined` when it is one the
 * service serves.
 */
export function apiVersionError(value: string | null): VaultHttpError | undefined {
  if (value === null || value === '') return SERVICE_ERRORS.missingApiVersion();
  return KNOWN.has(value) ? undefined : SERVICE_ERRORS.unknownApiVersion(value);
}
