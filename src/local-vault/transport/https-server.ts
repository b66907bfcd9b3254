/**
 * The HTTPS transport: a `node:https` server on 127.0.0.1 in front of the vault's pipeline, for
 * clients in other processes. A `reset` fault destroys the socket mid-request.
 *
 * @module
 */
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { VaultHandler } from '../http/handler.js';
import type { TlsIdentity } from './certificate.js';

/** The address the server listens on: loopback only. */
export const LISTEN_ADDRESS = '127.0.0.1';
// Key Vault request bodies are small (a JWK import is the largest); refuse anything absurd.
const MAX_BODY_BYTES = 1 << 20;

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
    url = new URL(req.url ?? '/', `https://${req.headers.host ?? `${LISTEN_ADDRESS}:${port}`}`);
  } catch {
    reply(res, 400, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify({ error: { code: 'BadParameter', message: 'Invalid request URL or Host header.' } }));
    return;
  }
  try {
    const outcome = await handler.handle({
      method: req.method ?? 'GET',
      url,
      header: (name) => header(req.headers, name),
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

/**
 * Starts the server with `identity` on `port` (0 = any free port).
 *
 * @throws {Error} when the port cannot be bound (e.g. EADDRINUSE).
 */
export async function startHttpsServer(handler: VaultHandler, identity: TlsIdentity, port: number): Promise<HttpsServerHandle> {
  let boundPort = port;
  const server: Server = createServer({ cert: identity.certPem, key: identity.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) {
        const error = { error: { code: 'BadParameter', message: `The request body exceeds ${MAX_BODY_BYTES} bytes.` } };
        reply(res, 413, { 'content-type': 'application/json; charset=utf-8' }, JSON.stringify(error));
        return;
      }
      void serve(handler, req, res, Buffer.concat(chunks).toString('utf8'), boundPort);
    });
  });
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
