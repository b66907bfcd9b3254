/**
 * The HTTPS transport: a `node:https` server on 127.0.0.1 in front of the vault's pipeline, for
 * clients in other processes. A `reset` fault destroys the socket mid-request.
 *
 * The Host header is not used: the pipeline builds every id from the vault's configured URL.
 * Oversized requests get a service-shaped JSON error, not Node's empty 431 or a reset: the
 * pipeline applies the URL and header limits (http/handler.ts) to both transports, and a request
 * too large even for Node's parser (`maxHeaderSize` below) is answered from `clientError`.
 *
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { MAX_HEADER_BYTES, type VaultHandler } from '../http/handler.js';
import { SERVICE_ERRORS } from '../http/service-errors.js';
import type { TlsIdentity } from './certificate.js';

/** The address the server listens on: loopback only. */
export const LISTEN_ADDRESS = '127.0.0.1';
// Key Vault request bodies are small (a JWK import is the largest); refuse anything absurd.
const MAX_BODY_BYTES = 1 << 20;
// Node's parser limit: well above the pipeline's, so that the pipeline answers most oversize requests.
const PARSER_MAX_HEADER_BYTES = 4 * MAX_HEADER_BYTES;
const JSON_TYPE = { 'content-type': 'application/json; charset=utf-8' };

/** A running HTTPS server. */
export interface HttpsServerHandle {
  /** The port it listens on (the requested one, or the one the OS chose). */
  readonly port: number;
  /** Stops accepting, drops open connections, and resolves once closed. */
  close(): Promise<void>;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value.join(', ') : value;
}

function reply(res: ServerResponse, status: number, headers: Record<string, string>, body: string): void {
  res.writeHead(status, { ...headers, 'content-length': String(Buffer.byteLength(body)) });
  res.end(body);
}

async function serve(handler: VaultHandler, req: IncomingMessage, res: ServerResponse, body: string, port: number): Promise<void> {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  let url: URL;
  try {
    // why: origin-form only ("/keys/x?..."); the authority is ours, whatever Host says.
    if (!req.url?.startsWith('/')) throw new TypeError('not origin-form');
    url = new URL(`https://${LISTEN_ADDRESS}:${port}${req.url}`);
  } catch {
    reply(res, 400, JSON_TYPE, JSON.stringify({ error: { code: 'BadParameter', message: 'Invalid request URL.' } }));
    return;
  }
  // Request line + headers as received: "NAME: value\r\n" each.
  let headerBytes = (req.method?.length ?? 0) + req.url.length + 12;
  for (let i = 0; i < req.rawHeaders.length; i += 2) headerBytes += req.rawHeaders[i]!.length + req.rawHeaders[i + 1]!.length + 4;
  try {
    const outcome = await handler.handle({
      method: req.method ?? 'GET',
      url,
      header: (name) => header(req.headers, name),
      headerBytes,
      body,
      signal: controller.signal,
    });
    if (outcome.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    reply(res, outcome.response.status, outcome.response.headers, outcome.response.body);
  } catch {
    // why: only an aborted request gets here; the client is gone, so drop the socket.
    res.destroy();
  }
}

/** Node's parser gave up on a request: answer as the service would (JSON), then close. */
function answerClientError(error: NodeJS.ErrnoException, socket: Duplex): void {
  if (error.code === 'ECONNRESET') {
    socket.destroy();
    return;
  }
  // The parser may report again while the answer below is being sent: leave it be.
  if (!socket.writable) return;
  const vaultError =
    error.code === 'HPE_HEADER_OVERFLOW'
      ? SERVICE_ERRORS.headersTooLarge(MAX_HEADER_BYTES)
      : { status: 400, toBody: () => ({ error: { code: 'BadParameter', message: 'The request could not be parsed.' } }) };
  const body = JSON.stringify(vaultError.toBody());
  const reason = vaultError.status === 431 ? 'Request Header Fields Too Large' : 'Bad Request';
  // why: keep reading what the client is still sending; closing with unread bytes sends a TCP
  // reset, and the client would see "socket hang up" instead of this answer.
  socket.on('data', () => undefined);
  socket.on('error', () => undefined);
  socket.end(
    `HTTP/1.1 ${vaultError.status} ${reason}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
  setTimeout(() => socket.destroy(), 5_000).unref();
}

/**
 * Starts the server with `identity` on `port` (0 = any free port).
 *
 * @throws {Error} when the port cannot be bound (e.g. EADDRINUSE).
 */
export async function startHttpsServer(handler: VaultHandler, identity: TlsIdentity, port: number): Promise<HttpsServerHandle> {
  let boundPort = port;
  const server: Server = createServer({ cert: identity.certPem, key: identity.keyPem, maxHeaderSize: PARSER_MAX_HEADER_BYTES }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        const error = { error: { code: 'BadParameter', message: `The request body exceeds ${MAX_BODY_BYTES} bytes.` } };
        reply(res, 413, JSON_TYPE, JSON.stringify(error));
        return;
      }
      void serve(handler, req, res, Buffer.concat(chunks).toString('utf8'), boundPort);
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => answerClientError(error, socket));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LISTEN_ADDRESS, () => {
      server.off('error', reject);
      resolve();
    });
  });
  boundPort = (server.address() as AddressInfo).port;
  return {
    port: boundPort,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
