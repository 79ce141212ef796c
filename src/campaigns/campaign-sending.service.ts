import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { execute } from '../db/sql';
import { toDbTime } from '../db/time';
import { AppError, conflict, notFound } from '../errors';
import type { CompiledNewsletter } from '../newsletter/renderer';
import type { MembersService } from '../members/members.service';
import type { Audience } from '../members/audience';
import type { DeliveryService } from '../delivery/delivery.service';
import type { CampaignSource } from '../delivery/delivery.worker';
import type { CampaignStatus, PausedReason } from './campaign.entity';
import type { CampaignsService } from './campaigns.service';
import type { CampaignStats } from './campaigns.schema';

/** Hard bounces and complaints of a campaign, counted by the bounces room (CONTRACT §9). */
export type ReportCounts = (campaignId: number) => Promise<{ bounced: number; complained: number }>;

/**
 * A campaign's sending life: send (now or scheduled) → snapshot of the audience into the
 * delivery ledger → sending ⇄ paused → sent, or cancelled. The campaigns room owns the status;
 * the delivery room owns the ledger and its worker, which sees this as its CampaignSource.
 */
export class CampaignSending implements CampaignSource {
  private readonly ds: DataSource;
  private readonly campaigns: CampaignsService;
  private readonly delivery: DeliveryService;
  private readonly members: MembersService;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly audiences = new Map<number, Audience | null>();
  private readonly reportCounts: ReportCounts;

  constructor(deps: {
    dataSource: DataSource;
    campaigns: CampaignsService;
    delivery: DeliveryService;
    members: MembersService;
    /** The bounces room's counts (a room above this one answers through this function). */
    reportCounts: ReportCounts;
    logger: Logger;
    clock: Clock;
  }) {
    this.reportCounts = deps.reportCounts;
    this.ds = deps.dataSource;
    this.campaigns = deps.campaigns;
    this.delivery = deps.delivery;
    this.members = deps.members;
    this.logger = deps.logger;
    this.clock = deps.clock;
  }

  private async requireCampaign(id: number) {
    const c = await this.campaigns.findById(id);
    if (!c) throw notFound('campaign');
    return c;
  }

  async send(id: number, scheduledAt?: Date): Promise<CampaignStats> {
    const c = await this.requireCampaign(id);
    if (c.status !== 'draft' && c.status !== 'scheduled')
      throw conflict(`a ${c.status} campaign cannot be sent again`);
    const now = this.clock();
    if (scheduledAt && scheduledAt.getTime() > now.getTime() + 1000) {
      const ok = await this.campaigns.setStatus(this.ds.manager, id, ['draft', 'scheduled'], 'scheduled', {
        scheduledAt,
      });
      if (!ok) throw conflict('the campaign changed meanwhile');
      this.logger.info({ campaignId: id, scheduledAt: scheduledAt.toISOString() }, 'campaign scheduled');
      return this.stats(id);
    }
    if (!(await this.start(id, ['draft', 'scheduled']))) throw conflict('the campaign changed meanwhile');
    return this.stats(id);
  }

  /** Freezes the render and snapshots the audience in one transaction; false if another process started it. */
  private async start(id: number, from: CampaignStatus[]): Promise<boolean> {
    const started = await this.ds.transaction(async (m: EntityManager) => {
      const now = this.clock();
      const c = await this.campaigns.findById(id, m);
      if (!c || !(await this.campaigns.setStatus(m, id, from, 'sending', { startedAt: now }))) return null;
      await this.campaigns.freezeForSending(m, id);
      const audience = this.members.audienceSelect(this.campaigns.audienceOf(c));
      const total = await this.delivery.enqueue(m, id, audience, now);
      await this.campaigns.setStatus(m, id, ['sending'], 'sending', { total });
      return total;
    });
    if (started === null) return false;
    this.logger.info({ campaignId: id, total: started }, 'campaign sending');
    if (started === 0) await this.completeIfDone(id);
    return true;
  }

  /** Answers once nothing more of the campaign can reach the relay (see DeliveryService.halt). */
  async pause(id: number): Promise<CampaignStats> {
    return this.transition(id, ['sending'], 'paused', { pausedReason: 'manual' });
  }

  /**
   * The guardrail (CONTRACT §9): a sending campaign pauses itself, with the reason, until a person
   * resumes it. True when this call paused it (it may already be paused, or done).
   */
  async pauseFor(id: number, reason: Exclude<PausedReason, 'manual'>): Promise<boolean> {
    const paused = await this.campaigns.setStatus(this.ds.manager, id, ['sending'], 'paused', {
      pausedReason: reason,
    });
    // Nobody waits for an answer here: this process's worker stops at once, the others on their next read.
    if (paused) this.delivery.stopped(id);
    return paused;
  }

