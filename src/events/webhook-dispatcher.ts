import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { execute } from '../db/sql';
import { fromDbTime, toDbTime, type Clock } from '../db/time';
import type { Logger } from '../logger';
import type { EventLog, EventType } from './event-log';
import { WEBHOOK_TIMEOUT_MS, type WebhookSender } from './webhook-sender';

const SECOND = 1000;
const HOUR = 3600 * SECOND;
/** Waits after the 1st, 2nd, … failure (Standard Webhooks' schedule); the last repeats until 3 days have failed. */
export const RETRY_SCHEDULE_MS = [
  5 * SECOND,
  5 * 60 * SECOND,
  30 * 60 * SECOND,
  2 * HOUR,
  5 * HOUR,
  10 * HOUR,
  10 * HOUR,
];
export const DISABLE_AFTER_MS = 3 * 24 * HOUR;

export interface DispatcherOptions {
  retryScheduleMs: number[];
  disableAfterMs: number;
  /** Longer than the send timeout: a claim outlives its request, and a killed worker's claim runs out. */
  leaseMs: number;
  batch: number;
  /** Per endpoint, so one slow or dead endpoint cannot take every slot. */
  perEndpoint: number;
  maxInFlight: number;
}

interface Claimable {
  id: number;
  endpointId: number;
  sequence: number;
  attempts: number;
}

/**
 * Delivers member events to the endpoints, in worker processes. Each run:
 * 1. fan-out: per enabled endpoint, under its row lock, the events after its cursor that it
 *    subscribes to become `webhook_deliveries` rows and the cursor moves on. Sequences become
 *    visible in commit order (EventLog.append), so a cursor never skips a late commit.
 * 2. claim: due rows whose member has no earlier pending row at that endpoint (order per
 *    member), leased by a guarded UPDATE (lease free or run out; affected rows = 1), so two
 *    dispatchers never send a row at the same moment and a killed one's rows are retaken.
 * 3. send without waiting: each outcome is recorded when it comes; the next run claims more.
 */
export class WebhookDispatcher {
  readonly name = 'webhooks';
  readonly intervalMs = 500;
  private readonly ds: DataSource;
  private readonly events: EventLog;
  private readonly sender: WebhookSender;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly options: DispatcherOptions;
  private readonly owner = `w-${crypto.randomBytes(6).toString('hex')}`;
  private readonly inFlight = new Map<number, number>();
  private readonly sends = new Set<Promise<void>>();

  constructor(deps: {
    dataSource: DataSource;
    events: EventLog;
    sender: WebhookSender;
    logger: Logger;
    clock: Clock;
    options?: Partial<DispatcherOptions>;
  }) {
    this.ds = deps.dataSource;
    this.events = deps.events;
    this.sender = deps.sender;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.options = {
      retryScheduleMs: RETRY_SCHEDULE_MS,
      disableAfterMs: DISABLE_AFTER_MS,
      leaseMs: WEBHOOK_TIMEOUT_MS * 3,
      batch: 100,
      perEndpoint: 10,
      maxInFlight: 200,
      ...deps.options,
    };
  }

  /** One pass; true when there may be more to do now. */
  async run(): Promise<boolean> {
    const fanned = await this.fanOut();
    const { claimed, waiting } = await this.claimAndSend();
    // Rows left waiting only for a free slot: take them as soon as a send ends, not after the interval.
    if (waiting && this.sends.size > 0) {
      await Promise.race([...this.sends]);
      return true;
    }
    return fanned || claimed >= this.options.batch;
  }

