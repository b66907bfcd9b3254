/**
 * The error type every failure of the local vault becomes: an HTTP status plus Key Vault's
 * `{"error":{"code","message","innererror"?}}` body.
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
    options: { innerCode?: string | undefined; headers?: Record<string, string> } = {},
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
