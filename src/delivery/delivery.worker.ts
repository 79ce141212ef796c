import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { isConnectionError } from '../db/errors';
import type { Mailer } from '../mail/mailer';
import { MailError } from '../mail/mailer';
import { deliveryTag } from '../mail/verp';
import { inAudience, type Audience } from '../members/audience';
import { encodeNewsletter, type CompiledNewsletter } from '../newsletter/renderer';
import type { SignedTokens } from '../tokens/signed-tokens';
import { Pause, type Job } from '../worker';
import type { ClaimedDelivery, DeliveryStore, Outcome, Recipient } from './delivery.store';
import { Handoffs } from './handoffs';
import { RateLimiter } from './rate-limiter';
import { RecipientCheck } from './recipient-check';
import type { Metrics } from '../metrics';

/** What the worker needs from the campaigns room. */
export interface CampaignSource {
  sendingCampaignIds(): Promise<number[]>;
  compiled(campaignId: number): Promise<CompiledNewsletter>;
  /** Who the campaign is for: checked again for each member right before handoff. */
  audience(campaignId: number): Promise<Audience | null>;
  /** Campaigns whose time has come (scheduled) or whose ledger is done (sending → sent). */
  housekeeping(): Promise<void>;
}

export interface WorkerOptions {
  workerId?: string;
  /** Messages in flight at once (sender loops); more than the pool's connections hides the re-check read. */
  concurrency: number;
  /** SEND_RATE: messages per second across all live workers. */
  sendRate: number;
  publicUrl: string;
  mailFrom: string;
  leaseMs?: number;
  /** First retry delay after a 4xx; doubles per attempt. */
  retryBaseMs?: number;
  maxAttempts?: number;
  /** Outcomes are recorded in small batches: this bounds the window of sent-but-not-recorded mail. */
  flushMs?: number;
  /** Rate sharing, reaping and campaign housekeeping; leases are renewed more often when the lease is short. */
  housekeepingMs?: number;
  /** A worker silent this long (no heartbeat) counts as gone: its expired claims may be taken back. */
  ownerSilentMs?: number;
  /** How long a graceful stop keeps trying to record outcomes and give claims back while the database is away. */
  stopTimeoutMs?: number;
}

/** Workers heard from within this window share SEND_RATE. */
const HEARTBEAT_LIVE_MS = 15_000;
/** After a failed step, a sender loop waits for the next lease renewal, at most this long. */
const STEP_RETRY_MS = 1000;

/**
 * The delivery worker: claim → re-check the member right before handoff → send → record.
 * Sender loops pull from a small buffer of claimed rows, so the SMTP pool stays busy while
 * claims stay short (a dead worker holds at most a buffer's worth, retaken after the lease).
 *
 * Exactly once when the database goes away (restart, failover, cut connection):
 * - An outcome that cannot be recorded is kept in memory and recorded, with retries, once the
 *   database answers again; until then the row stays `sending`, claimed by this worker.
 * - Nobody takes those rows meanwhile. Only queued rows can be claimed, and a `sending` row goes
 *   back to the queue only by this worker's own hand (release, retry) or by the reaper, which
 *   takes a row only when its lease ran out AND its worker has written no heartbeat for
 *   `ownerSilentMs` AND the reaping worker itself has reached the database without a break for
 *   that long. After a database restart every live worker heartbeats again within one renewal
 *   period, long before anyone may reap, so a live worker's claims are never reaped, however long
 *   their lease expired during the outage.
 * - The fence: a claimed row is handed to SMTP only while this worker's lease on it is known to
 *   hold, i.e. before `claim or last renewal started + lease - margin` on the local monotonic
 *   clock. Rows whose lease could not be renewed (database away, or a write whose outcome is
 *   unknown) wait until a renewal confirms they are still this worker's own (claimed by it and
 *   `sending`); rows the renewal no longer finds are dropped, never sent. So even a worker whose
 *   heartbeats failed while its sends did not (and was reaped) sends nothing another worker took.
 * The one exception stays the crash (kill -9, power loss) between SMTP accepting a message and
 * the ledger recording it: that worker's heartbeat stops, its rows are reaped and sent again
 * with the same Message-ID.
 */
