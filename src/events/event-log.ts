import type { DataSource, EntityManager } from 'typeorm';
import { execute } from '../db/sql';
import { fromDbTime, toDbTime, type Clock } from '../db/time';

export const EVENT_RETENTION_DAYS = 30;
/** Rows per INSERT of appendMany: 8,000 parameters. */
const EVENTS_PER_INSERT = 1000;

export const EVENT_TYPES = [
  'member.created',
  'member.confirmed',
  'member.updated',
  'member.unsubscribed',
  'member.bounced',
  'member.restricted',
  'member.unrestricted',
  'member.erased',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** What an event says about a member: never an address or a name (CONTRACT §10). */
export interface MemberEventData {
  memberId: number;
  externalId: string | null;
  source: string;
  status: string;
  channel?: string | null;
}

/** The event as the feed and the webhooks send it. */
export interface MemberEventView {
  type: EventType;
  timestamp: string;
  sequence: number;
  data: MemberEventData;
}

/**
 * The events room's writer port: the members room calls `append` inside the transaction of the
 * change itself, so a change and its event commit together or not at all.
 */
export class EventLog {
  private readonly ds: DataSource;
  private readonly clock: Clock;

  constructor(deps: { dataSource: DataSource; clock: Clock }) {
    this.ds = deps.dataSource;
    this.clock = deps.clock;
  }

  /**
   * Bumps the one-row counter first: on MariaDB the UPDATE takes that row's write lock and keeps
   * it until this transaction commits, so the next writer gets its number only after this commit
   * (sequences become visible in commit order, never with a gap a reader could skip past);
   * SQLite has one writer at a time anyway.
   */
  async append(manager: EntityManager, type: EventType, data: MemberEventData): Promise<number> {
    return this.appendMany(manager, [{ type, data }]);
  }

  /**
   * `append` for many changes in one transaction (an import's batch, CONTRACT §11, or bounce
   * reports arriving together): the counter is bumped once by their number, under the same row
   * lock, and the events are written with multi-row INSERTs, in the order given. Returns the last
   * event's sequence (0 for none).
   */
  async appendMany(
    manager: EntityManager,
    events: Array<{ type: EventType; data: MemberEventData }>,
  ): Promise<number> {
    if (events.length === 0) return 0;
    if (!manager.queryRunner?.isTransactionActive) throw new Error('EventLog.append needs a transaction');
    const last = await this.bump(manager, events.length);
    const first = last - events.length + 1;
    const now = toDbTime(this.clock());
    for (let i = 0; i < events.length; i += EVENTS_PER_INSERT) {
      const chunk = events.slice(i, i + EVENTS_PER_INSERT);
      await execute(
        manager,
        `INSERT INTO member_events (sequence, type, member_id, external_id, source, status, channel, occurred_at)
         VALUES ${chunk.map(() => '(?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
        chunk.flatMap((e, j) => [
          first + i + j,
          e.type,
          e.data.memberId,
          e.data.externalId,
          e.data.source,
          e.data.status,
          e.data.channel ?? null,
          now,
        ]),
      );
    }
    return last;
  }

  /**
   * Adds `n` to the counter and returns its new value in the same statement: MySQL's
   * `LAST_INSERT_ID(expr)` hands the value back in the UPDATE's reply, SQLite has `RETURNING`.
   */
  private async bump(manager: EntityManager, n: number): Promise<number> {
    if (manager.connection.options.type === 'mysql') {
      const res = await execute(
        manager,
        'UPDATE event_sequence SET value = LAST_INSERT_ID(value + ?) WHERE id = 1',
        [n],
      );
      if (res.affected !== 1 || !res.insertId) throw new Error('event_sequence: no row to count with');
      return res.insertId;
    }
    const res = await execute(
      manager,
      'UPDATE event_sequence SET value = value + ? WHERE id = 1 RETURNING value',
      [n],
    );
    if (res.records.length !== 1) throw new Error('event_sequence: no row to count with');
    return Number(res.records[0].value);
  }

  /**
   * Leaving and erasure forget the person's profile, the app's externalId with it: the member's
   * earlier events keep only the member id, source and status (apps know the member by its id).
   */
  async forgetExternalId(manager: EntityManager, memberId: number): Promise<void> {
    // A plain read, then updates by primary key: an UPDATE … WHERE member_id would take gap locks on
    // that index on MariaDB, and two leaves inserting their events into each other's gap deadlock.
    // The caller holds the member's row lock, under which every event of this member is written,
    // so the read sees them all.
    const res = await execute(
      manager,
      'SELECT sequence FROM member_events WHERE member_id = ? AND external_id IS NOT NULL',
      [memberId],
    );
    const sequences = res.records.map((r) => Number(r.sequence));
    if (sequences.length === 0) return;
    await execute(
      manager,
      `UPDATE member_events SET external_id = NULL WHERE sequence IN (${sequences.map(() => '?').join(', ')})`,
      sequences,
    );
  }

  /** Events after `after` in sequence order; `next` is the last one's sequence (or `after`). */
  async list(after: number, limit: number): Promise<{ events: MemberEventView[]; next: number }> {
    const res = await execute(
      this.ds,
      `SELECT * FROM member_events WHERE sequence > ? ORDER BY sequence LIMIT ${Math.floor(limit)}`,
      [after],
    );
    const events = res.records.map(presentEvent);
    return { events, next: events.length ? events[events.length - 1].sequence : after };
  }

  async bySequence(sequences: number[], manager?: EntityManager): Promise<Map<number, MemberEventView>> {
    const out = new Map<number, MemberEventView>();
    if (sequences.length === 0) return out;
    const res = await execute(
      manager ?? this.ds,
      `SELECT * FROM member_events WHERE sequence IN (${sequences.map(() => '?').join(', ')})`,
      sequences,
    );
    for (const r of res.records) {
      const e = presentEvent(r);
      out.set(e.sequence, e);
    }
    return out;
  }

  async lastSequence(manager?: EntityManager): Promise<number> {
    const res = await execute(manager ?? this.ds, 'SELECT value FROM event_sequence WHERE id = 1');
    return Number(res.records[0]?.value ?? 0);
  }

  /** Retention: events, and their webhook deliveries, are kept 30 days (CONTRACT §10). */
  async purge(now: Date): Promise<number> {
    const cutoff = toDbTime(new Date(now.getTime() - EVENT_RETENTION_DAYS * 24 * 3600 * 1000));
    await execute(this.ds, 'DELETE FROM webhook_deliveries WHERE created_at < ?', [cutoff]);
    const res = await execute(this.ds, 'DELETE FROM member_events WHERE occurred_at < ?', [cutoff]);
    return res.affected;
  }
}

export function presentEvent(r: Record<string, unknown>): MemberEventView {
  const data: MemberEventData = {
    memberId: Number(r.member_id),
    externalId: (r.external_id as string | null) ?? null,
    source: String(r.source),
    status: String(r.status),
  };
  if (r.channel !== null && r.channel !== undefined) data.channel = String(r.channel);
  return {
    type: String(r.type) as EventType,
    timestamp: fromDbTime(r.occurred_at)!.toISOString(),
    sequence: Number(r.sequence),
    data,
  };
}