  /** Waits for the sends in flight (shutdown, tests). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.sends]);
  }

  private async fanOut(): Promise<boolean> {
    const endpoints = await execute(this.ds, 'SELECT id FROM webhook_endpoints WHERE disabled_at IS NULL');
    let more = false;
    for (const e of endpoints.records) {
      const id = Number(e.id);
      const full = await this.ds.transaction(async (manager) => {
        const lock = this.ds.options.type === 'mysql' ? ' FOR UPDATE' : '';
        const res = await execute(
          manager,
          `SELECT cursor_sequence, events_json, sources_json FROM webhook_endpoints WHERE id = ? AND disabled_at IS NULL${lock}`,
          [id],
        );
        const row = res.records[0];
        if (!row) return false;
        const cursor = Number(row.cursor_sequence);
        const types = JSON.parse(String(row.events_json)) as EventType[];
        const sources = row.sources_json ? (JSON.parse(String(row.sources_json)) as string[]) : null;
        const limit = 1000;
        const evs = await execute(
          manager,
          `SELECT sequence, type, member_id, source FROM member_events WHERE sequence > ? ORDER BY sequence LIMIT ${limit}`,
          [cursor],
        );
        if (evs.records.length === 0) return false;
        const now = toDbTime(this.clock());
        for (const ev of evs.records) {
          if (!types.includes(String(ev.type) as EventType)) continue;
          if (sources && !sources.includes(String(ev.source))) continue;
          await execute(
            manager,
            `INSERT INTO webhook_deliveries (endpoint_id, sequence, member_id, state, attempts, next_attempt_at, created_at)
             VALUES (?, ?, ?, 'pending', 0, ?, ?)`,
            [id, Number(ev.sequence), Number(ev.member_id), now, now],
          );
        }
        const last = Number(evs.records[evs.records.length - 1].sequence);
        await execute(manager, 'UPDATE webhook_endpoints SET cursor_sequence = ? WHERE id = ?', [last, id]);
        return evs.records.length === limit;
      });
      more ||= full;
    }
    return more;
  }

  private async claimAndSend(): Promise<{ claimed: number; waiting: boolean }> {
    const room = this.options.maxInFlight - this.sends.size;
    if (room <= 0) return { claimed: 0, waiting: true };
    const now = this.clock();
    const nowDb = toDbTime(now);
    const due = await execute(
      this.ds,
      `SELECT d.id, d.endpoint_id, d.sequence, d.attempts FROM webhook_deliveries d
       JOIN webhook_endpoints e ON e.id = d.endpoint_id
       WHERE d.state = 'pending' AND d.next_attempt_at <= ? AND e.disabled_at IS NULL
         AND (d.lease_until IS NULL OR d.lease_until < ?)
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
           WHERE p.endpoint_id = d.endpoint_id AND p.member_id = d.member_id
             AND p.state = 'pending' AND p.sequence < d.sequence)
       ORDER BY d.sequence LIMIT ${Math.min(room, this.options.batch)}`,
      [nowDb, nowDb],
    );
    const leaseUntil = toDbTime(new Date(now.getTime() + this.options.leaseMs));
    let claimed = 0;
    let waiting = false;
    for (const r of due.records) {
      const row: Claimable = {
        id: Number(r.id),
        endpointId: Number(r.endpoint_id),
        sequence: Number(r.sequence),
        attempts: Number(r.attempts),
      };
      if ((this.inFlight.get(row.endpointId) ?? 0) >= this.options.perEndpoint) {
        waiting = true;
        continue;
      }
      const res = await execute(
        this.ds,
        `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?
         WHERE id = ? AND state = 'pending' AND (lease_until IS NULL OR lease_until < ?)`,
        [this.owner, leaseUntil, row.id, nowDb],
      );
      if (res.affected !== 1) continue;
      claimed++;
      this.inFlight.set(row.endpointId, (this.inFlight.get(row.endpointId) ?? 0) + 1);
      const p = this.deliver(row)
        .catch((err: unknown) =>
          this.logger.error(
            { deliveryId: row.id, err: String((err as Error)?.message ?? err) },
            'webhook delivery failed',
          ),
        )
        .finally(() => {
          this.sends.delete(p);
          this.inFlight.set(row.endpointId, (this.inFlight.get(row.endpointId) ?? 1) - 1);
        });
      this.sends.add(p);
    }
    return { claimed, waiting };
  }

  private async deliver(row: Claimable): Promise<void> {
    const ep = await execute(
      this.ds,
      'SELECT url, secret, failing_since FROM webhook_endpoints WHERE id = ?',
      [row.endpointId],
    );
    const endpoint = ep.records[0];
    if (!endpoint) return;
    const event = (await this.events.bySequence([row.sequence])).get(row.sequence);
    if (!event) {
      // Deleted by retention before it could be delivered: nothing left to send.
      await this.finish(row, 'dropped', 'event expired');
      return;
    }
    const outcome = await this.sender.send({
      url: String(endpoint.url),
      secret: String(endpoint.secret),
      // The same id on every retry, so the receiver can fold duplicates.
      messageId: `msg_${row.sequence}`,
      at: this.clock(),
      body: JSON.stringify(event),
    });
    const now = this.clock();
    if (outcome.ok) {
      await this.finish(row, 'delivered', outcome.result);
      await execute(
        this.ds,
        'UPDATE webhook_endpoints SET failing_since = NULL, last_attempt_at = ?, last_result = ? WHERE id = ?',
        [toDbTime(now), outcome.result, row.endpointId],
      );
      return;
    }
    const failingSince = fromDbTime(endpoint.failing_since) ?? now;
    await execute(
      this.ds,
      'UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?), last_attempt_at = ?, last_result = ? WHERE id = ?',
      [toDbTime(now), toDbTime(now), outcome.result, row.endpointId],
    );
    if (outcome.status === 410) {
      await this.disable(row.endpointId, 'gone');
      return;
    }
    if (now.getTime() - failingSince.getTime() >= this.options.disableAfterMs) {
      await this.disable(row.endpointId, 'failing');
      return;
    }
    const schedule = this.options.retryScheduleMs;
    const wait = schedule[Math.min(row.attempts, schedule.length - 1)];
    await execute(
      this.ds,
      `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_result = ?,
         lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND lease_owner = ?`,
      [toDbTime(new Date(now.getTime() + wait)), outcome.result, row.id, this.owner],
    );
  }

  private async finish(row: Claimable, state: 'delivered' | 'dropped', result: string): Promise<void> {
    await execute(
      this.ds,
      `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_result = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND lease_owner = ?`,
      [state, result, row.id, this.owner],
    );
  }

  /** 410 Gone, or 3 days of failure: no more attempts; the admin page shows why. */
  private async disable(endpointId: number, reason: 'gone' | 'failing'): Promise<void> {
    await this.ds.transaction(async (manager) => {
      await execute(
        manager,
        'UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ? AND disabled_at IS NULL',
        [toDbTime(this.clock()), reason, endpointId],
      );
      await execute(
        manager,
        "UPDATE webhook_deliveries SET state = 'dropped', lease_owner = NULL, lease_until = NULL WHERE endpoint_id = ? AND state = 'pending'",
        [endpointId],
      );
    });
    this.logger.warn({ webhookId: endpointId, reason }, 'webhook endpoint disabled');
  }
}
