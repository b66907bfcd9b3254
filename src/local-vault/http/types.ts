/**
 * The transport-neutral request and outcome the router works on; both transports (in-process
 * HttpClient and HTTPS server) translate to and from these, so they behave identically.
 *
 * @module
 */

/** A request as both transports deliver it. */
export interface VaultRequest {
  method: string;
  /** Absolute URL as the client sent it (its host is not trusted: ids use the vault's own origin). */
  url: URL;
  /** Case-insensitive header lookup. */
  header(name: string): string | undefined;
  /** Size of the request line plus headers in bytes, as received (for the size limit). */
  headerBytes?: number | undefined;
  /** The body as text (`''` when empty). */
  body: string;
  /** Aborted when the client gives up (in-process) or disconnects (HTTPS). */
  signal?: AbortSignal | undefined;
}

/** A response to write back. */
export interface VaultResponse {
  status: number;
  headers: Record<string, string>;
  /** JSON text, or `''` (204, challenges). */
  body: string;
}

/** Either a response or a dropped connection (the `reset` fault). */
export type VaultOutcome = { kind: 'response'; response: VaultResponse } | { kind: 'reset' };
