/**
 * The state file's format: one JSON document holding the vault's identity (tenant, master
 * secret, TLS identity, the https port key ids name), its role assignments and its objects,
 * one collection per object type (`keys`, `secrets`; certificates join as a sibling), its event
 * log and expiry marks (`events`, events/log.ts; optional when reading), and a generation
 * counter that every write increments. It holds private keys and the
 * token-signing secret: mode 0600, keep it out of version control.
 *
 * Version 1 (keys at the top level, no generation) is read and written back as version 2. A
 * collection added later (secrets) is optional when reading: a file written before it existed
 * loads with that collection empty.
 *
 * @module
 */
import type { RoleAssignment } from '../auth/rbac.js';
import { emptyEventLog, type EventLogSnapshot } from '../events/log.js';
import type { CertificateRecord, ContactRecord, IssuerRecord } from '../certificates/records.js';
import { VAULT_FLAVOURS, type VaultFlavour } from '../options.js';
import type { KeyRecord, SecretRecord } from '../service/state.js';
import type { TlsIdentity } from '../transport/certificate.js';

const FORMAT = 'kv-envelope/local-vault-state';
const VERSION = 2;

/**
 * The object collections, one per object type. A new type (secrets, certificates) is one more
 * member here and in {@link OBJECT_COLLECTIONS}; locking, reload and atomic writes are shared.
 */
export interface VaultObjects {
  keys: KeyRecord[];
  secrets: SecretRecord[];
  certificates: CertificateRecord[];
  /** Named certificate issuers. */
  certificateIssuers: IssuerRecord[];
  /** The certificate contacts (empty: none set). */
  certificateContacts: ContactRecord[];
}

/** The names of {@link VaultObjects}' collections. */
export const OBJECT_COLLECTIONS = [
  'keys',
  'secrets',
  'certificates',
  'certificateIssuers',
  'certificateContacts',
] as const satisfies readonly (keyof VaultObjects)[];

/** The vault's identity: what must stay the same for tokens, backups and kids to stay valid. */
export interface VaultIdentity {
  tenantId: string;
  /** The master secret, base64url (32 bytes). */
  secret: string;
  tls?: TlsIdentity | undefined;
  /** The port the https transport last listened on (reused so that key ids stay the same). */
  httpsPort?: number | undefined;
  /** The flavour the vault was last started with explicitly (standard, premium, managed-hsm). */
  flavour?: VaultFlavour | undefined;
}

/** Everything a vault persists. */
export interface VaultSnapshot {
  /** Incremented by every write; 0 for a snapshot never written. */
  generation: number;
  identity: VaultIdentity;
  roleAssignments: RoleAssignment[];
  objects: VaultObjects;
  /** The event log and expiry marks (absent from files written before events existed). */
  events?: EventLogSnapshot;
  /** Time travel: how far the vault's clock runs ahead of the real one (ms; 0 when absent). */
  clockOffsetMs: number;
}

function eventLogOf(value: unknown): EventLogSnapshot {
  const log = value as Partial<EventLogSnapshot> | null | undefined;
  if (!log || typeof log !== 'object' || !Number.isSafeInteger(log.seq) || !Array.isArray(log.events) || !log.marks || typeof log.marks !== 'object') {
    return emptyEventLog();
  }
  return { seq: log.seq as number, events: log.events, marks: log.marks };
}

function corrupt(path: string, what: string): Error {
  return new Error(`The local vault state file ${path} is incomplete or corrupt (${what}).`);
}

/**
 * Parses a state file's text.
 *
 * @throws {Error} when it is not JSON, not a state file of version 1 or 2, or incomplete.
 */
export function parseStateFile(path: string, text: string): VaultSnapshot {
  let parsed: Record<string, any>;
  try {
    parsed = JSON.parse(text) as Record<string, any>;
  } catch (cause) {
    throw new Error(`The local vault state file ${path} is not valid JSON.`, { cause });
  }
  if (parsed === null || typeof parsed !== 'object' || parsed.format !== FORMAT || (parsed.version !== 1 && parsed.version !== VERSION)) {
    throw new Error(`The file ${path} is not a local vault state file (format ${FORMAT} v1 or v${VERSION}).`);
  }
  const v1 = parsed.version === 1;
  const identity = (v1 ? parsed : parsed.vault) as Record<string, unknown> | undefined;
  const objects = (v1 ? { keys: parsed.keys } : parsed.objects) as Record<string, unknown> | undefined;
  if (identity === null || typeof identity !== 'object') throw corrupt(path, 'no vault identity');
  const secret = typeof identity.secret === 'string' ? Buffer.from(identity.secret, 'base64url') : Buffer.alloc(0);
  if (secret.length !== 32 || typeof identity.tenantId !== 'string') throw corrupt(path, 'no secret or tenant');
  if (objects === null || typeof objects !== 'object') throw corrupt(path, 'no objects');
  if (!Array.isArray(objects.keys)) throw corrupt(path, 'no keys');
  // why: collections added after keys (secrets) are absent from older files: they start empty.
  const collections = Object.fromEntries(OBJECT_COLLECTIONS.map((name) => [name, objects[name] ?? []]));
  for (const name of OBJECT_COLLECTIONS) if (!Array.isArray(collections[name])) throw corrupt(path, `no ${name}`);
  const port = identity.httpsPort;
  const roles = Array.isArray(parsed.roleAssignments) ? (parsed.roleAssignments as RoleAssignment[]) : [];
  return {
    generation: Number.isSafeInteger(parsed.generation) ? (parsed.generation as number) : 0,
    identity: {
      tenantId: identity.tenantId,
      secret: identity.secret as string,
      tls: identity.tls as TlsIdentity | undefined,
      httpsPort: Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536 ? (port as number) : undefined,
      flavour: (VAULT_FLAVOURS as readonly unknown[]).includes(identity.flavour) ? (identity.flavour as VaultFlavour) : undefined,
    },
    // why: custom roles are defined by the options of each start, so any role name is kept; one
    // this start does not define grants nothing.
    roleAssignments: roles.filter((a) => typeof a?.principal === 'string' && typeof a.role === 'string'),
    objects: collections as unknown as VaultObjects,
    events: eventLogOf(parsed.events),
    clockOffsetMs: Number.isSafeInteger(parsed.clockOffsetMs) ? (parsed.clockOffsetMs as number) : 0,
  };
}

/** The bytes of `snapshot` as a state file. */
export function serializeStateFile(snapshot: VaultSnapshot): Buffer {
  const { generation, identity, roleAssignments, objects, events, clockOffsetMs } = snapshot;
  const document = { format: FORMAT, version: VERSION, generation, vault: identity, clockOffsetMs, roleAssignments, objects, events };
  return Buffer.from(JSON.stringify(document), 'utf8');
}
