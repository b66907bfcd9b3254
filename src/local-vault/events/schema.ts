/**
 * Key Vault's events in the Event Grid event schema, as documented in "Azure Key Vault as Event
 * Grid source" (learn.microsoft.com/azure/event-grid/event-schema-key-vault): one event type per
 * object noun (`Key`, `Secret`, `Certificate`) and kind (`NewVersionCreated`, `NearExpiry`,
 * `Expired`); `data` carries `Id`, `VaultName`, `ObjectType`, `ObjectName`, `Version`, `NBF`
 * and `EXP` (seconds since the epoch). Never a value.
 *
 * @module
 */
import type { ObjectNoun } from '../http/errors.js';

/** What happened to an object version. */
export const EVENT_KINDS = ['NewVersionCreated', 'NearExpiry', 'Expired'] as const;

/** One of {@link EVENT_KINDS}. */
export type KeyVaultEventKind = (typeof EVENT_KINDS)[number];

/** `Microsoft.KeyVault.{Noun}{Kind}`, e.g. `Microsoft.KeyVault.SecretNearExpiry`. */
export type KeyVaultEventType = `Microsoft.KeyVault.${ObjectNoun}${KeyVaultEventKind}`;

/** The `data` of a Key Vault event (member names as the service sends them). */
export interface KeyVaultEventData {
  /** The versioned object id: `https://{vault}/{collection}/{name}/{version}`. */
  readonly Id: string;
  readonly VaultName: string;
  /** `Key`, `Secret` or `Certificate`. */
  readonly ObjectType: ObjectNoun;
  readonly ObjectName: string;
  readonly Version: string;
  /** Not-before, seconds since the epoch; `null` when the version has none. */
  readonly NBF: number | null;
  /** Expiry, seconds since the epoch; `null` when the version has none. */
  readonly EXP: number | null;
}

/** A Key Vault event in the Event Grid event schema. */
export interface KeyVaultEvent {
  /** A UUID, the same for every subscriber of the event. */
  readonly id: string;
  /** `/subscriptions/{id}/resourceGroups/{rg}/providers/Microsoft.KeyVault/vaults/{vaultName}`. */
  readonly topic: string;
  /** The object's name. */
  readonly subject: string;
  readonly eventType: KeyVaultEventType;
  /** ISO 8601 UTC, from the vault's clock. */
  readonly eventTime: string;
  readonly data: KeyVaultEventData;
  readonly dataVersion: '1';
  readonly metadataVersion: '1';
}

/** An event as the state keeps it: everything but what depends on the vault's address. */
export interface StoredEvent {
  /** Position in the vault's event log (1, 2, ...), shared by every process on one state file. */
  seq: number;
  id: string;
  noun: ObjectNoun;
  kind: KeyVaultEventKind;
  /** The object collection's path segment (`keys`, `secrets`, ...). */
  collection: string;
  name: string;
  version: string;
  nbf: number | null;
  exp: number | null;
  /** When it happened, seconds since the epoch on the vault's clock. */
  time: number;
}

/** Where events say they come from: the Azure resource the vault stands for. */
export interface EventSource {
  /** `https://host[:port]` of the vault (ids are built from it). */
  vaultUrl: string;
  vaultName: string;
  subscriptionId: string;
  resourceGroup: string;
}

/** The Event Grid event type of `noun` and `kind`. */
export function eventTypeOf(noun: ObjectNoun, kind: KeyVaultEventKind): KeyVaultEventType {
  return `Microsoft.KeyVault.${noun}${kind}`;
}

/** The Event Grid topic of a vault. */
export function topicOf(source: EventSource): string {
  return `/subscriptions/${source.subscriptionId}/resourceGroups/${source.resourceGroup}/providers/Microsoft.KeyVault/vaults/${source.vaultName}`;
}

/** The Event Grid event of a stored event, as delivered by the vault at `source`. */
export function renderEvent(stored: StoredEvent, source: EventSource): KeyVaultEvent {
  return {
    id: stored.id,
    topic: topicOf(source),
    subject: stored.name,
    eventType: eventTypeOf(stored.noun, stored.kind),
    eventTime: new Date(stored.time * 1000).toISOString(),
    data: {
      Id: `${source.vaultUrl}/${stored.collection}/${stored.name}/${stored.version}`,
      VaultName: source.vaultName,
      ObjectType: stored.noun,
      ObjectName: stored.name,
      Version: stored.version,
      NBF: stored.nbf,
      EXP: stored.exp,
    },
    dataVersion: '1',
    metadataVersion: '1',
  };
}