  /**
   * What the guardrail looks at: a sending campaign, and since when its rates count (its start,
   * or the last resume: resuming is a person's decision, so the rates start over from there).
   */
  async guardWindow(id: number): Promise<{ since: Date } | 'not-sending' | 'done'> {
    const c = await this.campaigns.findById(id);
    if (!c || c.status === 'sent' || c.status === 'cancelled') return 'done';
    if (c.status !== 'sending') return 'not-sending';
    return { since: c.resumedAt ?? c.startedAt ?? new Date(0) };
  }

  async resume(id: number): Promise<CampaignStats> {
    return this.transition(id, ['paused'], 'sending', { resumedAt: this.clock() });
  }

  /** Like pause, answers once nothing more can go out; the rows not sent stay in the ledger, unsent. */
  async cancel(id: number): Promise<CampaignStats> {
    return this.transition(id, ['draft', 'scheduled', 'sending', 'paused'], 'cancelled');
  }

  private async transition(
    id: number,
    from: CampaignStatus[],
    to: CampaignStatus,
    extra: { pausedReason?: PausedReason; resumedAt?: Date } = {},
  ): Promise<CampaignStats> {
    const c = await this.requireCampaign(id);
    const changes = {
      ...extra,
      pausedReason: extra.pausedReason ?? null,
      ...(to === 'cancelled' ? { finishedAt: this.clock() } : {}),
    };
    if (!(await this.campaigns.setStatus(this.ds.manager, id, from, to, changes))) {
      throw new AppError(409, 'conflict', 'Conflict', `cannot go from ${c.status} to ${to}`);
    }
    this.logger.info({ campaignId: id, from: c.status, to }, 'campaign status changed');
    if (to === 'paused' || to === 'cancelled') await this.delivery.halt(id);
    if (to === 'sending') await this.completeIfDone(id);
    return this.stats(id);
  }

  async stats(id: number): Promise<CampaignStats> {
    const c = await this.requireCampaign(id);
    const [n, clicks, reports] = await Promise.all([
      this.delivery.counts(id),
      this.campaigns.clickStats(id),
      this.reportCounts(id),
    ]);
    // A cancelled campaign's unsent rows wait for nothing: none of it is still to go.
    const ended = c.status === 'cancelled';
    return {
      status: c.status,
      total: n.total,
      queued: ended ? 0 : n.queued + n.sending,
      sent: n.sent,
      failed: n.failed,
      skipped: n.skipped,
      sending: ended ? 0 : n.sending,
      clicks,
      bounced: reports.bounced,
      complained: reports.complained,
      // Paused before reasons were kept: by hand.
      pausedReason: c.status === 'paused' ? (c.pausedReason ?? 'manual') : null,
    };
  }

  private async completeIfDone(id: number): Promise<void> {
    if (await this.delivery.hasUnfinished(id)) return;
    if (
      await this.campaigns.setStatus(this.ds.manager, id, ['sending'], 'sent', { finishedAt: this.clock() })
    ) {
      this.logger.info({ campaignId: id }, 'campaign sent');
    }
  }

  /** Paused campaigns by reason (manual, bounce-rate, complaint-rate), for /metrics. */
  async pausedByReason(): Promise<Record<string, number>> {
    const res = await execute(
      this.ds,
      `SELECT COALESCE(paused_reason, 'manual') AS reason, COUNT(*) AS n FROM campaigns WHERE status = 'paused' GROUP BY COALESCE(paused_reason, 'manual')`,
    );
    return Object.fromEntries(res.records.map((r) => [String(r.reason), Number(r.n)]));
  }

  // ---- CampaignSource for the delivery worker ----

  async sendingCampaignIds(): Promise<number[]> {
    const res = await execute(this.ds, `SELECT id FROM campaigns WHERE status = 'sending'`);
    return res.records.map((r) => Number(r.id));
  }

  compiled(campaignId: number): Promise<CompiledNewsletter> {
    return this.campaigns.loadCompiled(campaignId);
  }

  /** The audience a sending campaign was sent to; it cannot change once sending, so it is read once. */
  async audience(campaignId: number): Promise<Audience | null> {
    if (this.audiences.has(campaignId)) return this.audiences.get(campaignId)!;
    const c = await this.requireCampaign(campaignId);
    const audience = this.campaigns.audienceOf(c);
    this.audiences.set(campaignId, audience);
    return audience;
  }

  async housekeeping(): Promise<void> {
    const due = await execute(
      this.ds,
      `SELECT id FROM campaigns WHERE status = 'scheduled' AND scheduled_at <= ?`,
      [toDbTime(this.clock())],
    );
    for (const r of due.records) await this.start(Number(r.id), ['scheduled']);
    for (const id of await this.sendingCampaignIds()) await this.completeIfDone(id);
  }
}
