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
import {
  HEARTBEAT_LIVE_MS,
  type ClaimedDelivery,
  type DeliveryStore,
  type Outcome,
  type Recipient,
} from './delivery.store';
import { Handoffs } from './handoffs';
import { RateLimiter } from './rate-limiter';
import { RecipientCheck } from './recipient-check';
import { SharedRead } from './shared-read';
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
  /** Rate sharing and campaign housekeeping; heartbeats, renewals and the reaper come at least this often. */
  housekeepingMs?: number;
  /**
   * A worker silent this long (no heartbeat) is gone: its claims are taken back, whether their
   * lease ran out or not. It is also this worker's own fence (it hands a row over only while its
   * last heartbeat is younger than this), so every worker must use the same value: the default,
   * which only tests change.
   */
  ownerSilentMs?: number;
  /** How long a graceful stop keeps trying to record outcomes and give claims back while the database is away. */
  stopTimeoutMs?: number;
}

/** After a failed step, a sender loop waits for the next lease renewal, at most this long. */
const STEP_RETRY_MS = 1000;
/** A worker writes its heartbeat (and renews its leases) this often, or more often for short leases. */
const HEARTBEAT_EVERY_MS = 1000;
/** The reaper waits until it has reached the database for this many heartbeats without a break. */
const REAP_AFTER_BEATS = 5;
/**
 * While sending, the campaigns' status is read at least this often, so a pause or cancel made in
 * another process gives this worker's waiting claims back soon (the pause waits for that).
 */
const STATUS_WATCH_MS = 250;
/**
 * Right before handoff the campaign's status must come from a read begun at most this long ago:
 * at most ten status reads a second per worker, however high SEND_RATE, and a pause elsewhere is
 * seen within this (a pause waits for handoffs in flight anyway, see DeliveryService.halt).
 */
const STATUS_MAX_AGE_MS = 100;

