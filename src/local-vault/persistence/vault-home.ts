/**
 * Opening a vault's state: in memory only, or bound to a state file shared with other
 * processes (./durable-state.ts). The binding is the one place that knows how the in-memory
 * state (objects, role assignments, identity) maps to a snapshot and back; a new object type
 * adds its collection here and in ./state-file.ts.
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import { RoleAssignments } from '../auth/rbac.js';
import { emptyEventLog } from '../events/log.js';
import type { ResolvedOptions } from '../options.js';
import { vaultSecrets, type VaultSecrets } from '../secrets.js';
import { VaultState } from '../service/state.js';
import { DurableState, type StateBinding } from './durable-state.js';
import type { VaultIdentity, VaultSnapshot } from './state-file.js';

/** A vault's state, ready for the service. */
export interface OpenedState {
  state: VaultState;
  roles: RoleAssignments;
  secrets: VaultSecrets;
  /** The identity as last loaded; `tls` and `httpsPort` change only inside a transaction. */
  identity: VaultIdentity;
  /** The shared state file, when persisted. */
  durable: DurableState | undefined;
}

/**
 * Opens the state of a vault started with `opts`: from (and bound to) `opts.stateFile`, which
 * is created when absent, or fresh in memory.
 *
 * @throws {Error} when the state file is corrupt or cannot be read or created.
 */
export async function openVaultState(opts: ResolvedOptions): Promise<OpenedState> {
  const flavour = opts.flavour ?? 'premium';
  const settings = { softDeleteRetentionDays: opts.softDeleteRetentionDays, purgeProtection: opts.purgeProtection, operationDelayMs: opts.operationDelayMs, flavour };
  const state = new VaultState(settings, opts.clock);
  const roles = new RoleAssignments({ roles: opts.roles, propagationMs: opts.roleAssignmentDelayMs });
  if (opts.stateFile === undefined) {
    const secrets = vaultSecrets();
    return { state, roles, secrets, identity: { tenantId: secrets.tenantId, secret: secrets.master.toString('base64url') }, durable: undefined };
  }
  let identity: VaultIdentity | undefined;
  const path = opts.stateFile;
  const binding: StateBinding = {
    apply(snapshot: VaultSnapshot) {
      const next = snapshot.identity;
      if (identity && (identity.secret !== next.secret || identity.tenantId !== next.tenantId)) {
        throw new Error(`The state file ${path} now holds another vault (its secret changed); restart this one.`);
      }
      if (identity) Object.assign(identity, { tls: next.tls, httpsPort: next.httpsPort, flavour: next.flavour });
      else identity = { ...next };
      state.keys.clear();
      for (const record of snapshot.objects.keys) state.keys.set(record);
      state.secrets.clear();
      for (const record of snapshot.objects.secrets) state.secrets.set(record);
      state.certificates.clear();
      for (const record of snapshot.objects.certificates) state.certificates.set(record);
      state.issuers.clear();
      for (const issuer of snapshot.objects.certificateIssuers) state.issuers.set(issuer.name.toLowerCase(), issuer);
      state.contacts = snapshot.objects.certificateContacts.length > 0 ? snapshot.objects.certificateContacts : undefined;
      roles.replaceAll(snapshot.roleAssignments);
      state.events.replace(snapshot.events ?? emptyEventLog());
      state.clockOffsetMs = snapshot.clockOffsetMs;
    },
    capture() {
      const objects = {
        keys: state.keys.values(),
        secrets: state.secrets.values(),
        certificates: state.certificates.values(),
        certificateIssuers: [...state.issuers.values()],
        certificateContacts: state.contacts ?? [],
      };
      return { identity: { ...identity! }, roleAssignments: roles.list(), objects, events: state.events.snapshot(), clockOffsetMs: state.clockOffsetMs };
    },
    takeChanged: () => state.takeChanged(),
  };
  const fresh = (): VaultIdentity => {
    const secrets = vaultSecrets(undefined, randomUUID());
    return { tenantId: secrets.tenantId, secret: secrets.master.toString('base64url') };
  };
  const { durable } = await DurableState.open(path, binding, fresh);
  // The flavour is the vault's: recorded when given, kept by later starts that do not say.
  state.settings.flavour = opts.flavour ?? identity!.flavour ?? 'premium';
  if (opts.flavour !== undefined && identity!.flavour !== opts.flavour) {
    await durable.transaction(() => {
      identity!.flavour = opts.flavour;
      state.markChanged();
    });
  }
  const secrets = vaultSecrets(Buffer.from(identity!.secret, 'base64url'), identity!.tenantId);
  return { state, roles, secrets, identity: identity!, durable };
}
