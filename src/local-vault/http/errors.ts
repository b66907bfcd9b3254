/**
 * Service-shaped errors: every failure the local vault reports becomes a {@link VaultHttpError},
 * rendered as Key Vault's `{"error":{"code","message","innererror"?}}` body.
 *
 * @module
 */

/**
 * An error the vault answers with an HTTP status and a Key Vault error body. The real SDK turns
 * it into a `RestError` whose `statusCode`, `code` (= `error.code`) and `message` match these.
 */
export class VaultHttpError extends Error {
  /** HTTP status code, e.g. 400, 403, 404, 409. */
  readonly status: number;
  /** Key Vault `error.code`, e.g. `BadParameter`, `Forbidden`, `KeyNotFound`. */
  readonly code: string;
  /** Key Vault `error.innererror.code`, when the service sends one (e.g. `KeyDisabled`). */
  readonly innerCode: string | undefined;
  /** Extra response headers (e.g. `WWW-Authenticate`, `Retry-After`). */
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { innerCode?: string; headers?: Record<string, string> } = {},
  ) {
    super(message);
    this.name = 'VaultHttpError';
    this.status = status;
    this.code = code;
    this.innerCode = options.innerCode;
    this.headers = options.headers ?? {};
  }

  /** The JSON error body the service sends. */
  toBody(): { error: { code: string; message: string; innererror?: { code: string } } } {
    const error: { code: string; message: string; innererror?: { code: string } } = {
      code: this.code,
      message: this.message,
    };
    if (this.innerCode !== undefined) error.innererror = { code: this.innerCode };
    return { error };
  }
}

/** 400 `BadParameter`: a malformed body, an unknown algorithm, a wrong size. */
export function badParameter(message: string): VaultHttpError {
  return new VaultHttpError(400, 'BadParameter', message);
}

/** 403 `Forbidden` with an inner code (`KeyDisabled`, `KeyOperationForbidden`, `ForbiddenByRbac`, ...). */
export function forbidden(message: string, innerCode?: string): VaultHttpError {
  return new VaultHttpError(403, 'Forbidden', message, innerCode === undefined ? {} : { innerCode });
}

/** The nouns of the object types, as the service's messages and error codes spell them. */
export type ObjectNoun = 'Key' | 'Secret';

/** 404 `KeyNotFound` / `SecretNotFound`, worded like the service. */
export function objectNotFound(noun: ObjectNoun, name: string, version?: string): VaultHttpError {
  const id = version ? `${name}/${version}` : name;
  const lower = noun.toLowerCase();
  return new VaultHttpError(
    404,
    `${noun}NotFound`,
    `A ${lower} with (name/id) ${id} was not found in this key vault. If you recently deleted this ${lower} you may be able to recover it using the correct recovery command.`,
  );
}

/** 404 `KeyNotFound` / `SecretNotFound` for the deleted-objects collections. */
export function deletedObjectNotFound(noun: ObjectNoun, name: string): VaultHttpError {
  return new VaultHttpError(404, `${noun}NotFound`, `Deleted ${noun} not found: ${name}`);
}

/** 404 `KeyNotFound`, worded like the service. */
export function keyNotFound(name: string, version?: string): VaultHttpError {
  return objectNotFound('Key', name, version);
}

/** 429 `Throttled` as the service sends it: no `Retry-After` unless `headers` adds one. */
export function throttled(headers: Record<string, string> = {}): VaultHttpError {
  return new VaultHttpError(
    429,
    'Throttled',
    'Request was not processed because too many requests were received. Reason: VaultRequestTypeLimitReached',
    { headers },
  );
}

/** 409 `Conflict` with an optional inner code (`ObjectIsDeletedButRecoverable`). */
export function conflict(message: string, innerCode?: string): VaultHttpError {
  return new VaultHttpError(409, 'Conflict', message, innerCode === undefined ? {} : { innerCode });
}
