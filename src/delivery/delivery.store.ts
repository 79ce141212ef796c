import type { DataSource, EntityManager } from 'typeorm';
import { retryOnDeadlock } from '../db/errors';
import { execute, placeholders } from '../db/sql';
import { fromDbTime, toDbTime } from '../db/time';
import type { RecipientRow } from '../members/members.service';

export const DELIVERY_STATES = ['queued', 'sending', 'sent', 'failed', 'skipped'] as const;
export type DeliveryState = (typeof DELIVERY_STATES)[number];

/**
 * A worker heard from within this window is alive (it heartbeats every second): it shares
 * SEND_RATE, its claims hold up a pause, and no other worker takes them. One silent for longer is
 * gone, as a killed one is, and its claims are retaken (DeliveryWorker's `ownerSilentMs`).
 */
export const HEARTBEAT_LIVE_MS = 8_000;

export interface ClaimedDelivery {
  id: number;
  campaignId: number;
  memberId: number | null;
  attempts: number;
}

/** What the worker needs of a recipient, read right before handoff: the members room's row. */
export type Recipient = RecipientRow;

export interface DeliveryCounts {
  total: number;
  queued: number;
  sending: number;
  sent: number;
  failed: number;
  skipped: number;
}

export interface Outcome {
  id: number;
  state: 'sent' | 'failed' | 'skipped';
  error?: string;
}

/**
 * The delivery ledger: one row per (campaign, member) with state
 * queued → sending → sent | failed | skipped. The worker sees only this narrow store.
 * Claims are conditional: on MySQL `SELECT … FOR UPDATE SKIP LOCKED` in a short transaction,
 * on SQLite an UPDATE guarded by the expected state (SQLite has one writer at a time).
 */
export class DeliveryStore {
  private readonly ds: DataSource;
  private readonly mysql: boolean;

  constructor(deps: { dataSource: DataSource }) {
    this.ds = deps.dataSource;
    this.mysql = deps.dataSource.options.type === 'mysql';
  }

  /** Snapshot of the audience: one queued row per member the SELECT yields. Returns how many. */
  async snapshot(
    manager: EntityManager,
    campaignId: number,
    audience: { sql: string; params: unknown[] },
    now: Date,
  ): Promise<number> {
    const t = toDbTime(now);
    // `audience` is the members room's SELECT of member ids: the ledger names no other table.
    const res = await execute(
      manager,
      `INSERT INTO deliveries (campaign_id, member_id, status, attempts, next_attempt_at, updated_at)
       SELECT ?, a.id, 'queued', 0, ?, ? FROM (${audience.sql}) a`,
      [campaignId, t, t, ...audience.params],
    );
    return res.affected;
  }

  /** Claims up to `limit` due rows of campaigns that are sending, with a lease for `workerId`. */
  async claim(
    workerId: string,
    campaignIds: number[],
    limit: number,
    now: Date,
    leaseMs: number,
  ): Promise<ClaimedDelivery[]> {
    if (campaignIds.length === 0 || limit <= 0) return [];
    const due = toDbTime(now);
    const lease = toDbTime(new Date(now.getTime() + leaseMs));
    const where = `campaign_id IN (${placeholders(campaignIds.length)}) AND status = 'queued' AND next_attempt_at <= ?`;
    if (this.mysql) {
      // Two workers claiming and recording at once can deadlock on the ledger's index; InnoDB
      // rolls one back, and both transactions are safe to run again.
      return retryOnDeadlock(() =>
        this.ds.transaction(async (m) => {
          const picked = await execute(
            m,
            `SELECT id, campaign_id, member_id, attempts FROM deliveries WHERE ${where} ORDER BY id LIMIT ${Math.floor(limit)} FOR UPDATE SKIP LOCKED`,
            [...campaignIds, due],
          );
          if (picked.records.length === 0) return [];
          const ids = picked.records.map((r) => Number(r.id));
          await execute(
            m,
            `UPDATE deliveries SET status = 'sending', claimed_by = ?, lease_until = ?, updated_at = ? WHERE id IN (${placeholders(ids.length)})`,
            [workerId, lease, due, ...ids],
          );
          return picked.records.map(toClaimed);
        }),
      );
    }
    // SQLite: the guarded UPDATE … RETURNING is atomic; only rows still queued can be taken.
    const res = await execute(
      this.ds,
      `UPDATE deliveries SET status = 'sending', claimed_by = ?, lease_until = ?, updated_at = ?
       WHERE id IN (SELECT id FROM deliveries WHERE ${where} ORDER BY id LIMIT ${Math.floor(limit)}) AND status = 'queued'
       RETURNING id, campaign_id, member_id, attempts`,
      [workerId, lease, due, ...campaignIds, due],
    );
    return res.records.map(toClaimed).sort((a, b) => a.id - b.id);
  }

