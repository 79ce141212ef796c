import type { DataSource, EntityManager } from 'typeorm';
import type { BounceConfig } from '../config';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { redactAddresses } from '../logger';
import { execute, insertIgnore, placeholders } from '../db/sql';
import { fromDbTime, toDbTime, type Clock } from '../db/time';
import { isConnectionError, retryOnDeadlock } from '../db/errors';
import { addressFingerprint, type ParsedTag, type VerpTags } from '../mail/verp';
import type { Member } from '../members/member.entity';
import type { MemberDataParticipant, MembersService } from '../members/members.service';
import type { DeliveryService } from '../delivery/delivery.service';
import type { LedgerRow } from '../delivery/delivery.store';
import type { CampaignSending } from '../campaigns/campaign-sending.service';
import type { PrivacyService } from '../privacy/privacy.service';
import type { BounceReport, ReportKind } from './bounce-report.entity';

export type ApplyOutcome = 'applied' | 'duplicate' | 'unmatched';

/** The message a report is about, once matched: a newsletter (ledger row) or transactional mail. */
interface Target {
  memberId: number;
  campaignId: number | null;
  deliveryId: number | null;
  /** When a newsletter was handed to SMTP (the guardrail counts by it). */
  sentAt: Date | null;
  /**
   * Whether the report fits the member as they are now, read under their row lock: the tag's MAC
   * verifies for their address, or the reported address is theirs. A member who left, was erased
   * or was rectified since no longer fits: the report is about an address we no longer hold.
   */
  fits(email: string): boolean;
  /** The dedup key: `d{deliveryId}`, or `t{memberId}.{address fingerprint}` for transactional mail. */
  key(email: string): string;
}

type Effect = 'bounced' | 'deleted' | 'left' | 'none';
interface Result {
  outcome: ApplyOutcome;
  effect: Effect;
}
const UNMATCHED: Result = { outcome: 'unmatched', effect: 'none' };
const DUPLICATE: Result = { outcome: 'duplicate', effect: 'none' };
const APPLIED_NONE: Result = { outcome: 'applied', effect: 'none' };
const APPLIED_BOUNCED: Result = { outcome: 'applied', effect: 'bounced' };

/** A matched report, ready for its transaction. */
interface Pending {
  target: Target;
  report: BounceReport;
  /** For a soft bounce: the member's recent newsletters (the streak is counted on them). */
  recent: LedgerRow[];
}
interface Queued extends Pending {
  resolve(result: Result): void;
  reject(err: unknown): void;
}

/** Reports per transaction at most (and reports of one provider batch matched at once). */
const MAX_BATCH = 100;
/**
 * Transactions applying reports at once. They cannot deadlock each other: each locks its members
 * in id order before the event sequence, like every other change.
 */
const BATCHES_AT_ONCE = 2;
const DAY_MS = 24 * 3600 * 1000;
/** Soft bounces on this many different campaigns within SOFT_WINDOW_MS, no delivery between → bounced. */
const SOFT_CAMPAIGNS = 3;
const SOFT_WINDOW_MS = 30 * DAY_MS;
/** A report found by address alone is put on the member's latest newsletter sent this recently. */
const ATTRIBUTION_WINDOW_MS = 7 * DAY_MS;
/** The guardrail counts once this many are sent. */
const GUARDRAIL_MIN_SENT = 200;
const OUR_MESSAGE_ID = /^<?kk\.c(\d{1,10})\.m(\d{1,10})@[^>\s]+>?$/i;

/**
 * Hears back from the mail system (CONTRACT §9). Reports from the SMTP listener and the provider
 * webhooks arrive here as `BounceReport`s; each is matched to the message it is about, recorded
 * once (one row per message and kind) and acted on in the same transaction:
 * - hard bounce → the member becomes `bounced` (a pending sign-up whose confirmation bounced is deleted);
 * - soft bounces on 3 campaigns within 30 days with no delivery between → `bounced`;
 * - complaint → the member leaves (channel `complaint`), exactly as a one-click unsubscribe.
 * Then the guardrail looks at the campaign's rates. This room owns `bounce_reports`; members,
 * ledger, campaigns and erasure are their owners' calls.
 */
