import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { execute, placeholders } from '../db/sql';
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
/** Requests in flight to one endpoint at most, so one slow or dead endpoint cannot take every slot. */
export const PER_ENDPOINT_CONCURRENCY = 10;
/** Rows per multi-row INSERT of the fan-out. */
const FAN_OUT_ROWS_PER_INSERT = 500;
/** With nothing signalled, an endpoint's due rows are looked for this often (retries due, leases run out elsewhere). */
const CLAIM_IDLE_MS = SECOND;
/** A successful delivery updates the endpoint's last result at most this often (the admin page shows it). */
const STATUS_WRITE_MS = SECOND;

export interface DispatcherOptions {
  retryScheduleMs: number[];
  disableAfterMs: number;
  /** Longer than the send timeout: a claim outlives its request, and a killed worker's claim runs out. */
  leaseMs: number;
  /** Events fanned out per endpoint and transaction. */
  batch: number;
  /** Per endpoint, so one slow or dead endpoint cannot take every slot. */
  perEndpoint: number;
  maxInFlight: number;
  /** How often new events are looked for (the lag from a change to its delivery, when idle). */
  pollMs: number;
}

/** A leased delivery row waiting for a slot, with what it sends. */
interface Claimed {
  id: number;
  sequence: number;
  attempts: number;
  /** On the service's clock (ms): the row is sent only while the lease outlasts the request. */
  leaseUntil: number;
  /** The event as sent; null when retention deleted it before it could go. */
  body: string | null;
}

/** An enabled endpoint as this dispatcher knows it (refreshed every poll). */
interface Endpoint {
  id: number;
  url: string;
  secret: string;
  failingSince: Date | null;
  queue: Claimed[];
  /** Requests under way to this endpoint. */
  inFlight: number;
  /** Something may have become claimable: new rows fanned out, a delivery ended, a full claim. */
  claimable: boolean;
  lastClaimAt: number;
  /** The earliest retry this dispatcher scheduled (service clock, ms). */
  retryAt: number;
  lastStatusWriteAt: number;
}

/**
 * Delivers member events to the endpoints, in worker processes.
 * 1. refresh, every `pollMs`: one query reads the enabled endpoints and the last event sequence;
 *    an endpoint whose cursor is behind is fanned out: under its row lock, the events after its
 *    cursor that it subscribes to become `webhook_deliveries` rows (multi-row INSERTs) and the
 *    cursor moves on. Sequences become visible in commit order (EventLog.append), so a cursor
 *    never skips a late commit.
 * 2. claim, per endpoint, when its queue runs low and something may be claimable: due rows whose
 *    member has no earlier pending row at that endpoint (order per member: at most one row per
 *    member and endpoint is ever claimable), leased by one guarded UPDATE (lease free or run out),
 *    so two dispatchers never send a row at the same moment and a killed one's rows are retaken.
 *    The claim reads the events too, so a send needs no query of its own. At most twice
 *    `perEndpoint` rows are held per endpoint (in flight or waiting), so each is sent well
 *    within its lease; a row whose lease would not outlast its request is given back unsent.
 * 3. send without waiting, up to `perEndpoint` per endpoint; each outcome is recorded when it
 *    comes. A 2xx gives its slot back as it arrives (the row stays leased until recorded, and the
 *    member's next event is claimable only then), and wakes the loop to refill the slot at once;
 *    a failure keeps its slot until recorded, so nothing more goes out after a 410.
 */