  /**
   * Extends the lease of claims this worker still holds in memory and returns the ids that are
   * still its own (claimed by it and `sending`): only those may still be handed to SMTP.
   */
  async renewLeases(workerId: string, ids: number[], now: Date, leaseMs: number): Promise<Set<number>> {
    if (ids.length === 0) return new Set();
    const res = await execute(
      this.ds,
      `UPDATE deliveries SET lease_until = ? WHERE claimed_by = ? AND status = 'sending' AND id IN (${placeholders(ids.length)})`,
      [toDbTime(new Date(now.getTime() + leaseMs)), workerId, ...ids],
    );
    if (res.affected === ids.length) return new Set(ids);
    // Fewer than asked (or MySQL counting only changed rows): read which are still ours.
    const still = await execute(
      this.ds,
      `SELECT id FROM deliveries WHERE claimed_by = ? AND status = 'sending' AND id IN (${placeholders(ids.length)})`,
      [workerId, ...ids],
    );
    return new Set(still.records.map((r) => Number(r.id)));
  }

  /**
   * Rows left `sending` by a worker that is gone go back to the queue: their worker has a
   * heartbeat row but has written no heartbeat since `silentSince`, lease or not; or it has no
   * row (never beat, or removed) and their lease ran out. A live worker's claims are never taken,
   * however long its lease has been expired, and the reaper's own never.
   */
  async reapSilentOwners(reaperId: string, now: Date, silentSince: Date): Promise<number> {
    const t = toDbTime(now);
    const where = `status = 'sending'
         AND (claimed_by IS NULL OR (claimed_by <> ? AND claimed_by NOT IN (SELECT id FROM workers WHERE heartbeat_at >= ?)))
         AND (lease_until < ? OR claimed_by IN (SELECT id FROM workers))`;
    const params = [reaperId, toDbTime(silentSince), t];
    // Every worker looks every second: a plain read first, which on MariaDB takes no locks.
    const found = await execute(this.ds, `SELECT 1 AS x FROM deliveries WHERE ${where} LIMIT 1`, params);
    if (found.records.length === 0) return 0;
    const res = await execute(
      this.ds,
      `UPDATE deliveries SET status = 'queued', claimed_by = NULL, lease_until = NULL, updated_at = ? WHERE ${where}`,
      [t, ...params],
    );
    return res.affected;
  }

  /** Records outcomes of this worker's claims; only rows still claimed by it change. */
  async record(workerId: string, outcomes: Outcome[], now: Date): Promise<void> {
    if (outcomes.length === 0) return;
    const t = toDbTime(now);
    const sent = outcomes.filter((o) => o.state === 'sent').map((o) => o.id);
    const skipped = outcomes.filter((o) => o.state === 'skipped');
    const failed = outcomes.filter((o) => o.state === 'failed');
    const run = async (m: EntityManager) => {
      if (sent.length) {
        await execute(
          m,
          `UPDATE deliveries SET status = 'sent', sent_at = ?, updated_at = ?, attempts = attempts + 1, claimed_by = NULL, lease_until = NULL, last_error = NULL
           WHERE id IN (${placeholders(sent.length)}) AND status = 'sending' AND claimed_by = ?`,
          [t, t, ...sent, workerId],
        );
      }
      for (const o of [...skipped, ...failed]) {
        await execute(
          m,
          `UPDATE deliveries SET status = ?, updated_at = ?, attempts = attempts + ?, claimed_by = NULL, lease_until = NULL, last_error = ?
           WHERE id = ? AND status = 'sending' AND claimed_by = ?`,
          [o.state, t, o.state === 'failed' ? 1 : 0, o.error?.slice(0, 500) ?? null, o.id, workerId],
        );
      }
    };
    // Repeatable: every update is guarded by the claim, so a rerun changes only what is still claimed.
    await retryOnDeadlock(() => this.ds.transaction(run));
  }

  /** A temporary failure: back to the queue for a later attempt. `countAttempt` false for outages not caused by the message. */
  async retryLater(
    workerId: string,
    ids: number[],
    at: Date,
    error: string,
    countAttempt: boolean,
    now: Date,
  ): Promise<void> {
    if (ids.length === 0) return;
    await execute(
      this.ds,
      `UPDATE deliveries SET status = 'queued', next_attempt_at = ?, attempts = attempts + ?, last_error = ?, claimed_by = NULL, lease_until = NULL, updated_at = ?
       WHERE id IN (${placeholders(ids.length)}) AND status = 'sending' AND claimed_by = ?`,
      [toDbTime(at), countAttempt ? 1 : 0, error.slice(0, 500), toDbTime(now), ...ids, workerId],
    );
  }