/**
 * The delivery worker: claim → re-check the member right before handoff → send → record.
 * Sender loops pull from a small buffer of claimed rows, so the SMTP pool stays busy while
 * claims stay short (a dead worker holds at most a buffer's worth, retaken once it falls silent).
 *
 * Exactly once when the database goes away (restart, failover, cut connection):
 * - An outcome that cannot be recorded is kept in memory and recorded, with retries, once the
 *   database answers again; until then the row stays `sending`, claimed by this worker.
 * - Nobody takes those rows meanwhile. Only queued rows can be claimed, and a `sending` row goes
 *   back to the queue only by this worker's own hand (release, retry) or by another worker's
 *   reaper, which takes a row only when its worker has written no heartbeat for `ownerSilentMs`
 *   (or, if its worker has no heartbeat row at all, when its lease ran out) AND the reaping
 *   worker itself has reached the database without a break for REAP_AFTER_BEATS heartbeats.
 *   A worker heartbeats every second on a timer of its own, which neither sending nor
 *   housekeeping holds up; after a database restart every live worker heartbeats again within
 *   a beat or two, before anyone may reap, so a live worker's claims are not reaped. A worker
 *   whose event loop stalls for a few seconds keeps its claims; one silent for `ownerSilentMs`
 *   (HEARTBEAT_LIVE_MS, 8 s) is taken for dead, as a killed one is: that is what lets a crashed
 *   worker's claims be retaken within 10 s instead of after their lease.
 * - The fence: a claimed row is handed to SMTP only while this worker's lease on it is known to
 *   hold AND its own heartbeat is known to be fresh, i.e. before both `claim or last renewal
 *   started + lease - margin` and `last heartbeat started + ownerSilentMs - margin` on the local
 *   monotonic clock. Rows whose lease could not be renewed (database away, or a write whose
 *   outcome is unknown), and every claim once the heartbeat lapsed, wait until a renewal after a
 *   heartbeat confirms they are still this worker's own (claimed by it and `sending`); rows the
 *   renewal no longer finds are dropped, never sent. So even a worker whose heartbeats failed
 *   while its sends did not (and was reaped) sends nothing another worker took.
 * The one exception stays the crash (kill -9, power loss) between SMTP accepting a message and
 * the ledger recording it, and with it a worker cut off from the database for `ownerSilentMs`
 * while the others are not, which cannot be told from a crash: its heartbeat stops, its rows
 * are reaped and the messages it had sent but not recorded are sent again with the same
 * Message-ID.
 *
 * Pause and cancel (CONTRACT §5): after the rate wait, the campaign's status is checked again
 * beside the member's re-check, on a read begun at most STATUS_MAX_AGE_MS before (shared by the
 * loops asking meanwhile); a campaign no longer sending gets its row back in the queue,
 * untouched. A pause in this process also stops the loops waiting for the rate and gives the
 * buffered claims back at once (Handoffs.stopCampaign); one in another process is seen within
 * STATUS_WATCH_MS. The pause answers only once none of the campaign's rows is held by a live
 * worker (DeliveryService.halt), so whatever went out went out before the answer.
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
  /** A status read begun after the ask, shared by the loops asking meanwhile: campaign id → true, or null. */
  private readonly campaignCheck: SharedRead<number, true>;
  /** Messages between the last checks and the end of the SMTP handoff, by member and campaign. */
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
  /** When the status read behind `activeCampaigns` began: an older read never overwrites a newer one. */
  private activeCampaignsReadAt = -Infinity;
  private refreshing: Promise<void> | null = null;
  /** Aborted when the campaign stops sending: its loops stop waiting for the rate. */
  private readonly stopSignals = new Map<number, AbortController>();
  private unsubscribeStops: (() => void) | null = null;
  private flushTimer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> = Promise.resolve();
  private tickLoop = false;
  private tickTimer: NodeJS.Timeout | null = null;
  private ticking: Promise<void> | null = null;
  private housekeeping: Promise<void> | null = null;
  private reaping: Promise<void> | null = null;
  private lastHousekeepingAt = -Infinity;
  /**
   * Until when (local monotonic time) no other worker may take this worker's claims for silence:
   * the last confirmed heartbeat's start + ownerSilentMs - margin. Nothing is handed over after it.
   */
  private beatFence = -Infinity;
  /** Counts the lapses of the heartbeat: a claim or renewal begun before one proves nothing. */
  private beatLapses = 0;
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
      ownerSilentMs: o.ownerSilentMs ?? HEARTBEAT_LIVE_MS,
      stopTimeoutMs: o.stopTimeoutMs ?? 20_000,
    };
    this.limiter = new RateLimiter(o.sendRate);
    this.recheck = new RecipientCheck(deps.recipients);
    this.campaignCheck = new SharedRead(async (ids) => {
      const sending = await this.readSendingCampaigns();
      return new Map(ids.filter((id) => sending.has(id)).map((id) => [id, true as const]));
    });
    this.handoffs = deps.handoffs ?? new Handoffs();
    this.messageIdDomain = /@([^>\s]+)/.exec(o.mailFrom)?.[1] ?? 'kundeklubb.local';
  }

  /**
   * Heartbeat and lease renewal, every second: several beats per `ownerSilentMs`, four per lease,
   * at least every housekeeping period.
   */
  private get beatEveryMs(): number {
    return Math.max(
      100,
      Math.min(
        HEARTBEAT_EVERY_MS,
        this.opts.housekeepingMs,
        this.opts.leaseMs / 4,
        this.opts.ownerSilentMs / 4,
      ),
    );
  }

  /**
   * A lease or a heartbeat is trusted until this long before it runs out, for the time a
   * statement takes to arrive (and the clocks of two hosts to differ).
   */
  private get fenceMarginMs(): number {
    return Math.min(500, this.opts.leaseMs / 4, this.opts.ownerSilentMs / 4);
  }

  /** The reaper's own unbroken sight of the database first: every live worker has heartbeaten by then. */
  private get reapAfterMs(): number {
    return Math.min(this.opts.ownerSilentMs, REAP_AFTER_BEATS * this.beatEveryMs);
  }

  /** One pump: sends until nothing is claimable. The BackgroundWorker calls it again after intervalMs. */
  async run(): Promise<boolean> {
    if (this.stopping) return false;
    if (!this.tickLoop) {
      this.tickLoop = true;
      this.unsubscribeStops = this.handoffs.onStop((id) => this.campaignStopped(id));
      await this.tick();
      // The first housekeeping too (scheduled campaigns due, the rate shared) before looking for work.
      await this.housekeeping;
    }
    await this.refreshActiveCampaigns(true);
    if (this.activeCampaigns.size === 0 && this.buffer.length === 0) return false;
    this.exhausted = false;
    const watch = setInterval(() => {
      this.refreshActiveCampaigns(true).catch((err) =>
        this.noteDatabaseError(err, 'reading campaign status failed; will retry'),
      );
    }, STATUS_WATCH_MS);
    try {
      const loops = Array.from({ length: this.opts.concurrency }, () => this.senderLoop());
      await Promise.all(loops);
    } finally {
      clearInterval(watch);
    }
    await this.flush();
    await this.campaigns.housekeeping();
    return false;
  }

  interrupt(): void {
    this.stopping = true;
    this.untilRenewal.endAll();
    for (const c of this.stopSignals.values()) c.abort();
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
        // The next claim starts while half a claim is still buffered: a claim's round trips (tens
        // of ms on MariaDB) then overlap sending instead of leaving the connections idle.
        if (this.buffer.length < Math.max(this.opts.concurrency, this.claimSize() / 2)) void this.refill();
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
      // A worker whose heartbeat lapsed may be taken for dead: it claims nothing until it beats again.
      if (!this.reachable || this.stopping || !this.heartbeatHolds()) return false;
      const wait = this.outageUntil - Date.now();
      if (wait > 0) await sleep(wait);
      await this.refreshActiveCampaigns(false);
      const ids = [...this.activeCampaigns].filter((id) => !this.handoffs.isStopped(id));
      const size = this.claimSize();
      const started = performance.now();
      const lapses = this.beatLapses;
      const claimed = await this.store.claim(
        this.workerId,
        ids,
        size - this.buffer.length,
        this.clock(),
        this.opts.leaseMs,
      );
      // Claimed while the heartbeat lapsed: another worker may have reaped the rows since; a renewal decides.
      const fence = lapses === this.beatLapses ? started + this.opts.leaseMs - this.fenceMarginMs : 0;
      for (const c of claimed) {
        // A row reaped from this worker while its heartbeat lapsed, and claimed again: still one
        // entry in memory; one it already sent (outcome unrecorded) or is giving back is left be.
        if (this.unrecorded.has(c.id) || this.writing.has(c.id)) continue;
        const known = this.claims.has(c.id);
        this.claims.set(c.id, fence);
        if (!known) this.buffer.push(c);
      }
      // A campaign paused or cancelled while the claim ran: those rows go straight back.
      for (const id of new Set(claimed.map((c) => c.campaignId)))
        if (!this.mayHandOver(id)) this.releaseBuffered(id);
      return claimed.length > 0;
    } catch (err) {
      this.noteDatabaseError(err, 'claiming deliveries failed; will retry');
      return false;
    }
  }

  /** Rows per claim: half a second of this worker's share of the rate, at least two per connection. */
  private claimSize(): number {
    return Math.max(this.opts.concurrency * 2, Math.min(200, Math.ceil(this.limiter.rate / 2)));
  }

  private async refreshActiveCampaigns(force: boolean): Promise<void> {
    if (!force && Date.now() - this.activeCampaignsAt < 500) return;
    // Loops asking while a read runs share it; the fresh read before handoff is campaignCheck's.
    this.refreshing ??= this.readSendingCampaigns()
      .then(() => undefined)
      .finally(() => {
        this.refreshing = null;
      });
    return this.refreshing;
  }

  /**
   * Reads which campaigns are sending. A campaign no longer among them (paused, cancelled, or
   * done) gives back this worker's claims that wait for the rate or in the buffer.
   */
  private async readSendingCampaigns(): Promise<Set<number>> {
    const started = performance.now();
    const sending = new Set(await this.campaigns.sendingCampaignIds());
    for (const id of sending) this.handoffs.sawSending(id, started);
    if (started >= this.activeCampaignsReadAt) {
      const before = this.activeCampaigns;
      this.activeCampaigns = sending;
      this.activeCampaignsAt = Date.now();
      this.activeCampaignsReadAt = started;
      for (const id of before) if (!sending.has(id)) this.campaignStopped(id);
    }
    return sending;
  }

  /** A campaign stopped sending (here or elsewhere): its waiting loops and buffered claims let go. */
  private campaignStopped(campaignId: number): void {
    this.activeCampaigns.delete(campaignId);
    this.stopSignals.get(campaignId)?.abort();
    this.stopSignals.delete(campaignId);
    this.releaseBuffered(campaignId);
  }

  private stopSignal(campaignId: number): AbortSignal {
    if (this.stopping) return AbortSignal.abort();
    let c = this.stopSignals.get(campaignId);
    if (!c) this.stopSignals.set(campaignId, (c = new AbortController()));
    return c.signal;
  }

  /** Whether the campaign is still sending, by a status read begun at most STATUS_MAX_AGE_MS ago. */
  private async stillSending(campaignId: number): Promise<boolean> {
    const stale = performance.now() - this.activeCampaignsReadAt > STATUS_MAX_AGE_MS;
    if (stale && !(await this.campaignCheck.get(campaignId))) return false;
    return this.mayHandOver(campaignId);
  }

  /** Without a read: whether, as far as this worker knows, the campaign may still be handed over. */
  private mayHandOver(campaignId: number): boolean {
    return this.activeCampaigns.has(campaignId) && !this.handoffs.isStopped(campaignId);
  }

  /** Gives the buffered claims of a campaign back to the queue untouched, in one write. */
  private releaseBuffered(campaignId: number): void {
    const rows = this.buffer.filter((b) => b.campaignId === campaignId);
    if (rows.length === 0) return;
    this.buffer = this.buffer.filter((b) => b.campaignId !== campaignId);
    for (const r of rows) {
      this.claims.delete(r.id);
      this.writing.add(r.id);
    }
    this.store
      .release(this.workerId, { only: rows.map((r) => r.id) })
      .catch((err) => {
        // Its outcome is unknown: the rows wait in the buffer for a renewal to say whose they are.
        for (const r of rows) this.putBack(r);
        this.noteDatabaseError(err, 'giving back claims of a stopped campaign failed; will retry');
      })
      .finally(() => {
        for (const r of rows) this.writing.delete(r.id);
      });
  }

  private fenceOpen(id: number): boolean {
    return (this.claims.get(id) ?? Infinity) > performance.now() && this.heartbeatHolds();
  }

  /** Whether this worker's last confirmed heartbeat still keeps other workers' reapers off its claims. */
  private heartbeatHolds(): boolean {
    return this.beatFence > performance.now();
  }

  /** A row this worker still holds goes back to the front of the buffer, to be sent once its claim is confirmed. */
  private putBack(item: ClaimedDelivery): void {
    this.claims.set(item.id, 0);
    if (!this.buffer.includes(item)) this.buffer.unshift(item);
  }

  private async deliver(item: ClaimedDelivery): Promise<void> {
    await this.refreshActiveCampaigns(false);
    // Paused or cancelled since the claim: give the row back untouched.
    const giveBack = () => this.writeBack(item, () => this.store.release(this.workerId, { only: [item.id] }));
    if (!this.mayHandOver(item.campaignId)) return giveBack();
    if (item.memberId === null) return this.settleOutcome({ id: item.id, state: 'skipped', error: 'erased' });
    if (!(await this.limiter.take(this.stopSignal(item.campaignId)))) return giveBack();
    // The re-checks: the last reads before handoff, begun after the rate wait. A campaign no
    // longer sending sends nothing more; someone who left, was restricted or no longer matches
    // the audience gets nothing.
    const [compiled, audience, sending, r] = await Promise.all([
      this.campaigns.compiled(item.campaignId),
      this.campaigns.audience(item.campaignId),
      this.stillSending(item.campaignId),
      this.recheck.check(item.memberId),
    ]);
    if (!sending) return giveBack();
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
    // Paused since the read (here, or seen by a newer read): nothing in between, so a pause in
    // this process either stops this handoff or finds it in Handoffs and waits for it.
    if (!this.mayHandOver(item.campaignId)) return giveBack();
    this.handoffs.begin(r.memberId, item.campaignId);
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
      this.handoffs.end(r.memberId, item.campaignId);
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

  /**
   * Heartbeats and renews leases every beatEveryMs, one beat at a time, until stop() ends the loop.
   * Housekeeping is started from here but not waited for, so nothing slows the heartbeat down.
   */
  private tick(): Promise<void> {
    this.ticking ??= this.beat().finally(() => {
      this.ticking = null;
      if (!this.tickLoop) return;
      this.tickTimer = setTimeout(() => void this.tick(), this.beatEveryMs);
      this.tickTimer.unref();
    });
    return this.ticking;
  }

  private async beat(): Promise<void> {
    const started = performance.now();
    const now = this.clock();
    try {
      await this.store.heartbeat(this.workerId, now);
      if (performance.now() >= this.beatFence) {
        // Confirmed only after the last one's fence had passed: another worker may have taken
        // claims of this one meanwhile, so each must be confirmed again (by the renewal below).
        this.beatLapses++;
        for (const id of this.claims.keys()) this.claims.set(id, 0);
      }
      this.beatFence = Math.max(this.beatFence, started + this.opts.ownerSilentMs - this.fenceMarginMs);
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
    // A gone worker's claims are looked for every beat, housekeeping every housekeepingMs; the
    // heartbeat waits for neither (a lock wait or a slow housekeeping query must not silence it).
    this.reaping ??= this.reapSilentOwners()
      .catch((err) => this.noteDatabaseError(err, 'retaking deliveries of a gone worker failed'))
      .finally(() => {
        this.reaping = null;
      });
    if (this.housekeeping || performance.now() - this.lastHousekeepingAt < this.opts.housekeepingMs) return;
    this.lastHousekeepingAt = performance.now();
    this.housekeeping = this.keepHouse()
      .catch((err) => this.noteDatabaseError(err, 'delivery housekeeping failed'))
      .finally(() => {
        this.housekeeping = null;
      });
  }

  /**
   * Claims of workers silent for ownerSilentMs go back to the queue; only after seeing the
   * database for REAP_AFTER_BEATS beats without a break: every live worker has heartbeaten by then.
   */
  private async reapSilentOwners(): Promise<void> {
    if (!this.reachable || performance.now() - this.reachableSince < this.reapAfterMs) return;
    const now = this.clock();
    const silentSince = new Date(now.getTime() - this.opts.ownerSilentMs);
    const reaped = await this.store.reapSilentOwners(this.workerId, now, silentSince);
    if (reaped) this.logger.warn({ reaped }, 'retook deliveries from a worker that is gone');
  }

  private async keepHouse(): Promise<void> {
    const now = this.clock();
    // SEND_RATE is shared by the workers heard from lately.
    this.limiter.setRate(this.opts.sendRate / (await this.store.liveWorkers(now, HEARTBEAT_LIVE_MS)));
    // Claims this worker lost track of (a claim whose answer was lost with the connection).
    const held = [...this.claims.keys(), ...this.writing, ...this.unrecorded];
    const forgotten = await this.store.release(this.workerId, { except: held, expiredBefore: now });
    if (forgotten) this.logger.warn({ released: forgotten }, 'released claims this worker had lost track of');
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
    this.unsubscribeStops?.();
    this.unsubscribeStops = null;
    if (this.tickTimer) clearTimeout(this.tickTimer);
    this.tickTimer = null;
    await this.ticking;
    await Promise.all([this.housekeeping, this.reaping]);
    if (this.unrecorded.size === 0) {
      await this.store
        .removeWorker(this.workerId, new Date(this.clock().getTime() - HEARTBEAT_LIVE_MS * 4))
        .catch((err) => this.noteDatabaseError(err, 'removing the worker row failed'));
    }
    this.logger.info({ workerId: this.workerId, released }, 'delivery worker stopped');
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
