/**
 * Rotation: manual `rotate`, the rotation policy (get/put), and its execution. The service runs
 * policies on a timer; the local vault runs them lazily, against the injected clock, whenever a
 * request touches the key. Missed rotations are caught up one by one, each version created at
 * the time the service would have created it, so the result does not depend on when it is seen.
 *
 * @module
 */
import { generateMaterial } from '../crypto/key-material.js';
import { badParameter } from '../http/errors.js';
import { currentVersion, keyBundle } from './bundles.js';
import { ok, type OperationContext, type OperationResult } from './operation.js';
import { addVersion, specOf } from './key-management.js';
import { optionalObject } from './requests.js';
import type { KeyRecord, LifetimeActionRecord, RotationPolicyRecord, VaultState } from './state.js';

const DAY = 86_400;
// Key Vault: expiryTime ≥ 28 days; rotation ≥ 7 days after creation and ≥ 7 days before expiry.
const MIN_EXPIRY = 28 * DAY;
const MIN_TRIGGER = 7 * DAY;
const MAX_CATCH_UP = 1000;
const DEFAULT_ACTIONS: LifetimeActionRecord[] = [{ trigger: { timeBeforeExpiry: 'P30D' }, action: { type: 'Notify' } }];

/** A parsed duration; every field is a non-negative integer. */
export interface IsoDuration {
  years: number;
  months: number;
  weeks: number;
  days: number;
  hours: number;
  minutes: number;
  seconds: number;
}

const PATTERN = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?=\d)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;

/** Parses an ISO 8601 duration; `undefined` when `text` is not one. */
export function parseIsoDuration(text: unknown): IsoDuration | undefined {
  if (typeof text !== 'string') return undefined;
  const m = PATTERN.exec(text);
  if (!m) return undefined;
  const n = (i: number): number => Number(m[i] ?? 0);
  return { years: n(1), months: n(2), weeks: n(3), days: n(4), hours: n(5), minutes: n(6), seconds: n(7) };
}

/** `at` (Unix seconds) plus `sign` × `duration`, with calendar years and months. */
export function addIsoDuration(at: number, duration: IsoDuration, sign: 1 | -1 = 1): number {
  const date = new Date(at * 1000);
  date.setUTCFullYear(date.getUTCFullYear() + sign * duration.years, date.getUTCMonth() + sign * duration.months);
  date.setUTCDate(date.getUTCDate() + sign * (duration.weeks * 7 + duration.days));
  const clock = duration.hours * 3600 + duration.minutes * 60 + duration.seconds;
  return Math.floor(date.getTime() / 1000) + sign * clock;
}

/** The duration's length in seconds measured from `at` (months and years vary). */
function isoDurationSeconds(duration: IsoDuration, at = 0): number {
  return addIsoDuration(at, duration) - at;
}

function duration(text: string): IsoDuration {
  const parsed = parseIsoDuration(text);
  if (!parsed) throw badParameter(`'${text}' is not an ISO 8601 duration.`);
  return parsed;
}

/** Creates the next version of `record` at time `at`, with the same type, size/curve and key_ops. */
async function addRotatedVersion(state: VaultState, record: KeyRecord, at: number): Promise<void> {
  const previous = currentVersion(record);
  const expiry = record.rotationPolicy?.expiryTime;
  const attributes = { enabled: true, created: at, updated: at, ...(expiry ? { exp: addIsoDuration(at, duration(expiry)) } : {}) };
  addVersion(state, record.name, {
    kty: previous.kty,
    material: await generateMaterial(specOf(previous.material)),
    keyOps: [...previous.keyOps],
    attributes,
    ...(previous.tags ? { tags: { ...previous.tags } } : {}),
  });
}

/** `POST /keys/{name}/rotate`: a new current version, now. */
export async function rotateKey(ctx: OperationContext): Promise<OperationResult> {
  const record = ctx.state.activeKey(ctx.name);
  await addRotatedVersion(ctx.state, record, ctx.state.now());
  return ok(keyBundle(ctx.state, ctx.base, record, currentVersion(record)));
}

function rotationDue(action: LifetimeActionRecord, record: KeyRecord): number | undefined {
  const latest = currentVersion(record).attributes;
  if (action.trigger.timeAfterCreate) return addIsoDuration(latest.created, duration(action.trigger.timeAfterCreate));
  if (action.trigger.timeBeforeExpiry && latest.exp !== undefined) {
    return Math.max(latest.created, addIsoDuration(latest.exp, duration(action.trigger.timeBeforeExpiry), -1));
  }
  return undefined;
}

