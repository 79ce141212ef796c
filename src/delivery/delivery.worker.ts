import crypto from 'node:crypto';
import os from 'node:os';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import type { Mailer } from '../mail/mailer';
import { MailError } from '../mail/mailer';
import { encodeNewsletter, type CompiledNewsletter } from '../newsletter/renderer';
import type { SignedTokens } from '../tokens/signed-tokens';
import type { Job } from '../worker';
import type { ClaimedDelivery, DeliveryStore, Outcome, Recipient } from './delivery.store';
import { Handoffs } from './handoffs';
import { RateLimiter } from './rate-limiter';
import { RecipientCheck } from './recipient-check';
import type { Metrics } from '../metrics';

/** What the worker needs from the campaigns room. */
export interface CampaignSource {
  sendingCampaignIds(): Promise<number[]>;
  compiled(campaignId: number): Promise<CompiledNewsletter>;
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
  housekeepingMs?: number;
}

const HEARTBEAT_LIVE_MS = 15_000;

/**
 * The delivery worker: claim → re-check the member right before handoff → send → record.
 * Sender loops pull from a small buffer of claimed rows, so the SMTP pool stays busy while
 * claims stay short (a dead worker holds at most a buffer's worth, retaken after the lease).
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

  private buffer: ClaimedDelivery[] = [];
  /** Claimed rows this worker still answers for (buffered, in flight, or outcome not yet recorded). */
  private readonly held = new Set<number>();
  private refilling: Promise<boolean> | null = null;
  private exhausted = false;
  private activeCampaigns = new Set<number>();
  private activeCampaignsAt = 0;
  private pending: Outcome[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private housekeepingTimer: NodeJS.Timeout | null = null;
  private outageUntil = 0;
  private outageDelayMs = 1000;
  private stopping = false;
  /** Members whose message is between the re-check and the end of the SMTP handoff. */
  private readonly handoffs: Handoffs;

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
    };
    this.limiter = new RateLimiter(o.sendRate);
    this.recheck = new RecipientCheck(deps.recipients);
    this.handoffs = deps.handoffs ?? new Handoffs();
    this.messageIdDomain = /@([^>\s]+)/.exec(o.mailFrom)?.[1] ?? 'kundeklubb.local';
  }

  /** One pump: sends until nothing is claimable. The BackgroundWorker calls it again after intervalMs. */
  async run(): Promise<boolean> {
    if (!this.housekeepingTimer) await this.startHousekeeping();
    if (this.stopping) return false;
    await this.refreshActiveCampaigns(true);
    if (this.activeCampaigns.size === 0) return false;
    this.exhausted = false;
    const loops = Array.from({ length: this.opts.concurrency }, () => this.senderLoop());
    await Promise.all(loops);
    await this.flush();
    await this.campaigns.housekeeping();
    return false;
  }

  private async senderLoop(): Promise<void> {
    for (;;) {
      if (this.stopping) return;
      const item = await this.next();
      if (!item) return;
      try {
        await this.deliver(item);
      } catch (err) {
        // Typically the database went away mid-delivery. Let go of the row: its lease runs out and
        // it is retaken; if SMTP had accepted it, that is the documented in-flight window.
        this.held.delete(item.id);
        this.logger.error(
          { campaignId: item.campaignId, err: String((err as Error)?.message ?? err) },
          'delivery step failed',
        );
        await sleep(500);
      }
    }
  }

  private async next(): Promise<ClaimedDelivery | null> {
    for (;;) {
      if (this.stopping) return null;
      const item = this.buffer.shift();
      if (item) {
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

  private refill(): Promise<boolean> {
    if (this.refilling) return this.refilling;
    this.refilling = (async () => {
      try {
        const wait = this.outageUntil - Date.now();
        if (wait > 0) await sleep(wait);
        await this.refreshActiveCampaigns(false);
        const ids = [...this.activeCampaigns];
        // Half a second of this worker's share of the rate, at least two per connection.
        const size = Math.max(this.opts.concurrency * 2, Math.min(200, Math.ceil(this.limiter.rate / 2)));
        const claimed = await this.store.claim(
          this.workerId,
          ids,
          size - this.buffer.length,
          this.clock(),
          this.opts.leaseMs,
        );
        for (const c of claimed) this.held.add(c.id);
        this.buffer.push(...claimed);
        return claimed.length > 0;
      } finally {
        this.refilling = null;
      }
    })();
    return this.refilling;
  }

  private async refreshActiveCampaigns(force: boolean): Promise<void> {
    if (!force && Date.now() - this.activeCampaignsAt < 500) return;
    this.activeCampaigns = new Set(await this.campaigns.sendingCampaignIds());
    this.activeCampaignsAt = Date.now();
  }

  private async deliver(item: ClaimedDelivery): Promise<void> {
    await this.refreshActiveCampaigns(false);
    if (!this.activeCampaigns.has(item.campaignId)) {
      // Paused or cancelled since the claim: give the row back untouched.
      await this.store.release(this.workerId, [item.id]);
      this.held.delete(item.id);
      return;
    }
    if (item.memberId === null) return this.settleOutcome({ id: item.id, state: 'skipped', error: 'erased' });
    await this.limiter.take();
    const compiled = await this.campaigns.compiled(item.campaignId);
    // The re-check: the last read before handoff. Someone who left or was restricted gets nothing.
    const r = await this.recheck.check(item.memberId);
    if (!r || r.status !== 'active' || !r.email) {
      return this.settleOutcome({
        id: item.id,
        state: 'skipped',
        error: r ? `member ${r.status}` : 'erased',
      });
    }
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
      });
      this.outageDelayMs = 1000;
      this.metrics?.newsletterSent();
      this.settleOutcome({ id: item.id, state: 'sent' });
    } catch (err) {
      await this.handleFailure(item, err);
    } finally {
      this.handoffs.end(r.memberId);
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
        await this.store.retryLater(
          this.workerId,
          [item.id],
          new Date(now.getTime() + (this.outageUntil - Date.now())),
          err.message,
          false,
          now,
        );
        this.held.delete(item.id);
        return;
      }
      const attempts = item.attempts + 1;
      if (attempts < this.opts.maxAttempts) {
        const delay = this.opts.retryBaseMs * 2 ** (attempts - 1);
        await this.store.retryLater(
          this.workerId,
          [item.id],
          new Date(now.getTime() + delay),
          err.message,
          true,
          now,
        );
        this.held.delete(item.id);
        return;
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
    this.pending.push(o);
    if (this.pending.length >= 50) void this.flush();
    else if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.flush(), this.opts.flushMs);
  }

  /** Writes buffered outcomes; serialised so two flushes never interleave. */
  flush(): Promise<void> {
    if (this.flushTimer) {
      clearTimeout(this.flushTimer);
      this.flushTimer = null;
    }
    const batch = this.pending;
    this.pending = [];
    this.flushing = this.flushing
      .then(() => this.store.record(this.workerId, batch, this.clock()))
      .then(() => {
        for (const o of batch) this.held.delete(o.id);
      })
      .catch((err) => {
        // Keep them: the next flush tries again; if we die, the lease returns the rows to the queue.
        this.pending.unshift(...batch);
        this.logger.error({ err: String(err), n: batch.length }, 'recording outcomes failed; will retry');
        if (!this.flushTimer) this.flushTimer = setTimeout(() => void this.flush(), 1000);
      });
    return this.flushing;
  }

  private async startHousekeeping(): Promise<void> {
    await this.housekeeping();
    this.housekeepingTimer = setInterval(() => void this.housekeeping(), this.opts.housekeepingMs);
    this.housekeepingTimer.unref();
  }

  private async housekeeping(): Promise<void> {
    try {
      const now = this.clock();
      await this.store.heartbeat(this.workerId, now);
      const live = await this.store.liveWorkers(now, HEARTBEAT_LIVE_MS);
      this.limiter.setRate(this.opts.sendRate / live);
      await this.store.renewLeases(this.workerId, [...this.held], now, this.opts.leaseMs);
      const reaped = await this.store.reapExpiredLeases(now);
      if (reaped) this.logger.warn({ reaped }, 'retook deliveries from an expired claim');
      await this.campaigns.housekeeping();
    } catch (err) {
      this.logger.error({ err: String(err) }, 'delivery housekeeping failed');
    }
  }

  /** Graceful stop: no new claims, in-flight sends finish, outcomes recorded, unsent claims released. */
  async stop(): Promise<void> {
    this.stopping = true;
    while (this.handoffs.size > 0) await sleep(10);
    await this.flush();
    this.buffer = [];
    const released = await this.store.release(this.workerId);
    this.held.clear();
    if (this.housekeepingTimer) clearInterval(this.housekeepingTimer);
    this.housekeepingTimer = null;
    await this.store.removeWorker(this.workerId, new Date(this.clock().getTime() - HEARTBEAT_LIVE_MS * 4));
    this.logger.info({ workerId: this.workerId, released }, 'delivery worker stopped');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
