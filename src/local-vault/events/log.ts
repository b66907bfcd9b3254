/**
 * The vault's event log: every event the vault published (newest last, the oldest dropped past
 * {@link MAX_LOGGED_EVENTS}) and the marks that say which expiry events each object version
 * already had. It is part of the state, so the state file carries it: a restarted vault or a
 * second process on the same file sees what was published and never publishes it again, and
 * each process delivers to its own subscribers what any process published (by `seq`).
 *
 * @module
 */
import { randomUUID } from 'node:crypto';
import type { StoredEvent } from './schema.js';

/** Events kept for subscribers in other processes to catch up on (older ones are dropped). */
export const MAX_LOGGED_EVENTS = 500;

/** The expiry events an object version had, each recorded with the `exp` it was published for. */
export interface EventMark {
  nearExpiry?: number;
  expired?: number;
}

/** The log as the state file stores it. */
export interface EventLogSnapshot {
  /** The `seq` of the last event ever published (0: none). */
  seq: number;
  events: StoredEvent[];
  /** Marks by `{collection}/{lower-case name}/{version}`. */
  marks: Record<string, EventMark>;
}

/** Published events and expiry marks of one vault. */
export class EventLog {
  #seq = 0;
  #events: StoredEvent[] = [];
  #marks = new Map<string, EventMark>();

  /** The `seq` of the last event published. */
  get head(): number {
    return this.#seq;
  }

  /** Appends an event with the next `seq` and a new id. The caller marks the state changed. */
  publish(fields: Omit<StoredEvent, 'seq' | 'id'>): StoredEvent {
    const event: StoredEvent = { seq: ++this.#seq, id: randomUUID(), ...fields };
    this.#events.push(event);
    if (this.#events.length > MAX_LOGGED_EVENTS) this.#events.splice(0, this.#events.length - MAX_LOGGED_EVENTS);
    return event;
  }

  /** Events published after `seq`, oldest first. */
  since(seq: number): StoredEvent[] {
    return this.#events.filter((e) => e.seq > seq);
  }

  /** The marks of one object version. */
  marked(key: string): EventMark | undefined {
    return this.#marks.get(key);
  }

  /** Records that `kind` was published for the version `key` expiring at `exp`. */
  setMark(key: string, kind: keyof EventMark, exp: number): void {
    this.#marks.set(key, { ...this.#marks.get(key), [kind]: exp });
  }

  /** Drops the marks of versions not in `keep` (no longer current, or purged); whether any was dropped. */
  prune(keep: ReadonlySet<string>): boolean {
    let dropped = false;
    for (const key of this.#marks.keys()) {
      if (!keep.has(key)) {
        this.#marks.delete(key);
        dropped = true;
      }
    }
    return dropped;
  }

  /** The log as plain JSON. */
  snapshot(): EventLogSnapshot {
    return { seq: this.#seq, events: this.#events.map((e) => ({ ...e })), marks: Object.fromEntries([...this.#marks].map(([k, m]) => [k, { ...m }])) };
  }

  /** Replaces the log with `snapshot` (a reload of the state file). */
  replace(snapshot: EventLogSnapshot): void {
    this.#seq = snapshot.seq;
    this.#events = snapshot.events.map((e) => ({ ...e }));
    this.#marks = new Map(Object.entries(snapshot.marks).map(([k, m]) => [k, { ...m }]));
  }
}

/** An empty log's snapshot (a state file written before events existed). */
export function emptyEventLog(): EventLogSnapshot {
  return { seq: 0, events: [], marks: {} };
}