export class BouncesService {
  private readonly ds: DataSource;
  private readonly config: BounceConfig;
  private readonly verp?: VerpTags;
  private readonly members: MembersService;
  private readonly delivery: DeliveryService;
  private readonly sending: CampaignSending;
  private readonly privacy: PrivacyService;
  private readonly metrics: Metrics;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly insertIgnore: string;
  /** One rate check per campaign at a time; reports arriving meanwhile ask for one more after it. */
  private readonly guarding = new Map<number, { again: boolean; done: Promise<void> }>();
  /** Campaigns sent or cancelled: they never send again, so their reports need no rate check. */
  private readonly finished = new Set<number>();
  /** Matched reports waiting for the next transaction, and whether one is running. */
  private queue: Queued[] = [];
  private flushing = 0;

  constructor(deps: {
    dataSource: DataSource;
    config: BounceConfig;
    verp?: VerpTags;
    members: MembersService;
    delivery: DeliveryService;
    sending: CampaignSending;
    privacy: PrivacyService;
    metrics: Metrics;
    logger: Logger;
    clock: Clock;
  }) {
    this.ds = deps.dataSource;
    this.config = deps.config;
    this.verp = deps.verp;
    this.members = deps.members;
    this.delivery = deps.delivery;
    this.sending = deps.sending;
    this.privacy = deps.privacy;
    this.metrics = deps.metrics;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.insertIgnore = insertIgnore(deps.dataSource);
  }

  /** Applies one report at most once. `unmatched`: not about a message of ours (or forged); nothing changed. */
  async apply(report: BounceReport): Promise<ApplyOutcome> {
    return (await this.applyAll([report]))[0];
  }

  /**
   * Applies several reports (a provider's batch), each at most once, in their order. Reports being
   * applied at the same time, from here or from other connections, share their reads and their
   * transactions (see `flush`).
   */
  async applyAll(reports: BounceReport[]): Promise<ApplyOutcome[]> {
    const outcomes: ApplyOutcome[] = [];
    for (let i = 0; i < reports.length; i += MAX_BATCH) {
      const chunk = reports.slice(i, i + MAX_BATCH);
      // Matched together (their ledger reads are shared), then queued in the order given.
      const prepared = await Promise.all(chunk.map((r) => this.prepare(r)));
      // Every report's transaction is over before this answers, those that failed included.
      const settled = await Promise.allSettled(
        prepared.map((p) => (p ? this.enqueue(p) : Promise.resolve(UNMATCHED))),
      );
      for (let j = 0; j < chunk.length; j++) {
        const s = settled[j];
        if (s.status === 'fulfilled') outcomes.push(await this.settle(chunk[j], prepared[j], s.value));
      }
      const failed = settled.find((s) => s.status === 'rejected');
      if (failed) throw failed.reason;
    }
    return outcomes;
  }

  /** What a report is about, read before any transaction; null when it is not about a message of ours. */
  private async prepare(report: BounceReport): Promise<Pending | null> {
    const target = await this.match(report);
    if (!target) return null;
    // Read before the transaction: on SQLite a read outside it would wait for the transaction's own lock.
    const recent =
      report.kind === 'soft' && target.deliveryId !== null
        ? await this.delivery.sentTo(target.memberId, new Date(this.clock().getTime() - SOFT_WINDOW_MS))
        : [];
    return { target, report, recent };
  }

