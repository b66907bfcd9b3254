/** Helpers for the event tests: a vault on a manual clock with a recording subscriber. */
import type { KeyVaultEvent, KeyVaultEventType } from '../../src/local-vault/index.js';

/** Records every event a subscriber gets. */
export class EventRecorder {
  readonly events: KeyVaultEvent[] = [];
  readonly listener = (event: KeyVaultEvent): void => {
    this.events.push(event);
  };
  of(type: KeyVaultEventType, name?: string): KeyVaultEvent[] {
    return this.events.filter((e) => e.eventType === type && (name === undefined || e.subject === name));
  }
  types(): string[] {
    return this.events.map((e) => e.eventType.replace('Microsoft.KeyVault.', ''));
  }
}

export const DAY_MS = 86_400_000;
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
