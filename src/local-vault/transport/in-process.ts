/**
 * The in-process transport: an `HttpClient` for `@azure/core-rest-pipeline` that hands requests
 * straight to the vault's pipeline. No port, no certificate, no DNS (the vault's host name is
 * never resolved), and the same router, auth, faults and errors as the HTTPS server.
 *
 * @module
 */
import {
  createHttpHeaders,
  RestError,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
  type RequestBodyType,
} from '@azure/core-rest-pipeline';
import type { VaultHandler } from '../http/handler.js';

function abortError(): Error {
  // why: the node client rejects with an AbortError (name 'AbortError'), which retry policies rethrow.
  const error = new Error('The operation was aborted.');
  error.name = 'AbortError';
  return error;
}

async function bodyText(body: RequestBodyType | undefined): Promise<string> {
  if (body === undefined || body === null) return '';
  if (typeof body === 'string') return body;
  if (typeof body === 'function') return bodyText(body());
  if (body instanceof ArrayBuffer) return Buffer.from(body).toString('utf8');
  if (ArrayBuffer.isView(body)) return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8');
  if (body instanceof Blob) return body.text();
  if (body instanceof FormData) throw new RestError('The local vault does not accept form-data bodies.', { code: 'REQUEST_SEND_ERROR' });
  const chunks: Buffer[] = [];
  for await (const chunk of body as AsyncIterable<Uint8Array | string>) {
    chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** The request line and headers as the node client would send them, in bytes (for the size limit). */
function headerBytes(request: PipelineRequest, url: URL): number {
  let bytes = request.method.length + url.pathname.length + url.search.length + 12;
  for (const [name, value] of request.headers) bytes += name.length + value.length + 4;
  return bytes;
}

/**
 * An `HttpClient` that serves requests with `handler` in this process.
 *
 * - `request.abortSignal` is honoured before and during the request (AbortError).
 * - After `vault.close()` every request throws `RestError` with `code: 'ECONNREFUSED'`.
 * - A `reset` fault throws `RestError` with `code: 'ECONNRESET'`, like the node client when the
 *   server drops the connection, so the pipeline's retry policy treats it the same way.
 */
export function inProcessHttpClient(handler: VaultHandler, isOpen: () => boolean): HttpClient {
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      // why: a closed vault is a server that is gone; the node client reports ECONNREFUSED.
      if (!isOpen()) throw new RestError('connect ECONNREFUSED (the local vault is closed)', { code: 'ECONNREFUSED', request });
      const url = new URL(request.url);
      if (url.protocol !== 'https:' && !request.allowInsecureConnection) {
        throw new RestError(`Cannot connect to ${request.url} while allowInsecureConnection is false.`, { request });
      }
      const external = request.abortSignal;
      if (external?.aborted) throw abortError();
      const controller = new AbortController();
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => {
          controller.abort();
          reject(abortError());
        };
        external?.addEventListener('abort', onAbort);
      });
      try {
        const outcome = await Promise.race([
          bodyText(request.body).then((body) =>
            handler.handle({
              method: request.method,
              url,
              header: (name) => request.headers.get(name),
              headerBytes: headerBytes(request, url),
              body,
              signal: controller.signal,
            }),
          ),
          aborted,
        ]);
        if (outcome.kind === 'reset') throw new RestError('socket hang up', { code: 'ECONNRESET', request });
        const { status, headers, body } = outcome.response;
        return { request, status, headers: createHttpHeaders(headers), bodyAsText: body };
      } finally {
        if (onAbort) external?.removeEventListener('abort', onAbort);
      }
    },
  };
}