  /** After the commit: metrics, the log line, and what follows a leave, an erasure or a hard bounce. */
  private async settle(report: BounceReport, pending: Pending | null, result: Result): Promise<ApplyOutcome> {
    if (!pending) {
      this.metrics.reportIgnored(report.source, 'unmatched');
      this.logger.info(
        { source: report.source, kind: report.kind },
        'bounce report matched no message; dropped',
      );
      return 'unmatched';
    }
    if (result.outcome !== 'applied') {
      this.metrics.reportIgnored(report.source, result.outcome);
      return result.outcome;
    }
    const { target } = pending;
    this.metrics.reportApplied(report.kind, report.source);
    this.logger.info(
      {
        source: report.source,
        kind: report.kind,
        memberId: target.memberId,
        campaignId: target.campaignId,
        statusCode: report.statusCode,
        effect: result.effect,
      },
      'bounce report applied',
    );
    if (result.effect === 'left') await this.members.settle(target.memberId);
    if (result.effect === 'deleted') await this.privacy.afterErasure(target.memberId, 'bounce');
    if (target.campaignId !== null && report.kind !== 'soft') await this.guard(target.campaignId);
    return 'applied';
  }

  // ---- one transaction for the reports that arrive together ----

  /**
   * Queues a matched report for the next transaction. Up to BATCHES_AT_ONCE transactions run at a
   * time, each taking the reports queued when it starts (up to MAX_BATCH): a report arriving in a
   * quiet moment goes at once, and under load a report costs a share of a transaction and its
   * commit, while the next batch's member locks and writes overlap the previous one's commit.
   */
  private enqueue(pending: Pending): Promise<Result> {
    return new Promise((resolve, reject) => {
      this.queue.push({ ...pending, resolve, reject });
      if (this.flushing >= BATCHES_AT_ONCE) return;
      this.flushing++;
      setImmediate(() => void this.flush());
    });
  }

  private async flush(): Promise<void> {
    try {
      while (this.queue.length > 0) await this.applyBatch(this.queue.splice(0, MAX_BATCH));
    } finally {
      this.flushing--;
    }
  }

  /**
   * One transaction for the batch. If it fails for any reason but a lost database, each report is
   * tried again in a transaction of its own, so one report's failure is its own.
   */
  private async applyBatch(batch: Queued[]): Promise<void> {
    try {
      const results = await retryOnDeadlock(() => this.ds.transaction((m) => this.applyIn(m, batch)));
      batch.forEach((q, i) => q.resolve(results[i]));
    } catch (err) {
      if (batch.length === 1 || isConnectionError(err)) {
        for (const q of batch) q.reject(err);
        return;
      }
      for (const q of batch) await this.applyBatch([q]);
    }
  }

  /**
   * The members are locked first, all at once and in id order, before anything else (the event
   * sequence above all), as every single-member change locks its member first: batches and single
   * changes take their locks in the same order. The usual report, a hard bounce of a member met
   * once in the batch, is applied together with the others like it: one statement per table for
   * all of them. The rest (complaints, soft bounces, a sign-up's failed confirmation, a member
   * met more than once) follow one by one, in the order they arrived.
   */
  private async applyIn(m: EntityManager, batch: Pending[]): Promise<Result[]> {
    const locked = await this.members.lockMembers(
      m,
      batch.map((p) => p.target.memberId),
    );
    const times = new Map<number, number>();
    for (const p of batch) times.set(p.target.memberId, (times.get(p.target.memberId) ?? 0) + 1);
    const results: Result[] = batch.map(() => UNMATCHED);
    const together: Array<{ i: number; member: Member; key: string }> = [];
    const alone: number[] = [];
    batch.forEach(({ target, report }, i) => {
      const member = locked.get(target.memberId);
      if (times.get(target.memberId)! > 1) alone.push(i);
      else if (!member?.email || !target.fits(member.email)) results[i] = UNMATCHED;
      else if (report.kind !== 'hard' || (member.status === 'pending' && member.confirmedAt === null))
        alone.push(i);
      else together.push({ i, member, key: target.key(member.email) });
    });

    if (together.length > 0) {
      const fresh = await this.record(
        m,
        together.map(({ i, key }) => ({ key, target: batch[i].target, report: batch[i].report })),
      );
      const applied = together.filter((_, j) => fresh[j]);
      const bounced = await this.members.markBouncedMany(
        m,
        applied.map(({ i, member }) => ({ member, code: batch[i].report.statusCode })),
      );
      together.forEach(({ i }, j) => (results[i] = fresh[j] ? APPLIED_NONE : DUPLICATE));
      applied.forEach(({ i }, j) => (results[i] = bounced[j] ? APPLIED_BOUNCED : APPLIED_NONE));
    }

    const seen = new Set<number>();
    for (const i of alone) {
      const { target, report, recent } = batch[i];
      const id = target.memberId;
      // A member met again is read again: the report before may have changed them.
      const member = seen.has(id) ? await this.members.lockMember(m, id) : (locked.get(id) ?? null);
      seen.add(id);
      if (!member?.email || !target.fits(member.email)) results[i] = UNMATCHED;
      else if (!(await this.record(m, [{ key: target.key(member.email), target, report }]))[0])
        results[i] = DUPLICATE;
      else results[i] = { outcome: 'applied', effect: await this.act(m, member, target, report, recent) };
    }
    return results;
  }

