/**
 * `jwksHandler`: serves a signer's JWKS over node:http or Express, with `Cache-Control:
 * max-age` and a strong `ETag` (SHA-256 of the body), answering `If-None-Match` with 304.
 *
 * The ETag depends only on the body, and the body only on the vault's versions and the clock
 * (rotation/schedule.ts), so every instance behind a load balancer serves the same ETag.
 *
 * @module
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { durationSeconds, type Duration } from '../internal/values.js';
import type { JwkSet } from './jwk.js';

/** Options of {@link jwksHandler}. */
export interface JwksHandlerOptions {
  /**
   * `Cache-Control: public, max-age` (default `"5m"`). Keep it well below the signer's
   * `publishLeadTime`: a cached JWKS must pick up a pending version before it signs.
   */
  maxAge?: Duration;
  /** `Content-Type` (default `application/json`; RFC 7517 §8.5 also registers `application/jwk-set+json`). */
  contentType?: string;
  /** Called when the JWKS cannot be produced (the response is a 503); default: ignore. */
  onError?: (error: unknown) => void;
}

/** What the handler needs from a signer. */
export interface JwksSource {
  jwks(): Promise<JwkSet>;
}

/** True when an `If-None-Match` value matches `etag` (weak comparison, RFC 9110 §13.1.2). */
function matches(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const text = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  return text.split(',').some((tag) => {
    const t = tag.trim();
    return t === '*' || t.replace(/^W\//, '') === etag;
  });
}

/**
 * A `(req, res) => void` request handler for `GET`/`HEAD` of the JWKS. Other methods get 405.
 * When the JWKS cannot be produced (the vault was never reachable), 503 with `Retry-After`.
 * @throws {TypeError | RangeError} for invalid options (when called, never per request).
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { jwksHandler } from 'kv-envelope/jwt';
 * const serveJwks = jwksHandler(signer, { maxAge: '5m' });
 * createServer((req, res) => (req.url === '/.well-known/jwks.json' ? serveJwks(req, res) : res.writeHead(404).end())).listen(8080);
 * // Express: app.get('/.well-known/jwks.json', jwksHandler(signer));
 * ```
 */
export function jwksHandler(signer: JwksSource, options: JwksHandlerOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
  if (signer === null || typeof signer !== 'object' || typeof signer.jwks !== 'function') throw new TypeError('signer must be a JwtSigner');
  if (options === null || typeof options !== 'object') throw new TypeError('options must be an object');
  const maxAge = durationSeconds(options.maxAge ?? '5m', 'options.maxAge');
  const contentType = options.contentType ?? 'application/json';
  if (typeof contentType !== 'string' || !/^[\w.+-]+\/[\w.+-]+(?:;.*)?$/.test(contentType)) throw new TypeError('options.contentType must be a media type');
  const onError = options.onError;
  if (onError !== undefined && typeof onError !== 'function') throw new TypeError('options.onError must be a function');
  let last: { body: string; etag: string } | undefined;

  return (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-length': '0' }).end();
      return;
    }
    Promise.resolve()
      .then(() => signer.jwks())
      .then((jwks) => {
        const body = JSON.stringify(jwks);
        if (last?.body !== body) last = { body, etag: `"${createHash('sha256').update(body).digest('base64url')}"` };
        const headers = { 'cache-control': `public, max-age=${maxAge}`, etag: last.etag, 'x-content-type-options': 'nosniff' };
        if (matches(req.headers['if-none-match'], last.etag)) {
          res.writeHead(304, headers).end();
          return;
        }
        res.writeHead(200, { ...headers, 'content-type': contentType, 'content-length': String(Buffer.byteLength(body)) });
        res.end(req.method === 'HEAD' ? undefined : body);
      })
      // Nothing may escape as an unhandled rejection (it would end the process): report, answer 503.
      .catch((err: unknown) => {
        try {
          onError?.(err);
        } catch {
          // the caller's reporter failed; the response below still goes out
        }
        try {
          if (!res.headersSent) res.writeHead(503, { 'cache-control': 'no-store', 'retry-after': '30', 'content-length': '0' });
          res.end();
        } catch {
          // the connection is gone
        }
      });
  };
}