  /**
   * Gives claims of this worker back to the queue untouched: `only` these rows (campaign paused),
   * all `except` these (shutdown, keeping rows whose outcome is not recorded yet), and only those
   * whose lease ran out before `expiredBefore` (claims the worker lost track of).
   */
  async release(
    workerId: string,
    rows: { only?: number[]; except?: number[]; expiredBefore?: Date } = {},
  ): Promise<number> {
    if (rows.only && rows.only.length === 0) return 0;
    let where = `claimed_by = ? AND status = 'sending'`;
    const params: unknown[] = [workerId];
    if (rows.only) {
      where += ` AND id IN (${placeholders(rows.only.length)})`;
      params.push(...rows.only);
    }
    if (rows.except?.length) {
      where += ` AND id NOT IN (${placeholders(rows.except.length)})`;
      params.push(...rows.except);
    }
    if (rows.expiredBefore) {
      where += ' AND lease_until < ?';
      params.push(toDbTime(rows.expiredBefore));
    }
    const res = await execute(
      this.ds,
      `UPDATE deliveries SET status = 'queued', claimed_by = NULL, lease_until = NULL WHERE ${where}`,
      params,
    );
    return res.affected;
  }

  async counts(campaignId: number): Promise<DeliveryCounts> {
    const res = await execute(
      this.ds,
      'SELECT status, COUNT(*) AS n FROM deliveries WHERE campaign_id = ? GROUP BY status',
      [campaignId],
    );
    const c: DeliveryCounts = { total: 0, queued: 0, sending: 0, sent: 0, failed: 0, skipped: 0 };
    for (const r of res.records) {
      const n = Number(r.n);
      c[r.status as DeliveryState] = n;
      c.total += n;
    }
    return c;
  }

  async hasUnfinished(campaignId: number): Promise<boolean> {
    const res = await execute(
      this.ds,
      `SELECT 1 AS x FROM deliveries WHERE campaign_id = ? AND status IN ('queued', 'sending') LIMIT 1`,
      [campaignId],
    );
    return res.records.length > 0;
  }

  // ---- the member's side (leave, erasure, export) ----

  /** Leaving: nothing queued for this member is sent any more. */
  async skipQueuedFor(manager: EntityManager, memberId: number, now: Date): Promise<void> {
    await execute(
      manager,
      `UPDATE deliveries SET status = 'skipped', last_error = 'left the club', updated_at = ? WHERE member_id = ? AND status = 'queued'`,
      [toDbTime(now), memberId],
    );
  }

  /** Erasure: delivery rows stay as anonymous counts without the link to the person. */
  async unlinkMember(manager: EntityManager, memberId: number): Promise<void> {
    await execute(manager, 'UPDATE deliveries SET member_id = NULL WHERE member_id = ?', [memberId]);
  }

  /** Rows by state over the whole ledger, for /metrics. */
  async countByState(): Promise<Record<string, number>> {
    const res = await execute(this.ds, 'SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status');
    return Object.fromEntries(res.records.map((r) => [String(r.status), Number(r.n)]));
  }

  /** Rows of these campaigns still waiting (queued or claimed), and when the oldest queued one last changed. */
  async waiting(campaignIds: number[]): Promise<{ count: number; oldestQueuedAt: Date | null }> {
    if (campaignIds.length === 0) return { count: 0, oldestQueuedAt: null };
    const res = await execute(
      this.ds,
      `SELECT COUNT(*) AS n, MIN(CASE WHEN status = 'queued' THEN updated_at END) AS t FROM deliveries
       WHERE campaign_id IN (${placeholders(campaignIds.length)}) AND status IN ('queued', 'sending')`,
      campaignIds,
    );
    return { count: Number(res.records[0]?.n ?? 0), oldestQueuedAt: fromDbTime(res.records[0]?.t) };
  }

  async inFlightFor(memberId: number): Promise<boolean> {
    const res = await execute(
      this.ds,
      `SELECT 1 AS x FROM deliveries WHERE member_id = ? AND status = 'sending' LIMIT 1`,
      [memberId],
    );
    return res.records.length > 0;
  }

  /**
   * Whether a live worker (heartbeat since `liveSince`) holds a row of the campaign: claimed,
   * being handed to SMTP, or sent and not yet recorded. A gone worker's rows wait for the reaper.
   */
  async heldFor(campaignId: number, liveSince: Date): Promise<boolean> {
    const res = await execute(
      this.ds,
      `SELECT 1 AS x FROM deliveries WHERE campaign_id = ? AND status = 'sending'
         AND claimed_by IN (SELECT id FROM workers WHERE heartbeat_at >= ?) LIMIT 1`,
      [campaignId, toDbTime(liveSince)],
    );
    return res.records.length > 0;
  }