  /** Hard bounces and complaints of one campaign (its stats), or of its messages sent since `since` (the guardrail). */
  async campaignCounts(campaignId: number, since?: Date): Promise<{ bounced: number; complained: number }> {
    const res = await execute(
      this.ds,
      `SELECT kind, COUNT(*) AS n FROM bounce_reports WHERE campaign_id = ? AND kind IN ('hard', 'complaint')${since ? ' AND sent_at >= ?' : ''} GROUP BY kind`,
      since ? [campaignId, toDbTime(since)] : [campaignId],
    );
    const n = (kind: ReportKind) => Number(res.records.find((r) => r.kind === kind)?.n ?? 0);
    return { bounced: n('hard'), complained: n('complaint') };
  }

  /** Retention: the receiving servers' words are cleared after `before`; outcome and code stay. */
  async clearDiagnostics(before: Date): Promise<number> {
    const res = await execute(
      this.ds,
      'UPDATE bounce_reports SET diagnostic = NULL WHERE diagnostic IS NOT NULL AND occurred_at < ?',
      [toDbTime(before)],
    );
    return res.affected;
  }

  /** This room's part of leaving, erasure and the export. */
  participant(): MemberDataParticipant {
    return {
      name: 'bounces',
      forget: async (manager, member, mode) => {
        // Rows of transactional mail are keyed by a fingerprint of the address: they go with it.
        await execute(manager, 'DELETE FROM bounce_reports WHERE member_id = ? AND delivery_id IS NULL', [
          member.id,
        ]);
        if (mode === 'erase')
          await execute(manager, 'UPDATE bounce_reports SET member_id = NULL WHERE member_id = ?', [
            member.id,
          ]);
      },
      export: async (manager, memberId) => {
        const res = await execute(
          manager,
          'SELECT campaign_id, kind, status_code, occurred_at FROM bounce_reports WHERE member_id = ? ORDER BY occurred_at',
          [memberId],
        );
        return res.records.map((r) => ({
          campaignId: r.campaign_id === null ? null : Number(r.campaign_id),
          kind: String(r.kind),
          statusCode: (r.status_code as string | null) ?? null,
          occurredAt: fromDbTime(r.occurred_at)?.toISOString() ?? null,
        }));
      },
    };
  }

  // ---- matching a report to a message ----
  // Only what finds the message is read here; the member is read once, under its lock, in apply().

  private async match(report: BounceReport): Promise<Target | null> {
    if (report.tags) {
      // Over SMTP anyone can write anything: only a tag whose MAC verifies names a message.
      const tags = report.tags.map((a) => this.verp?.parse(a)).filter((t): t is ParsedTag => !!t);
      for (const tag of tags) {
        const target = await this.targetOfTag(tag);
        // With one tag its MAC is checked under the lock; among several, the one that verifies now.
        if (target && (tags.length === 1 || (await this.fitsNow(target)))) return target;
      }
      return null;
    }
    const ours = report.messageId ? OUR_MESSAGE_ID.exec(report.messageId.trim()) : null;
    if (ours) {
      const row = await this.delivery.ledgerRow({ campaignId: Number(ours[1]), memberId: Number(ours[2]) });
      const recipient = report.recipient ? normalise(report.recipient) : null;
      return row ? this.targetOfRow(row, (email) => recipient === null || recipient === email) : null;
    }
    return report.recipient ? this.targetOfAddress(normalise(report.recipient)) : null;
  }

