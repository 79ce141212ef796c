import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { execute } from '../db/sql';
import { toDbTime } from '../db/time';
import { AppError, conflict, notFound } from '../errors';
import type { CompiledNewsletter } from '../newsletter/renderer';
import type { MembersService } from '../members/members.service';
import type { DeliveryService } from '../delivery/delivery.service';
import type { CampaignSource } from '../delivery/delivery.worker';
import type { CampaignStatus } from './campaign.entity';
import type { CampaignsService } from './campaigns.service';
import type { CampaignStats } from './campaigns.schema';

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

  constructor(deps: {
    dataSource: DataSource;
    campaigns: CampaignsService;
    delivery: DeliveryService;
    members: MembersService;
    logger: Logger;
    clock: Clock;
  }) {
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

  async pause(id: number): Promise<CampaignStats> {
    return this.transition(id, ['sending'], 'paused');
  }

  async resume(id: number): Promise<CampaignStats> {
    return this.transition(id, ['paused'], 'sending');
  }

  async cancel(id: number): Promise<CampaignStats> {
    return this.transition(id, ['draft', 'scheduled', 'sending', 'paused'], 'cancelled');
  }

  private async transition(id: number, from: CampaignStatus[], to: CampaignStatus): Promise<CampaignStats> {
    const c = await this.requireCampaign(id);
    const extra = to === 'cancelled' ? { finishedAt: this.clock() } : {};
    if (!(await this.campaigns.setStatus(this.ds.manager, id, from, to, extra))) {
      throw new AppError(409, 'conflict', 'Conflict', `cannot go from ${c.status} to ${to}`);
    }
    this.logger.info({ campaignId: id, from: c.status, to }, 'campaign status changed');
    if (to === 'sending') await this.completeIfDone(id);
    return this.stats(id);
  }

  async stats(id: number): Promise<CampaignStats> {
    const c = await this.requireCampaign(id);
    const n = await this.delivery.counts(id);
    return {
      status: c.status,
      total: n.total,
      queued: n.queued + n.sending,
      sent: n.sent,
      failed: n.failed,
      skipped: n.skipped,
      sending: n.sending,
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

  // ---- CampaignSource for the delivery worker ----

  async sendingCampaignIds(): Promise<number[]> {
    const res = await execute(this.ds, `SELECT id FROM campaigns WHERE status = 'sending'`);
    return res.records.map((r) => Number(r.id));
  }

  compiled(campaignId: number): Promise<CompiledNewsletter> {
    return this.campaigns.loadCompiled(campaignId);
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
