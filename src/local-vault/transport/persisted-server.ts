/**
 * The https transport of a persisted vault: its certificate and its port live in the state file,
 * so that other processes keep trusting the one and key ids, which name the other, stay valid
 * across restarts. One server per state file: it holds `<state file>.serve.lock` (owner
 * recorded; taken over at once when its owner died) while it runs.
 *
 * @module
 */
import { KeyStoreError } from '../../errors.js';
import { acquireLock, type HeldLock } from '../../store/internal/file-lock.js';
import type { VaultHandler } from '../http/handler.js';
import type { ResolvedOptions } from '../options.js';
import type { OpenedState } from '../persistence/vault-home.js';
import { certificateHosts, certificateUsable, createSelfSignedCertificate, type TlsIdentity } from './certificate.js';
import { startHttpsServer, type HttpsServerHandle } from './https-server.js';

/**
 * The certificate to serve: the stored one when it covers the hosts, else a new one, stored
 * (the first one stored wins when two processes race).
 *
 * @throws {Error} when the certificate cannot be made or stored.
 */
export async function tlsIdentity(opts: ResolvedOptions, opened: OpenedState): Promise<TlsIdentity> {
  const hosts = certificateHosts(opts.host);
  const usable = (): TlsIdentity | undefined => {
    const stored = opened.identity.tls;
    return stored && certificateUsable(stored, hosts) ? stored : undefined;
  };
  const stored = usable();
  if (stored) return stored;
  const created = await createSelfSignedCertificate(hosts);
  if (!opened.durable) return created;
  return opened.durable.transaction(() => {
    const now = usable();
    if (now) return now;
    opened.identity.tls = created;
    opened.state.markChanged();
    return created;
  });
}

async function serveLock(path: string): Promise<HeldLock> {
  try {
    // Held for the server's lifetime: never broken for its age, only when its owner is dead.
    return await acquireLock(`${path}.serve.lock`, { staleMs: Number.MAX_SAFE_INTEGER, timeoutMs: 0 });
  } catch (cause) {
    if (!(cause instanceof KeyStoreError)) throw cause;
    const owner = /\((pid \d+ on .*)\)$/.exec(cause.message)?.[1] ?? 'another process';
    throw new Error(`Another vault (${owner}) is already serving ${path}: one server per state file. Stop it first.`, { cause });
  }
}

/**
 * Starts the https server. A persisted vault listens on the port it listened on last time
 * (recorded in the state file) unless `opts.port` says otherwise, and records the port it got.
 *
 * @throws {Error} when another server serves the same state file, or the port cannot be bound
 *   (for the recorded port, saying so).
 */
export async function listenPersisted(handler: VaultHandler, tls: TlsIdentity, opts: ResolvedOptions, opened: OpenedState): Promise<HttpsServerHandle> {
  const durable = opened.durable;
  if (!durable) return startHttpsServer(handler, tls, opts.port ?? 0);
  const guard = await serveLock(durable.path);
  const recorded = opened.identity.httpsPort;
  let server: HttpsServerHandle;
  try {
    server = await startHttpsServer(handler, tls, opts.port ?? recorded ?? 0);
  } catch (cause) {
    await guard.release();
    if (opts.port === undefined && recorded !== undefined && (cause as { code?: unknown }).code === 'EADDRINUSE') {
      throw new Error(
        `Port ${recorded}, where this vault served before (key ids name it), is in use by another program. Free it, or pass a port (key ids issued before then name the old one).`,
        { cause },
      );
    }
    throw cause;
  }
  const handle: HttpsServerHandle = {
    port: server.port,
    async close() {
      try {
        await server.close();
      } finally {
        await guard.release();
      }
    },
  };
  if (recorded !== server.port) {
    await durable
      .transaction(() => {
        opened.identity.httpsPort = server.port;
        opened.state.markChanged();
      })
      .catch(async (error: unknown) => {
        await handle.close();
        throw error;
      });
  }
  return handle;
}