export class DeliveryWorker implements Job {
  readonly name = 'delivery';
  readonly intervalMs = 250;
  readonly workerId: string;
  private readonly store: DeliveryStore;
  private readonly campaigns: CampaignSource;
  private readonly tokens: SignedTokens;
  private readonly mailer: Mailer;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly opts: Required<Omit<WorkerOptions, 'workerId'>>;
  private readonly limiter: RateLimiter;
  private readonly messageIdDomain: string;
  private readonly metrics?: Metrics;
  private readonly recheck: RecipientCheck;
  /** Members whose message is between the re-check and the end of the SMTP handoff. */
  private readonly handoffs: Handoffs;

  private buffer: ClaimedDelivery[] = [];
  /**
   * Claimed rows not yet settled (buffered or being delivered) → the local monotonic time until
   * which this worker's lease on them is known to hold (the fence); 0 once it must be confirmed.
   */
  private readonly claims = new Map<number, number>();
  /** Rows whose release or retry is being written. */
  private readonly writing = new Set<number>();
  /** Outcomes not yet recorded: waiting for the next flush, or being written by it. */
  private pending: Outcome[] = [];
  private readonly unrecorded = new Set<number>();
  private refilling: Promise<boolean> | null = null;
  private exhausted = false;
  private activeCampaigns = new Set<number>();
  private activeCampaignsAt = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private tickLoop = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private lastHousekeepingAt = -Infinity;
  /** Whether the last renewal reached the database, and since when without a break. */
  private reachable = true;
  private reachableSince = performance.now();
  /** Sender loops waiting for a renewal to confirm their claims. */
  private readonly untilRenewal = new Pause();
  private outageUntil = 0;
  private outageDelayMs = 1000;
  private stopping = false;

  constructor(deps: {
    store: DeliveryStore;
    campaigns: CampaignSource;
    /** The members room's read of recipients right before handoff. */
    recipients: (memberIds: number[]) => Promise<Map<number, Recipient>>;
    handoffs?: Handoffs;
    tokens: SignedTokens;
    mailer: Mailer;
    logger: Logger;
    clock: Clock;
    metrics?: Metrics;
    options: WorkerOptions;
  }) {
    this.metrics = deps.metrics;
    this.store = deps.store;
    this.campaigns = deps.campaigns;
    this.tokens = deps.tokens;
    this.mailer = deps.mailer;
    this.logger = deps.logger;
    this.clock = deps.clock;
    const o = deps.options;
    this.workerId = o.workerId ?? `${os.hostname()}-${process.pid}-${crypto.randomBytes(3).toString('hex')}`;
    this.opts = {
      concurrency: o.concurrency,
      sendRate: o.sendRate,
      publicUrl: o.publicUrl,
      mailFrom: o.mailFrom,
      leaseMs: o.leaseMs ?? 60_000,
      retryBaseMs: o.retryBaseMs ?? 60_000,
      maxAttempts: o.maxAttempts ?? 8,
      flushMs: o.flushMs ?? 50,
      housekeepingMs: o.housekeepingMs ?? 2_000,
      ownerSilentMs: o.ownerSilentMs ?? 10_000,
      stopTimeoutMs: o.stopTimeoutMs ?? 20_000,
    };
    this.limiter = new RateLimiter(o.sendRate);
    this.recheck = new RecipientCheck(deps.recipients);
    this.handoffs = deps.handoffs ?? new Handoffs();
    this.messageIdDomain = /@([^>\s]+)/.exec(o.mailFrom)?.[1] ?? 'kundeklubb.local';
  }

  /** Leases are renewed four times per lease (at least every housekeeping period). */
  private get renewEveryMs(): number {
    return Math.max(100, Math.min(this.opts.housekeepingMs, this.opts.leaseMs / 4));
  }