export class WebhookDispatcher {
  readonly name = 'webhooks';
  readonly intervalMs: number;
  private readonly ds: DataSource;
  private readonly events: EventLog;
  private readonly sender: WebhookSender;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly options: DispatcherOptions;
  private readonly timeoutMs: number;
  private readonly owner = `w-${crypto.randomBytes(6).toString('hex')}`;
  private readonly endpoints = new Map<number, Endpoint>();
  /** Deliveries under way: the request, then recording its outcome. */
  private readonly sends = new Set<Promise<void>>();
  /** Requests under way, across endpoints. */
  private requests = 0;
  private nextRefreshAt = 0;
  /** A fan-out stopped at its page size: more events wait. */
  private behind = false;
  private interrupted = false;
  private wake: (() => void) | null = null;

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
      batch: 1000,
      perEndpoint: PER_ENDPOINT_CONCURRENCY,
      maxInFlight: 200,
      pollMs: 200,
      ...deps.options,
    };
    this.intervalMs = this.options.pollMs;
    this.timeoutMs = this.sender.timeoutMs;
  }

  /**
   * One pass: refresh (every `pollMs`), claim where needed, start sends; then wait until a send
   * ends, or until the next refresh is due. The pass does its own waiting, so it returns true:
   * the worker calls it again at once.
   */
  async run(): Promise<boolean> {
    this.interrupted = false;
    if (this.behind || Date.now() >= this.nextRefreshAt) await this.refresh();
    for (const ep of this.endpoints.values()) {
      if (this.interrupted) break;
      if (this.shouldClaim(ep)) await this.claim(ep);
    }
    this.startSends();
    if (this.sends.size > 0) await this.waitForSend(this.options.pollMs);
    else if (!this.behind && ![...this.endpoints.values()].some((ep) => ep.claimable))
      // Idle: the next look for new events comes `pollMs` after the last one began, not after this pass.
      await this.waitForSend(this.nextRefreshAt - Date.now());
    return true;
  }

  /** Stopping began: the pass in progress takes no more work and stops waiting. */
  interrupt(): void {
    this.interrupted = true;
    this.wake?.();
  }

  /** Waits for the sends in flight, then gives back the rows claimed but not sent (shutdown, tests). */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.sends]);
    const waiting = [...this.endpoints.values()].flatMap((ep) => ep.queue.splice(0).map((r) => r.id));
    if (waiting.length) await this.release(waiting);
  }

  // ---- 1. refresh and fan-out ----

  private async refresh(): Promise<void> {
    this.nextRefreshAt = Date.now() + this.options.pollMs;
    const res = await execute(
      this.ds,
      `SELECT e.id, e.url, e.secret, e.failing_since, e.cursor_sequence, s.value AS last_sequence
       FROM webhook_endpoints e, event_sequence s WHERE s.id = 1 AND e.disabled_at IS NULL`,
    );
    const enabled = new Set<number>();
    let behind = false;
    for (const r of res.records) {
      const id = Number(r.id);
      enabled.add(id);
      let ep = this.endpoints.get(id);
      if (!ep) {
        ep = {
          id,
          url: '',
          secret: '',
          failingSince: null,
          queue: [],
          inFlight: 0,
          claimable: true,
          lastClaimAt: 0,
          retryAt: Infinity,
          lastStatusWriteAt: 0,
        };
        this.endpoints.set(id, ep);
      }
      ep.url = String(r.url);
      ep.secret = String(r.secret);
      ep.failingSince = fromDbTime(r.failing_since);
      if (Number(r.cursor_sequence) < Number(r.last_sequence)) {
        const fanned = await this.fanOut(id);
        if (fanned.rows > 0) ep.claimable = true;
        behind ||= fanned.full;
      }
    }
    // Disabled or deleted elsewhere: their rows are dropped or gone; forget what waits here.
    for (const [id, ep] of this.endpoints)
      if (!enabled.has(id) && ep.inFlight === 0) this.endpoints.delete(id);
    for (const [id, ep] of this.endpoints) if (!enabled.has(id)) ep.queue.length = 0;
    this.behind = behind;
  }

  private async fanOut(id: number): Promise<{ rows: number; full: boolean }> {
    return this.ds.transaction(async (manager) => {
      const lock = this.ds.options.type === 'mysql' ? ' FOR UPDATE' : '';
      const res = await execute(
        manager,
        `SELECT cursor_sequence, events_json, sources_json FROM webhook_endpoints WHERE id = ? AND disabled_at IS NULL${lock}`,
        [id],
      );
      const row = res.records[0];
      if (!row) return { rows: 0, full: false };
      const cursor = Number(row.cursor_sequence);
      const types = JSON.parse(String(row.events_json)) as EventType[];
      const sources = row.sources_json ? (JSON.parse(String(row.sources_json)) as string[]) : null;
      const limit = this.options.batch;
      const evs = await execute(
        manager,
        `SELECT sequence, type, member_id, source FROM member_events WHERE sequence > ? ORDER BY sequence LIMIT ${limit}`,
        [cursor],
      );
      if (evs.records.length === 0) return { rows: 0, full: false };
      const now = toDbTime(this.clock());
      const wanted = evs.records.filter(
        (ev) =>
          types.includes(String(ev.type) as EventType) && (!sources || sources.includes(String(ev.source))),
      );
      for (let i = 0; i < wanted.length; i += FAN_OUT_ROWS_PER_INSERT) {
        const chunk = wanted.slice(i, i + FAN_OUT_ROWS_PER_INSERT);
        await execute(
          manager,
          `INSERT INTO webhook_deliveries (endpoint_id, sequence, member_id, state, attempts, next_attempt_at, created_at)
           VALUES ${chunk.map(() => "(?, ?, ?, 'pending', 0, ?, ?)").join(', ')}`,
          chunk.flatMap((ev) => [id, Number(ev.sequence), Number(ev.member_id), now, now]),
        );
      }
      const last = Number(evs.records[evs.records.length - 1].sequence);
      await execute(manager, 'UPDATE webhook_endpoints SET cursor_sequence = ? WHERE id = ?', [last, id]);
      return { rows: wanted.length, full: evs.records.length === limit };
    });
  }

  // ---- 2. claim ----

  private shouldClaim(ep: Endpoint): boolean {
    const held = ep.queue.length + ep.inFlight;
    // Refill when no more than half a round of sends waits; hold at most two rounds.
    if (ep.queue.length > this.options.perEndpoint / 2 || held >= 2 * this.options.perEndpoint) return false;
    return (
      ep.claimable || this.clock().getTime() >= ep.retryAt || Date.now() - ep.lastClaimAt >= CLAIM_IDLE_MS
    );
  }

  private async claim(ep: Endpoint): Promise<void> {
    const want = 2 * this.options.perEndpoint - ep.queue.length - ep.inFlight;
    ep.lastClaimAt = Date.now();
    ep.claimable = false;
    const now = this.clock();
    const nowDb = toDbTime(now);
    if (now.getTime() >= ep.retryAt) ep.retryAt = Infinity;
    // Oldest due first; the NOT EXISTS keeps each member's rows in sequence order.
    const due = await execute(
      this.ds,
      `SELECT d.id, d.sequence, d.attempts FROM webhook_deliveries d
       WHERE d.endpoint_id = ? AND d.state = 'pending' AND d.next_attempt_at <= ?
         AND (d.lease_until IS NULL OR d.lease_until < ?)
         AND NOT EXISTS (SELECT 1 FROM webhook_deliveries p
           WHERE p.endpoint_id = d.endpoint_id AND p.member_id = d.member_id
             AND p.state = 'pending' AND p.sequence < d.sequence)
       ORDER BY d.next_attempt_at, d.id LIMIT ${want}`,
      [ep.id, nowDb, nowDb],
    );
    if (due.records.length === 0) return;
    if (due.records.length === want) ep.claimable = true;
    const ids = due.records.map((r) => Number(r.id));
    const leaseUntil = new Date(now.getTime() + this.options.leaseMs);
    const leased = await execute(
      this.ds,
      `UPDATE webhook_deliveries SET lease_owner = ?, lease_until = ?
       WHERE id IN (${placeholders(ids.length)}) AND state = 'pending' AND (lease_until IS NULL OR lease_until < ?)`,
      [this.owner, toDbTime(leaseUntil), ...ids, nowDb],
    );
    let rows = due.records;
    if (leased.affected !== ids.length) {
      // Another dispatcher took some in between: keep only the rows this UPDATE leased.
      const mine = await execute(
        this.ds,
        `SELECT id FROM webhook_deliveries WHERE id IN (${placeholders(ids.length)}) AND lease_owner = ? AND lease_until = ?`,
        [...ids, this.owner, toDbTime(leaseUntil)],
      );
      const kept = new Set(mine.records.map((r) => Number(r.id)));
      rows = rows.filter((r) => kept.has(Number(r.id)));
    }
    const events = await this.events.bySequence(rows.map((r) => Number(r.sequence)));
    for (const r of rows) {
      const event = events.get(Number(r.sequence));
      ep.queue.push({
        id: Number(r.id),
        sequence: Number(r.sequence),
        attempts: Number(r.attempts),
        leaseUntil: leaseUntil.getTime(),
        body: event ? JSON.stringify(event) : null,
      });
    }
  }

  /** Gives rows back unsent (their lease cleared), e.g. on shutdown. */
  private async release(ids: number[]): Promise<void> {
    await execute(
      this.ds,
      `UPDATE webhook_deliveries SET lease_owner = NULL, lease_until = NULL
       WHERE id IN (${placeholders(ids.length)}) AND lease_owner = ? AND state = 'pending'`,
      [...ids, this.owner],
    );
  }

  // ---- 3. send ----

  private startSends(): void {
    const expired: number[] = [];
    for (const ep of this.endpoints.values()) {
      while (
        ep.queue.length > 0 &&
        ep.inFlight < this.options.perEndpoint &&
        this.requests < this.options.maxInFlight &&
        !this.interrupted
      ) {
        const row = ep.queue.shift()!;
        // The lease must outlast the request, or another dispatcher could send the row meanwhile.
        if (row.leaseUntil - this.clock().getTime() < this.timeoutMs + SECOND) {
          expired.push(row.id);
          continue;
        }
        ep.inFlight++;
        this.requests++;
        let freed = false;
        // The slot is free once the request is over; the next may start while this one is recorded.
        const free = () => {
          if (freed) return;
          freed = true;
          ep.inFlight--;
          this.requests--;
          ep.claimable = true;
          this.wake?.();
        };
        const p = this.deliver(ep, row, free)
          .catch((err: unknown) =>
            this.logger.error(
              { deliveryId: row.id, err: String((err as Error)?.message ?? err) },
              'webhook delivery failed',
            ),
          )
          .finally(() => {
            this.sends.delete(p);
            free();
            // Recorded: the member's next event may be claimable now.
            ep.claimable = true;
            this.wake?.();
          });
        this.sends.add(p);
      }
    }
    if (expired.length)
      void this.release(expired).catch((err: unknown) =>
        this.logger.warn({ err: String((err as Error)?.message ?? err) }, 'webhook lease release failed'),
      );
  }

  /** Until a send ends, `ms` pass, or stopping begins. */
  private waitForSend(ms: number): Promise<void> {
    if (this.interrupted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = null;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  /** Sends one row and records the outcome; `free` gives the slot back after a 2xx, before recording. */
  private async deliver(ep: Endpoint, row: Claimed, free: () => void): Promise<void> {
    if (row.body === null) {
      // Deleted by retention before it could be delivered: nothing left to send.
      await this.finish(row, 'dropped', 'event expired');
      return;
    }
    const outcome = await this.sender.send({
      url: ep.url,
      secret: ep.secret,
      // The same id on every retry, so the receiver can fold duplicates.
      messageId: `msg_${row.sequence}`,
      at: this.clock(),
      body: row.body,
    });
    const now = this.clock();
    if (outcome.ok) {
      // A failure keeps its slot until recorded: after a 410 nothing more goes out before the endpoint is disabled.
      free();
      await this.finish(row, 'delivered', outcome.result);
      // The endpoint's last result: at once after failures, otherwise at most once a second.
      if (ep.failingSince !== null || Date.now() - ep.lastStatusWriteAt >= STATUS_WRITE_MS) {
        ep.failingSince = null;
        ep.lastStatusWriteAt = Date.now();
        await execute(
          this.ds,
          'UPDATE webhook_endpoints SET failing_since = NULL, last_attempt_at = ?, last_result = ? WHERE id = ?',
          [toDbTime(now), outcome.result, ep.id],
        );
      }
      return;
    }
    const failingSince = ep.failingSince ?? now;
    ep.failingSince = failingSince;
    ep.lastStatusWriteAt = Date.now();
    await execute(
      this.ds,
      'UPDATE webhook_endpoints SET failing_since = COALESCE(failing_since, ?), last_attempt_at = ?, last_result = ? WHERE id = ?',
      [toDbTime(now), toDbTime(now), outcome.result, ep.id],
    );
    if (outcome.status === 410) {
      await this.disable(ep, 'gone');
      return;
    }
    if (now.getTime() - failingSince.getTime() >= this.options.disableAfterMs) {
      await this.disable(ep, 'failing');
      return;
    }
    const schedule = this.options.retryScheduleMs;
    const retryAt = now.getTime() + schedule[Math.min(row.attempts, schedule.length - 1)];
    ep.retryAt = Math.min(ep.retryAt, retryAt);
    await execute(
      this.ds,
      `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?, last_result = ?,
         lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND lease_owner = ?`,
      [toDbTime(new Date(retryAt)), outcome.result, row.id, this.owner],
    );
  }

  private async finish(row: Claimed, state: 'delivered' | 'dropped', result: string): Promise<void> {
    await execute(
      this.ds,
      `UPDATE webhook_deliveries SET state = ?, attempts = attempts + 1, last_result = ?, lease_owner = NULL, lease_until = NULL
       WHERE id = ? AND lease_owner = ?`,
      [state, result, row.id, this.owner],
    );
  }

  /** 410 Gone, or 3 days of failure: no more attempts; the admin page shows why. */
  private async disable(ep: Endpoint, reason: 'gone' | 'failing'): Promise<void> {
    ep.queue.length = 0;
    await this.ds.transaction(async (manager) => {
      await execute(
        manager,
        'UPDATE webhook_endpoints SET disabled_at = ?, disabled_reason = ? WHERE id = ? AND disabled_at IS NULL',
        [toDbTime(this.clock()), reason, ep.id],
      );
      await execute(
        manager,
        "UPDATE webhook_deliveries SET state = 'dropped', lease_owner = NULL, lease_until = NULL WHERE endpoint_id = ? AND state = 'pending'",
        [ep.id],
      );
    });
    this.logger.warn({ webhookId: ep.id, reason }, 'webhook endpoint disabled');
  }
}