  private async targetOfTag(tag: ParsedTag): Promise<Target | null> {
    const verifies = (email: string) => this.verp!.verify(tag, email);
    if (tag.target.kind === 'delivery') {
      const row = await this.delivery.ledgerRow({ id: tag.target.id });
      return row ? this.targetOfRow(row, verifies) : null;
    }
    if (tag.target.kind === 'member') return this.transactional(tag.target.id, verifies);
    return null; // a test send names nobody
  }

  private async fitsNow(target: Target): Promise<boolean> {
    const member = await this.members.findMember(target.memberId);
    return !!member?.email && target.fits(member.email);
  }

  private targetOfRow(row: LedgerRow, fits: (email: string) => boolean): Target | null {
    if (row.memberId === null) return null; // erased
    return {
      memberId: row.memberId,
      campaignId: row.campaignId,
      deliveryId: row.id,
      sentAt: row.sentAt,
      fits,
      key: () => `d${row.id}`,
    };
  }

  /**
   * By address alone (a provider that rewrites the Message-ID): the member with that address, and
   * their latest newsletter of the last 7 days as the message, else their transactional mail.
   */
  private async targetOfAddress(recipient: string): Promise<Target | null> {
    const member = await this.members.findByEmail(recipient);
    if (!member?.email) return null;
    const fits = (email: string) => email === recipient;
    const since = new Date(this.clock().getTime() - ATTRIBUTION_WINDOW_MS);
    const [latest] = await this.delivery.sentTo(member.id, since, 1);
    return latest ? this.targetOfRow(latest, fits) : this.transactional(member.id, fits);
  }

  private transactional(memberId: number, fits: (email: string) => boolean): Target {
    return {
      memberId,
      campaignId: null,
      deliveryId: null,
      sentAt: null,
      fits,
      key: (email) => `t${memberId}.${addressFingerprint(this.config.tagKey, email)}`,
    };
  }

  // ---- applying ----

  /**
   * The once: one row per message and kind, its primary key; false for a report whose row is there
   * already. A duplicate leaves no trace (no auto-increment value used up either). Several reports
   * (different messages) are recorded with one read of the rows there and one multi-row INSERT;
   * that read is stable, as every report of a message is recorded under its member's row lock.
   */
  private async record(
    m: EntityManager,
    items: Array<{ key: string; target: Target; report: BounceReport }>,
  ): Promise<boolean[]> {
    let fresh = items.map(() => true);
    if (items.length > 1) {
      const res = await execute(
        m,
        `SELECT message_key, kind FROM bounce_reports WHERE message_key IN (${placeholders(items.length)})`,
        items.map((x) => x.key),
      );
      const there = new Set(res.records.map((r) => `${String(r.message_key)} ${String(r.kind)}`));
      fresh = items.map((x) => !there.has(`${x.key} ${x.report.kind}`));
    }
    const rows = items.filter((_, i) => fresh[i]);
    if (rows.length === 0) return fresh;
    const now = toDbTime(this.clock());
    const res = await execute(
      m,
      `${this.insertIgnore} INTO bounce_reports (message_key, kind, source, campaign_id, delivery_id, member_id, sent_at, status_code, diagnostic, occurred_at)
       VALUES ${rows.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      rows.flatMap(({ key, target, report }) => [
        key,
        report.kind,
        report.source,
        target.campaignId,
        target.deliveryId,
        target.memberId,
        // A DSN can outrun the worker's record of the send (batched every 50 ms): then it was sent just now.
        target.deliveryId === null ? null : toDbTime(target.sentAt ?? this.clock()),
        report.statusCode?.slice(0, 10) ?? null,
        report.diagnostic
          ? redactAddresses(report.diagnostic).replace(/\s+/g, ' ').trim().slice(0, 500)
          : null,
        now,
      ]),
    );
    if (items.length === 1) return [res.affected === 1];
    if (res.affected !== rows.length)
      throw new Error(
        `bounce reports: ${res.affected} of ${rows.length} recorded under their members' locks`,
      );
    return fresh;
  }

