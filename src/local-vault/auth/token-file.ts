/**
 * A bearer token kept fresh in a file, for processes that talk to `vault serve` with their own
 * Azure SDK credential: they read the file on each `getToken`. Tokens live one hour; the file is
 * rewritten (atomically, mode 0600) every half hour by default, so it always holds a token that
 * is valid for at least another half hour while the server runs.
 *
 * @module
 */
import type { TokenCredential } from '@azure/core-auth';
import { dirname, resolve } from 'node:path';
import { replaceAtomic } from '../../store/internal/file-io.js';
import { VAULT_RESOURCE } from './tokens.js';

/** Options of {@link keepTokenFile}. */
export interface TokenFileOptions {
  /** Rewrite the file this often (default 30 minutes: half a token's lifetime). */
  refreshMs?: number;
  /** Called when a refresh fails (the previous token stays in the file until it expires). */
  onError?: (error: unknown) => void;
  /** The resource tokens are for: `vault.resource` (default Key Vault's; Managed HSM has its own). */
  resource?: string;
}

/** A token file being kept fresh. */
export interface TokenFileHandle {
  /** The absolute path of the file. */
  readonly path: string;
  /** The refresh interval in ms. */
  readonly refreshMs: number;
  /** When the token now in the file expires (ms since the epoch). */
  readonly expiresOnTimestamp: number;
  /** Stops refreshing. Idempotent. */
  stop(): void;
}

/** Default refresh interval: half of the one-hour token lifetime. */
export const TOKEN_REFRESH_MS = 30 * 60_000;

/**
 * Writes a token of `credential` to `path` now and again every `refreshMs` until `stop()`.
 *
 * @throws {RangeError} when `refreshMs` is not a positive integer.
 * @throws {Error} when the first token cannot be obtained or written.
 * @example
 * ```ts
 * const file = await keepTokenFile(vault.credential(), join(home, 'token'));
 * process.once('SIGTERM', () => file.stop());
 * ```
 */
export async function keepTokenFile(credential: TokenCredential, path: string, options: TokenFileOptions = {}): Promise<TokenFileHandle> {
  const refreshMs = options.refreshMs ?? TOKEN_REFRESH_MS;
  if (!Number.isSafeInteger(refreshMs) || refreshMs <= 0) throw new RangeError(`options.refreshMs must be a positive integer, got ${refreshMs}`);
  const absolute = resolve(path);
  let expiresOnTimestamp = 0;
  const write = async (): Promise<void> => {
    const token = await credential.getToken(`${options.resource ?? VAULT_RESOURCE}/.default`);
    if (!token) throw new Error('the vault credential returned no token');
    await replaceAtomic(dirname(absolute), absolute, Buffer.from(token.token, 'utf8'));
    expiresOnTimestamp = token.expiresOnTimestamp;
  };
  await write();
  const timer = setInterval(() => {
    write().catch((error: unknown) => options.onError?.(error));
  }, refreshMs);
  timer.unref();
  return {
    path: absolute,
    refreshMs,
    get expiresOnTimestamp() {
      return expiresOnTimestamp;
    },
    stop: () => clearInterval(timer),
  };
}
