/**
 * The service's error texts: one row per error that SDK tests and user code match on (status,
 * `error.code`, inner code, message), each with where its wording comes from. Every such error
 * the local vault answers is built from a row here; texts marked "this vault's own" are where no
 * recording of the service's wording was found (they keep the service's status and codes).
 *
 * Sources, abbreviated below:
 * - [JS-REC]: the service's responses recorded by Azure/azure-sdk-for-js's Key Vault tests
 *   (sdk/keyvault/keyvault-keys|secrets/recordings, nock files).
 * - [JS-TEST]: assertions on the service's message in those tests
 *   (e.g. keyvault-keys test/public/recoverBackupRestore.spec.ts "malformed backup").
 * - [ISSUE owner/repo#n]: a service response quoted in a public GitHub issue.
 *
 * @module
 */
import { VaultHttpError } from './vault-http-error.js';

/** The nouns of the object types, as the service's messages and error codes spell them. */
export type ObjectNoun = 'Key' | 'Secret' | 'Certificate';

/** The service-side help link the 404 texts end with. */
const NOT_FOUND_HELP = 'For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182';

/** The latest api-version, named by the 400 for an unknown one. */
export const LATEST_API_VERSION = '2025-07-01';

/** The error table. Functions take the parts of the message that vary. */
export const SERVICE_ERRORS = {
  /** [ISSUE hashicorp/terraform-provider-azurerm#19749] 401 without a bearer token. */
  missingToken: (headers: Record<string, string>) =>
    new VaultHttpError(401, 'Unauthorized', 'AKV10000: Request is missing a Bearer or PoP token.', { headers }),

  /** [JS-REC] `GET /keys/x` (also `/secrets/x`) for an object that does not exist. */
  objectNotFound: (noun: ObjectNoun, id: string) => {
    const lower = noun.toLowerCase();
    return new VaultHttpError(
      404,
      `${noun}NotFound`,
      `A ${lower} with (name/id) ${id} was not found in this key vault. If you recently deleted this ${lower} you may be able to recover it using the correct recovery command. ${NOT_FOUND_HELP}`,
    );
  },

  /** [JS-REC] `GET /deletedkeys/x`: "Deleted Key not found: x" (secrets by analogy). */
  deletedObjectNotFound: (noun: ObjectNoun, name: string) => new VaultHttpError(404, `${noun}NotFound`, `Deleted ${noun} not found: ${name}`),

  /**
   * [ISSUE Azure/azure-sdk-for-net#38464, MicrosoftDocs/azure-docs#77545] 409 for a name held by a
   * soft-deleted object; inner code `ObjectIsDeletedButRecoverable` (message wording this vault's own).
   */
  deletedButRecoverable: (noun: ObjectNoun, name: string) =>
    new VaultHttpError(
      409,
      'Conflict',
      `${noun} ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the ${noun.toLowerCase()} can only be recovered or purged.`,
      { innerCode: 'ObjectIsDeletedButRecoverable' },
    ),

  /**
   * [JS-REC] purge while the delete is in progress: "Key is currently being deleted." with inner
   * code `ObjectIsBeingDeleted`; [ISSUE hashicorp/terraform-provider-azurerm#10454] "Secret is
   * currently being deleted." for a secret set right after a purge.
   */
  beingDeleted: (noun: ObjectNoun) =>
    new VaultHttpError(409, 'Conflict', `${noun} is currently being deleted.`, { innerCode: 'ObjectIsBeingDeleted' }),

  /**
   * [azure-sdk-for-net Key Vault CHANGELOG 4.5.0-beta.1, #31581] inner code
   * `ObjectIsBeingRecovered` after a recover; the message follows the "being deleted" one.
   */
  beingRecovered: (noun: ObjectNoun) =>
    new VaultHttpError(409, 'Conflict', `${noun} is currently being recovered.`, { innerCode: 'ObjectIsBeingRecovered' }),

  /**
   * [ISSUE hashicorp/terraform-provider-azurerm#5659] 403 for a write to the secret of a
   * certificate: 'Operation "set" is not allowed as this object's lifetime is managed by Key
   * Vault.', inner `SecretManagedByKeyVault`; delete/recover/purge and the key's
   * `KeyManagedByKeyVault` by analogy (this vault's own).
   */
  managedByKeyVault: (noun: string, verb: string) =>
    new VaultHttpError(403, 'Forbidden', `Operation "${verb}" is not allowed as this object's lifetime is managed by Key Vault.`, {
      innerCode: `${noun}ManagedByKeyVault`,
    }),

  /** [JS-TEST] restore of a blob that is not a backup (keys, secrets and certificates alike). */
  malformedBackup: () => new VaultHttpError(400, 'BadParameter', 'Backup blob contains invalid or corrupt version.'),

  /**
   * [ISSUE Azure/azure-sdk-for-python#28595, Azure/azure-sdk-for-net#14789] an api-version the
   * vault does not serve.
   */
  unknownApiVersion: (version: string) =>
    new VaultHttpError(
      400,
      'BadParameter',
      `The specified version (${version}) is not recognized. Consider using the latest supported version (${LATEST_API_VERSION}).`,
    ),

  /** No api-version at all: the service's status and code; the wording is this vault's own. */
  missingApiVersion: () => new VaultHttpError(400, 'BadParameter', "The 'api-version' query parameter is required."),

  /**
   * keys.json `KeyAttributes.exportable` (REST specification): "Release policy must be provided
   * when creating the first version of an exportable key." (400 BadParameter as the service).
   */
  exportableWithoutPolicy: () =>
    new VaultHttpError(400, 'BadParameter', 'Release policy must be provided when creating the first version of an exportable key.'),

  /**
   * [JS-TEST] "Operation get is not allowed on a disabled secret." (keyvault-secrets CRUD tests);
   * keys and crypto operations by analogy. Inner `KeyDisabled` / `SecretDisabled`.
   */
  disabled: (noun: ObjectNoun, operation: string) =>
    new VaultHttpError(403, 'Forbidden', `Operation ${operation} is not allowed on a disabled ${noun.toLowerCase()}.`, {
      innerCode: `${noun}Disabled`,
    }),

  /** Purge under purge protection: the service's 403 text (learn.microsoft.com soft-delete overview). */
  purgeProtected: () =>
    new VaultHttpError(
      403,
      'Forbidden',
      'Operation "purge" is not allowed because purge protection is enabled for this vault. Key Vault service will automatically purge it after the retention period has passed.',
    ),

  /**
   * [ISSUE hashicorp/terraform-provider-azurerm#27817, piyushsachdeva/Terraform_AKS#2] the RBAC
   * 403, naming the missing data action; `resource` is an ARM-shaped id (this vault's own).
   */
  forbiddenByRbac: (principal: string, action: string, resource: string) =>
    new VaultHttpError(
      403,
      'Forbidden',
      [
        'Caller is not authorized to perform action on resource.',
        'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.',
        `Caller: oid=${principal}`,
        `Action: '${action}'`,
        `Resource: '${resource}'`,
        'Assignment: (not found)',
        'DenyAssignmentId: null',
        "DecisionReason: 'DeniedWithNoValidRBAC' ",
        'Vault: local-vault;location=local',
      ].join('\r\n'),
      { innerCode: 'ForbiddenByRbac' },
    ),

  /**
   * [ISSUE Azure/azure-sdk-for-net#13437, Azure/azure-sdk-for-js#26212] a key type the vault's
   * flavour does not have (oct on a vault, software keys on Managed HSM).
   */
  keyTypeNotSupported: (kty: string) => new VaultHttpError(400, 'BadParameter', `Invalid kty value: ${kty}`, { innerCode: 'KeyTypeNotSupported' }),

  /** [ISSUE Azure/azure-sdk-for-net#6551] an -HSM key on a standard vault (status and code this vault's own). */
  hardwareKeyOnStandard: () => new VaultHttpError(400, 'BadParameter', 'Hardware key operation not allowed on standard vault'),

  /** An AES algorithm outside Managed HSM (status and code the service's; wording this vault's own). */
  managedHsmAlgorithm: (alg: string) =>
    new VaultHttpError(400, 'BadParameter', `Invalid algorithm: ${alg}. AES algorithms are available on Managed HSM only.`),

  /** `POST /rng` on a vault: a 400 (Azure/azure-sdk-for-rust#1271); wording this vault's own. */
  managedHsmRng: () => new VaultHttpError(400, 'BadParameter', 'Random bytes (POST /rng) are a Managed HSM operation; this is a key vault.'),

  /** [ISSUE vcsjones/AzureSignTool#219] 429; no Retry-After unless `headers` adds one. */
  throttled: (headers: Record<string, string> = {}) =>
    new VaultHttpError(
      429,
      'Throttled',
      'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
      { headers },
    ),

  /** 503 of the fault injector: the service's status and code; wording this vault's own. */
  serviceUnavailable: (headers: Record<string, string> = {}) =>
    new VaultHttpError(503, 'ServiceUnavailable', 'The service is temporarily unavailable. Please retry later.', { headers }),

  /**
   * A request line plus headers over the front end's limit (HTTP.sys defaults: 16 KB): this
   * vault answers 431 with a service-shaped body where Node would send an empty 431 and close.
   */
  headersTooLarge: (limit: number) =>
    new VaultHttpError(431, 'RequestHeaderFieldsTooLarge', `The request headers exceed ${limit} bytes.`),

  /** A URL over the limit: 414 with a service-shaped body (wording this vault's own). */
  urlTooLong: (limit: number) => new VaultHttpError(414, 'RequestUriTooLong', `The request URL exceeds ${limit} characters.`),
} as const;