  private async act(
    m: EntityManager,
    member: Member,
    target: Target,
    report: BounceReport,
    recent: LedgerRow[],
  ): Promise<Effect> {
    if (report.kind === 'complaint')
      return (await this.members.leaveIn(m, member.id, 'complaint')) ? 'left' : 'none';
    if (report.kind === 'hard') {
      // A sign-up whose confirmation bounced never had a working address: it goes, without suppression.
      if (member.status === 'pending' && member.confirmedAt === null)
        return (await this.privacy.eraseIn(m, member.id, 'bounce', { suppress: false })) ? 'deleted' : 'none';
      return (await this.members.markBounced(m, member, report.statusCode)) ? 'bounced' : 'none';
    }
    if (target.deliveryId !== null && (await this.softBounceStreak(m, member.id, recent)) >= SOFT_CAMPAIGNS)
      return (await this.members.markBounced(m, member, report.statusCode)) ? 'bounced' : 'none';
    return 'none';
  }

  /**
   * Campaigns in a row, newest first, whose newsletter to the member soft-bounced within the window;
   * a newsletter sent between them without a bounce (a delivery) ends the row.
   */
  private async softBounceStreak(m: EntityManager, memberId: number, recent: LedgerRow[]): Promise<number> {
    if (recent.length === 0) return 0;
    const ids = recent.map((r) => r.id);
    const res = await execute(
      m,
      `SELECT delivery_id FROM bounce_reports WHERE kind = 'soft' AND delivery_id IN (${placeholders(ids.length)})`,
      ids,
    );
    const bounced = new Set(res.records.map((r) => Number(r.delivery_id)));
    const campaigns = new Set<number>();
    for (const row of recent) {
      if (!bounced.has(row.id)) break;
      campaigns.add(row.campaignId);
    }
    return campaigns.size;
  }

  // ---- the guardrail ----

  private guard(campaignId: number): Promise<void> {
    const running = this.guarding.get(campaignId);
    if (running) {
      running.again = true;
      return running.done;
    }
    const entry = { again: false, done: Promise.resolve() };
    entry.done = (async () => {
      try {
        do {
          entry.again = false;
          await this.checkRates(campaignId);
        } while (entry.again);
      } finally {
        this.guarding.delete(campaignId);
      }
    })();
    this.guarding.set(campaignId, entry);
    return entry.done;
  }

  /**
   * CONTRACT §9: past either rate, once 200 are sent, a sending campaign pauses itself. The rates
   * count the messages sent since the campaign started or a person last resumed it, so a resumed
   * campaign is paused again only if the messages sent after the resume go wrong too.
   */
  private async checkRates(campaignId: number): Promise<void> {
    if (this.finished.has(campaignId)) return;
    const window = await this.sending.guardWindow(campaignId);
    if (window === 'done') this.finished.add(campaignId);
    if (typeof window === 'string') return;
    const [sent, reports] = await Promise.all([
      this.delivery.sentSince(campaignId, window.since),
      this.campaignCounts(campaignId, window.since),
    ]);
    if (sent < GUARDRAIL_MIN_SENT) return;
    const complaintRate = reports.complained / sent;
    const bounceRate = reports.bounced / sent;
    const reason =
      complaintRate > this.config.complaintPauseRate
        ? 'complaint-rate'
        : bounceRate > this.config.pauseRate
          ? 'bounce-rate'
          : null;
    if (reason && (await this.sending.pauseFor(campaignId, reason)))
      this.logger.warn({ campaignId, sent, ...reports, reason }, 'guardrail paused the campaign');
  }
}

const normalise = (address: string) => address.trim().toLowerCase();
