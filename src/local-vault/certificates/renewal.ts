/**
 * Renewal on the vault's clock: a policy's `AutoRenew` lifetime action starts a new version
 * `days_before_expiry` days before the current version expires, or at `lifetime_percentage` of
 * its lifetime; with a new key unless the policy reuses it. Like rotation policies, the local
 * vault runs it when a request touches the certificate (or its key or secret; a list touches
 * all), against the injected clock, and catches up missed renewals one by one, each at the time
 * it was due. `EmailContacts` sends nothing (the local vault has no mail).
 *
 * A renewal whose issuer does not complete at once (`Unknown`, or a named CA, which fails)
 * leaves its operation on the certificate; no further renewal starts until it is merged,
 * cancelled or deleted.
 *
 * @module
 */
import { publishDueEvents } from '../events/due.js';
import type { VaultState } from '../service/state.js';
import { startVersion } from './operation.js';
import type { CertificateRecord, CertificateVersionRecord } from './records.js';

const DAY = 86_400;
const MAX_CATCH_UP = 1000;

/** When the AutoRenew action of `record` is due for `version`, in Unix seconds; `undefined` without one. */
export function renewalDue(record: CertificateRecord, version: CertificateVersionRecord): number | undefined {
  const action = record.policy.lifetime_actions.find((a) => a.action.action_type === 'AutoRenew');
  const { nbf, exp } = version.attributes;
  if (!action || nbf === undefined || exp === undefined) return undefined;
  const { days_before_expiry: days, lifetime_percentage: percentage } = action.trigger;
  if (days !== undefined) return Math.max(nbf, exp - days * DAY);
  if (percentage !== undefined) return nbf + Math.floor(((exp - nbf) * percentage) / 100);
  return undefined;
}

function latestCompleted(record: CertificateRecord): CertificateVersionRecord | undefined {
  return [...record.versions].reverse().find((v) => v.cer !== undefined);
}

/** Runs every renewal of `record` that is due by now. */
export async function applyLifetimeActions(state: VaultState, record: CertificateRecord): Promise<void> {
  if (record.deleted) return;
  for (let i = 0; i < MAX_CATCH_UP; i++) {
    const current = latestCompleted(record);
    // An operation that has not made the current version (pending, failed, cancelled) blocks renewal.
    if (!current || (record.operation && record.operation.version !== current.version)) return;
    const due = renewalDue(record, current);
    if (due === undefined || due > state.now()) return;
    // What the current version published before it was renewed (NearExpiry), in order.
    publishDueEvents(state, { collection: 'certificates', name: record.name }, due);
    await startVersion(state, record, due, current.tags ? { ...current.tags } : undefined);
  }
}