  /** A lease is trusted until this long before it runs out, for the time a statement takes to arrive. */
  private get fenceMarginMs(): number {
    return Math.min(500, this.opts.leaseMs / 4);
  }

  /** One pump: sends until nothing is claimable. The BackgroundWorker calls it again after intervalMs. */
  async run(): Promise<boolean> {
    if (this.stopping) return false;
    if (!this.tickLoop) {
      this.tickLoop = true;
      await this.tick();
    }
    await this.refreshActiveCampaigns(true);
    if (this.activeCampaigns.size === 0 && this.buffer.length === 0) return false;
    this.exhausted = false;
    const loops = Array.from({ length: this.opts.concurrency }, () => this.senderLoop());
    await Promise.all(loops);
    await this.flush();
    await this.campaigns.housekeeping();
    return false;
  }

  interrupt(): void {
    this.stopping = true;
    this.untilRenewal.endAll();
  }

  private async senderLoop(): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      const item = await this.next();
      if (!item) return;
      try {
        await this.deliver(item);
      } catch (err) {
        // The database went away mid-step (or the step failed for another reason): the row stays
        // ours; it is tried again once a renewal confirms the claim. Nothing was handed to SMTP.
        if (!this.unrecorded.has(item.id)) this.putBack(item);
        this.noteDatabaseError(err, 'delivery step failed; will retry');
        await this.nextRenewal(STEP_RETRY_MS);
      }
    }
  }

  private async next(): Promise<ClaimedDelivery | null> {
    for (;;) {
      if (this.stopping) return null;
      const head = this.buffer[0];
      if (head && !this.fenceOpen(head.id)) {
        // The lease on it must be confirmed first (renewal failed, or a write's outcome is unknown).
        await this.nextRenewal(STEP_RETRY_MS);
        continue;
      }
      const item = this.buffer.shift();
      if (item) {
        if (!this.claims.has(item.id)) continue; // no longer ours: never sent
        if (this.buffer.length < this.opts.concurrency) void this.refill();
        return item;
      }
      if (this.exhausted && !this.refilling) return null;
      const got = await this.refill();
      if (!got && this.buffer.length === 0) {
        this.exhausted = true;
        return null;
      }
    }
  }

  /** Claims more rows into the buffer; one claim at a time, shared by the loops asking meanwhile. */
  private refill(): Promise<boolean> {
    // `finally` runs after the assignment even when claimMore() returns at once.
    this.refilling ??= this.claimMore().finally(() => {
      this.refilling = null;
    });
    return this.refilling;
  }

  /** Never rejects: a failure (the database away) just claims nothing. */
  private async claimMore(): Promise<boolean> {
    try {
      if (!this.reachable || this.stopping) return false;
      const wait = this.outageUntil - Date.now();
      if (wait > 0) await sleep(wait);
      await this.refreshActiveCampaigns(false);
      const ids = [...this.activeCampaigns];
      // Half a second of this worker's share of the rate, at least two per connection.
      const size = Math.max(this.opts.concurrency * 2, Math.min(200, Math.ceil(this.limiter.rate / 2)));
      const started = performance.now();
      const claimed = await this.store.claim(
        this.workerId,
        ids,
        size - this.buffer.length,
        this.clock(),
        this.opts.leaseMs,
      );
      const fence = started + this.opts.leaseMs - this.fenceMarginMs;
      for (const c of claimed) this.claims.set(c.id, fence);
      this.buffer.push(...claimed);
      return claimed.length > 0;
    } catch (err) {
      this.noteDatabaseError(err, 'claiming deliveries failed; will retry');
      return false;
    }
  }

  private async refreshActiveCampaigns(force: boolean): Promise<void> {
    if (!force && Date.now() - this.activeCampaignsAt < 500) return;
    this.activeCampaigns = new Set(await this.campaigns.sendingCampaignIds());
    this.activeCampaignsAt = Date.now();
  }

  private fenceOpen(id: number): boolean {
    return (this.claims.get(id) ?? Infinity) > performance.now();
  }

  /** A row this worker still holds goes back to the front of the buffer, to be sent once its claim is confirmed. */
  private putBack(item: ClaimedDelivery): void {
    this.claims.set(item.id, 0);
    if (!this.buffer.includes(item)) this.buffer.unshift(item);
  }

  private async deliver(item: ClaimedDelivery): Promise<void> {
    await this.refreshActiveCampaigns(false);
    if (!this.activeCampaigns.has(item.campaignId)) {
      // Paused or cancelled since the claim: give the row back untouched.
      return this.writeBack(item, () => this.store.release(this.workerId, { only: [item.id] }));
    }
    if (item.memberId === null) return this.settleOutcome({ id: item.id, state: 'skipped', error: 'erased' });
    await this.limiter.take();
    const [compiled, audience] = await Promise.all([
      this.campaigns.compiled(item.campaignId),
      this.campaigns.audience(item.campaignId),
    ]);
    // The re-check: the last read before handoff. Someone who left, was restricted or no longer
    // matches the audience gets nothing.
    const r = await this.recheck.check(item.memberId);
    if (!r || r.status !== 'active' || !r.email) {
      return this.settleOutcome({
        id: item.id,
        state: 'skipped',
        error: r ? `member ${r.status}` : 'erased',
      });
    }
    if (!inAudience(r, audience))
      return this.settleOutcome({ id: item.id, state: 'skipped', error: 'no longer in the audience' });
    // The fence: hand over only while the lease is known to hold (see the class comment).
    if (!this.claims.has(item.id)) return;
    if (!this.fenceOpen(item.id)) return this.putBack(item);
    this.handoffs.begin(r.memberId);
    try {
      const unsubscribeUrl = `${this.opts.publicUrl}/u/${this.tokens.sign({ scope: 'unsubscribe', memberId: r.memberId })}`;
      const mail = encodeNewsletter(compiled, { firstName: r.firstName, unsubscribeUrl });
      await this.mailer.send({
        to: r.email,
        subject: mail.subject,
        encoded: mail.encoded,
        // Fixed per campaign and member: a copy resent after a crash folds into the first.
        messageId: `<kk.c${item.campaignId}.m${r.memberId}@${this.messageIdDomain}>`,
        listUnsubscribeUrl: unsubscribeUrl,
        // With BOUNCE_DOMAIN, the envelope sender names this ledger row (CONTRACT §9).
        bounceTag: deliveryTag(item.id),
      });
      this.settleOutcome({ id: item.id, state: 'sent' });
      this.outageDelayMs = 1000;
      this.metrics?.newsletterSent();
    } catch (err) {
      await this.handleFailure(item, err);
    } finally {
      this.handoffs.end(r.memberId);
    }
  }

  /**
   * Gives a row back to the queue (release, retry later). If the write fails its outcome is
   * unknown, so the row returns to the buffer and waits for a renewal to say whether it is still ours.
   */
  private async writeBack(item: ClaimedDelivery, write: () => Promise<unknown>): Promise<void> {
    this.claims.delete(item.id);
    this.writing.add(item.id);
    try {
      await write();
    } catch (err) {
      this.putBack(item);
      throw err;
    } finally {
      this.writing.delete(item.id);
    }
  }

  private async handleFailure(item: ClaimedDelivery, err: unknown): Promise<void> {
    const now = this.clock();
    const unavailable =
      err instanceof MailError &&
      err.kind === 'transient' &&
      (err.responseCode === undefined || err.code === 'ECLOSED');
    this.metrics?.smtpError(unavailable ? 'unavailable' : err instanceof MailError ? err.kind : 'permanent');
    if (err instanceof MailError && err.kind === 'transient') {
      if (unavailable) {
        // The relay is unreachable: not this message's fault. Wait, then try again without using up an attempt.
        // The loops fail together; only the first failure of an outage lengthens the wait.
        if (Date.now() >= this.outageUntil) {
          this.outageUntil = Date.now() + this.outageDelayMs;
          this.logger.warn(
            { campaignId: item.campaignId, delayMs: this.outageDelayMs, error: err.message },
            'SMTP unavailable; holding deliveries',
          );
          this.outageDelayMs = Math.min(this.outageDelayMs * 2, 30_000);
        }
        const at = new Date(now.getTime() + (this.outageUntil - Date.now()));
        return this.writeBack(item, () =>
          this.store.retryLater(this.workerId, [item.id], at, err.message, false, now),
        );
      }
      const attempts = item.attempts + 1;
      if (attempts < this.opts.maxAttempts) {
        const at = new Date(now.getTime() + this.opts.retryBaseMs * 2 ** (attempts - 1));
        return this.writeBack(item, () =>
          this.store.retryLater(this.workerId, [item.id], at, err.message, true, now),
        );
      }
      return this.settleOutcome({
        id: item.id,
        state: 'failed',
        error: `gave up after ${attempts} attempts: ${err.message}`,
      });
    }
    const message = err instanceof Error ? err.message : String(err);
    this.logger.warn(
      { campaignId: item.campaignId, memberId: item.memberId, error: message },
      'delivery failed',
    );
    this.settleOutcome({ id: item.id, state: 'failed', error: message });
  }

  private settleOutcome(o: Outcome): void {
    this.claims.delete(o.id);
    this.unrecorded.add(o.id);
    this.pending.push(o);
    if (this.pending.length >= 50) void this.flush();
    else this.scheduleFlush(this.opts.flushMs);
  }

  private scheduleFlush(ms: number): void {
    if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.flush(), ms);
  }

  /**
   * Writes buffered outcomes; serialised so two flushes never interleave. Never rejects: what
   * cannot be written stays pending and is tried again until it is recorded.
   */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    this.flushing = this.flushing.then(async () => {
      const batch = this.pending;
      this.pending = [];
      if (batch.length === 0) return;
      try {
        // Guarded by the claim and repeatable: a batch written twice changes nothing the second time.
        await this.store.record(this.workerId, batch, this.clock());
        for (const o of batch) this.unrecorded.delete(o.id);
      } catch (err) {
        this.pending.unshift(...batch);
        this.noteDatabaseError(err, 'recording outcomes failed; will retry');
        this.scheduleFlush(this.reachable ? 200 : 1000);
      }
    });
    return this.flushing;
  }

  /** Renews leases (and heartbeats) every renewEveryMs, one tick at a time, until stop() ends the loop. */
  private tick(): Promise<void> {
    this.ticking ??= this.renewAndKeepHouse().finally(() => {
      this.ticking = null;
      if (!this.tickLoop) return;
      this.tickTimer = setTimeout(() => void this.tick(), this.renewEveryMs);
      this.tickTimer.unref();
    });
    return this.ticking;
  }

  private async renewAndKeepHouse(): Promise<void> {
    const started = performance.now();
    const now = this.clock();
    try {
      await this.store.heartbeat(this.workerId, now);
      const ids = [...this.claims.keys()];
      const mine = await this.store.renewLeases(this.workerId, ids, now, this.opts.leaseMs);
      const fence = started + this.opts.leaseMs - this.fenceMarginMs;
      let lost = 0;
      for (const id of ids) {
        if (!this.claims.has(id)) continue; // settled or being written meanwhile
        if (mine.has(id)) this.claims.set(id, Math.max(this.claims.get(id)!, fence));
        else if (!this.writing.has(id)) {
          this.claims.delete(id);
          lost++;
        }
      }
      if (lost) this.logger.warn({ lost }, 'claims no longer held by this worker were dropped unsent');
      // SEND_RATE is shared by the workers heard from lately.
      this.limiter.setRate(this.opts.sendRate / (await this.store.liveWorkers(now, HEARTBEAT_LIVE_MS)));
      if (!this.reachable) {
        this.reachable = true;
        this.reachableSince = started;
        this.logger.info(
          { claims: this.claims.size, unrecorded: this.unrecorded.size },
          'database reachable again; recording held outcomes',
        );
        void this.flush();
      }
      this.untilRenewal.endAll();
    } catch (err) {
      this.noteDatabaseError(err, 'renewing leases failed; will retry');
      return;
    }
    if (performance.now() - this.lastHousekeepingAt < this.opts.housekeepingMs) return;
    this.lastHousekeepingAt = performance.now();
    try {
      await this.keepHouse(now);
    } catch (err) {
      this.noteDatabaseError(err, 'delivery housekeeping failed');
    }
  }

  private async keepHouse(now: Date): Promise<void> {
    // Claims this worker lost track of (a claim whose answer was lost with the connection).
    const held = [...this.claims.keys(), ...this.writing, ...this.unrecorded];
    const forgotten = await this.store.release(this.workerId, { except: held, expiredBefore: now });
    if (forgotten) this.logger.warn({ released: forgotten }, 'released claims this worker had lost track of');
    // Only after seeing the database for ownerSilentMs without a break: every live worker has heartbeaten by then.
    if (performance.now() - this.reachableSince >= this.opts.ownerSilentMs) {
      const silentSince = new Date(now.getTime() - this.opts.ownerSilentMs);
      const reaped = await this.store.reapExpiredLeases(now, silentSince);
      if (reaped) this.logger.warn({ reaped }, 'retook deliveries from a worker that is gone');
    }
    await this.campaigns.housekeeping();
  }

  /** Logs the first failure of a database outage (ids and counts only), and stops claiming until it is over. */
  private noteDatabaseError(err: unknown, message: string): void {
    const outage = isConnectionError(err);
    if (outage && !this.reachable) return;
    if (outage) this.reachable = false;
    this.logger.error(
      {
        workerId: this.workerId,
        claims: this.claims.size,
        unrecorded: this.unrecorded.size,
        err: String((err as Error)?.message ?? err),
      },
      outage ? `database unreachable: ${message}` : message,
    );
  }

  /** Resolves after the next successful renewal, after `maxMs`, or when stopping. */
  private nextRenewal(maxMs: number): Promise<void> {
    return this.stopping ? Promise.resolve() : this.untilRenewal.for(maxMs);
  }

  /**
   * Graceful stop: no new claims, in-flight sends finish, outcomes recorded, unsent claims
   * released. While the database is away it keeps renewing and retrying for up to stopTimeoutMs.
   */
  async stop(): Promise<void> {
    this.interrupt();
    while (this.handoffs.size > 0) await sleep(10);
    const deadline = Date.now() + this.opts.stopTimeoutMs;
    let released = 0;
    for (;;) {
      await this.flush();
      try {
        if (this.pending.length === 0) {
          this.buffer = [];
          released = await this.store.release(this.workerId, { except: [...this.unrecorded] });
          this.claims.clear();
          break;
        }
      } catch (err) {
        this.noteDatabaseError(err, 'releasing claims failed; will retry');
      }
      if (Date.now() >= deadline) {
        this.logger.error(
          { workerId: this.workerId, unrecorded: this.unrecorded.size, claims: this.claims.size },
          'stopping with outcomes not recorded: their rows are retaken after this worker falls silent',
        );
        break;
      }
      await sleep(250);
    }
    this.tickLoop = false;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    await this.ticking;
    if (this.unrecorded.size === 0) {
      await this.store
        .removeWorker(this.workerId, new Date(this.clock().getTime() - HEARTBEAT_LIVE_MS * 4))
        .catch((err) => this.noteDatabaseError(err, 'removing the worker row failed'));
    }
    this.logger.info({ workerId: this.workerId, released }, 'delivery worker stopped');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
