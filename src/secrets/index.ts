/**
 * kv-envelope/secrets: Azure Key Vault secrets for Node apps the way App Service references, the
 * AKS Secrets Store CSI driver and Event Grid notifications serve other platforms.
 *
 * @module
 */
export { SecretResolver } from './resolver.js';
export { createEventGridHandler } from './event-grid.js';
export type { EventGridHandlerOptions, KeyVaultEventSink } from './event-grid.js';
export type { SecretResolverOptions, SecretEvent, KeyVaultEvent } from './resolver.js';
export { parseReference, isReference, secretId, DEFAULT_DNS_SUFFIXES } from './reference.js';
export type { SecretReference, ParseReferenceOptions } from './reference.js';
export { SecretError } from './errors.js';
export type { SecretErrorCode } from './errors.js';