/** Runs the key's Rotate action for every due time up to now (Notify actions: events/due.ts). */
export async function applyRotationPolicy(state: VaultState, record: KeyRecord): Promise<void> {
  const rotate = record.rotationPolicy?.lifetimeActions.find((a) => a.action.type === 'Rotate');
  if (!rotate || record.deleted) return;
  for (let i = 0; i < MAX_CATCH_UP; i++) {
    const due = rotationDue(rotate, record);
    if (due === undefined || due > state.now()) return;
    await addRotatedVersion(state, record, due);
  }
}

/**
 * When the key's Notify action is due for a version expiring at `exp` (Unix seconds): `exp`
 * minus the action's `timeBeforeExpiry`, by the policy in force (the service's default Notify
 * P30D for a key without one); `undefined` when the policy has no such action.
 */
export function notifyTime(record: KeyRecord, exp: number): number | undefined {
  const actions = record.rotationPolicy?.lifetimeActions ?? DEFAULT_ACTIONS;
  const before = actions.find((a) => a.action.type === 'Notify' && a.trigger.timeBeforeExpiry)?.trigger.timeBeforeExpiry;
  return before === undefined ? undefined : addIsoDuration(exp, duration(before), -1);
}

function policyBody(ctx: OperationContext, policy: RotationPolicyRecord | undefined): Record<string, unknown> {
  const attributes: Record<string, unknown> = {};
  if (policy?.expiryTime) attributes.expiryTime = policy.expiryTime;
  if (policy) Object.assign(attributes, { created: policy.created, updated: policy.updated });
  return {
    id: `${ctx.base}/keys/${ctx.name}/rotationpolicy`,
    lifetimeActions: (policy?.lifetimeActions ?? DEFAULT_ACTIONS).map((a) => ({ trigger: { ...a.trigger }, action: { ...a.action } })),
    attributes,
  };
}

/** `GET /keys/{name}/rotationpolicy`; a key without a policy reports the service default. */
export function getKeyRotationPolicy(ctx: OperationContext): OperationResult {
  return ok(policyBody(ctx, ctx.state.activeKey(ctx.name).rotationPolicy));
}

function parseAction(value: unknown, expiry: number | undefined): LifetimeActionRecord {
  const item = optionalObject(value, 'lifetimeActions[]') ?? {};
  const trigger = optionalObject(item.trigger, 'trigger') ?? {};
  const type = String(optionalObject(item.action, 'action')?.type ?? '').toLowerCase();
  if (type !== 'rotate' && type !== 'notify') throw badParameter("A lifetime action's type must be 'Rotate' or 'Notify'.");
  const after = trigger.timeAfterCreate;
  const before = trigger.timeBeforeExpiry;
  if ((after === undefined) === (before === undefined)) {
    throw badParameter("A lifetime action's trigger needs exactly one of 'timeAfterCreate' and 'timeBeforeExpiry'.");
  }
  const text = String(after ?? before);
  const seconds = isoDurationSeconds(duration(text));
  if (seconds < MIN_TRIGGER) throw badParameter(`The trigger '${text}' must be at least 7 days (P7D).`);
  if (before !== undefined && expiry !== undefined && seconds >= expiry) {
    throw badParameter(`'timeBeforeExpiry' (${text}) must be shorter than the policy's 'expiryTime'.`);
  }
  const normalized = after !== undefined ? { timeAfterCreate: text } : { timeBeforeExpiry: text };
  return { trigger: normalized, action: { type: type === 'rotate' ? 'Rotate' : 'Notify' } };
}

/** `PUT /keys/{name}/rotationpolicy`; an empty `lifetimeActions` restores the default. */
export function updateKeyRotationPolicy(ctx: OperationContext): OperationResult {
  const record = ctx.state.activeKey(ctx.name);
  const expiryTime = optionalObject(ctx.body.attributes, 'attributes')?.expiryTime;
  let expiry: number | undefined;
  if (expiryTime !== undefined && expiryTime !== null) {
    expiry = isoDurationSeconds(duration(String(expiryTime)));
    if (expiry < MIN_EXPIRY) throw badParameter(`'expiryTime' must be at least 28 days (P28D).`);
  }
  const actions = ctx.body.lifetimeActions ?? [];
  if (!Array.isArray(actions)) throw badParameter("'lifetimeActions' must be an array.");
  const lifetimeActions = actions.map((a: unknown) => parseAction(a, expiry));
  const now = ctx.state.now();
  const policy: RotationPolicyRecord = {
    lifetimeActions: lifetimeActions.length > 0 ? lifetimeActions : DEFAULT_ACTIONS,
    created: record.rotationPolicy?.created ?? now,
    updated: now,
  };
  if (expiry !== undefined) policy.expiryTime = String(expiryTime);
  record.rotationPolicy = policy;
  ctx.state.markChanged();
  return ok(policyBody(ctx, policy));
}