  async historyOf(
    manager: EntityManager,
    memberId: number,
  ): Promise<Array<{ campaignId: number; status: string; sentAt: string | null }>> {
    const res = await execute(
      manager,
      'SELECT campaign_id, status, sent_at FROM deliveries WHERE member_id = ? ORDER BY id',
      [memberId],
    );
    return res.records.map((r) => ({
      campaignId: Number(r.campaign_id),
      status: String(r.status),
      sentAt: fromDbTime(r.sent_at)?.toISOString() ?? null,
    }));
  }

  // ---- what bounce reports are about (CONTRACT §9) ----

  /** Ledger rows by id (VERP tags), in one indexed lookup. */
  async findRowsById(ids: number[]): Promise<Map<number, LedgerRow>> {
    const res = await execute(
      this.ds,
      `SELECT ${LEDGER_ROW} FROM deliveries WHERE id IN (${placeholders(ids.length)})`,
      ids,
    );
    return new Map(res.records.map((r) => [Number(r.id), toLedgerRow(r)]));
  }

  /** Ledger rows by campaign and member (Message-IDs), in one lookup on their unique index; keyed `campaign.member`. */
  async findRowsByMessage(
    pairs: Array<{ campaignId: number; memberId: number }>,
  ): Promise<Map<string, LedgerRow>> {
    const res = await execute(
      this.ds,
      `SELECT ${LEDGER_ROW} FROM deliveries WHERE ${pairs.map(() => '(campaign_id = ? AND member_id = ?)').join(' OR ')}`,
      pairs.flatMap((p) => [p.campaignId, p.memberId]),
    );
    return new Map(
      res.records.map((r) => {
        const row = toLedgerRow(r);
        return [`${row.campaignId}.${row.memberId}`, row];
      }),
    );
  }

  /** How many of the campaign's newsletters were handed to SMTP since `since` (the guardrail's denominator). */
  async countSentSince(campaignId: number, since: Date): Promise<number> {
    const res = await execute(
      this.ds,
      `SELECT COUNT(*) AS n FROM deliveries WHERE campaign_id = ? AND status = 'sent' AND sent_at >= ?`,
      [campaignId, toDbTime(since)],
    );
    return Number(res.records[0]?.n ?? 0);
  }

  /** The member's newsletters handed to SMTP since `since`, newest first (at most `limit`). */
  async sentTo(memberId: number, since: Date, limit: number): Promise<LedgerRow[]> {
    const res = await execute(
      this.ds,
      `SELECT ${LEDGER_ROW} FROM deliveries WHERE member_id = ? AND status = 'sent' AND sent_at >= ? ORDER BY sent_at DESC, id DESC LIMIT ${Math.floor(limit)}`,
      [memberId, toDbTime(since)],
    );
    return res.records.map(toLedgerRow);
  }

  /** Retention: delivery error details (SMTP replies) older than `before` are cleared. */
  async clearErrorDetails(before: Date): Promise<number> {
    const res = await execute(
      this.ds,
      'UPDATE deliveries SET last_error = NULL WHERE last_error IS NOT NULL AND updated_at < ?',
      [toDbTime(before)],
    );
    return res.affected;
  }

  // ---- workers sharing SEND_RATE ----

  async heartbeat(workerId: string, now: Date): Promise<void> {
    const t = toDbTime(now);
    const res = await execute(this.ds, 'UPDATE workers SET heartbeat_at = ? WHERE id = ?', [t, workerId]);
    if (res.affected === 0)
      await execute(this.ds, 'INSERT INTO workers (id, heartbeat_at) VALUES (?, ?)', [workerId, t]);
  }

  async liveWorkers(now: Date, withinMs: number): Promise<number> {
    const res = await execute(this.ds, 'SELECT COUNT(*) AS n FROM workers WHERE heartbeat_at >= ?', [
      toDbTime(new Date(now.getTime() - withinMs)),
    ]);
    return Math.max(1, Number(res.records[0]?.n ?? 1));
  }

  async removeWorker(workerId: string, staleBefore: Date): Promise<void> {
    await execute(this.ds, 'DELETE FROM workers WHERE id = ? OR heartbeat_at < ?', [
      workerId,
      toDbTime(staleBefore),
    ]);
  }
}

function toClaimed(r: Record<string, unknown>): ClaimedDelivery {
  return {
    id: Number(r.id),
    campaignId: Number(r.campaign_id),
    memberId: r.member_id === null || r.member_id === undefined ? null : Number(r.member_id),
    attempts: Number(r.attempts),
  };
}

/** A ledger row as a bounce report sees it; `memberId` is null once the member was erased. */
export interface LedgerRow {
  id: number;
  campaignId: number;
  memberId: number | null;
  status: string;
  sentAt: Date | null;
}

const LEDGER_ROW = 'id, campaign_id, member_id, status, sent_at';

function toLedgerRow(r: Record<string, unknown>): LedgerRow {
  const { id, campaignId, memberId } = toClaimed(r);
  return { id, campaignId, memberId, status: String(r.status), sentAt: fromDbTime(r.sent_at) };
}
