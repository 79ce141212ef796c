import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { execute } from '../db/sql';
import { toDbTime } from '../db/time';
import { AppError, conflict, notFound } from '../errors';
import type { CompiledNewsletter } from '../newsletter/renderer';
import { audienceFilter, type CampaignsService } from '../campaigns/campaigns.service';
import type { CampaignStatus } from '../campaigns/campaign.entity';
import type { MemberDataParticipant } from '../members/members.service';
import type { CampaignSource } from './delivery.worker';
import type { DeliveryStore } from './delivery.store';

export interface CampaignStats {
  status: CampaignStatus;
  total: number;
  queued: number;
  sent: number;
  failed: number;
  skipped: number;
  /** Part of `queued` that a worker holds right now. */
  sending: number;
}

/**
 * Campaign sending lifecycle: send (now or scheduled) → snapshot of the audience into the
 * ledger → sending ⇄ paused → sent, or cancelled. Also the club's hooks into the ledger
 * (leaving skips queued mail; erasure unlinks rows; export lists what was sent when).
 */
export class DeliveryService implements CampaignSource {
  private readonly ds: DataSource;
  private readonly store: DeliveryStore;
  private readonly campaigns: CampaignsService;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** Set when a worker runs in this process, so leaving can wait for a handoff in flight. */
  localWorker: { isHandingOff(memberId: number): boolean } | null = null;

  constructor(deps: {
    dataSource: DataSource;
    store: DeliveryStore;
    campaigns: CampaignsService;
    logger: Logger;
    clock: Clock;
  }) {
    this.ds = deps.dataSource;
    this.store = deps.store;
    this.campaigns = deps.campaigns;
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
      const total = await this.store.snapshot(m, id, audienceFilter(this.campaigns.audienceOf(c)), now);
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
    const n = await this.store.counts(id);
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
    if (await this.store.hasUnfinished(id)) return;
    if (
      await this.campaigns.setStatus(this.ds.manager, id, ['sending'], 'sent', { finishedAt: this.clock() })
    ) {
      this.logger.info({ campaignId: id }, 'campaign sent');
    }
  }

  // ---- CampaignSource for the worker ----

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

  // ---- the member's side ----

  participant(): MemberDataParticipant {
    return {
      name: 'deliveries',
      forget: async (manager, member, mode) => {
        await this.store.skipQueuedFor(manager, member.id, this.clock());
        if (mode === 'erase') await this.store.unlinkMember(manager, member.id);
      },
      // Leaving answers only when no message to this member is mid-handoff, here or in another worker.
      settle: async (memberId) => {
        const deadline = Date.now() + 10_000;
        while (Date.now() < deadline) {
          const local = this.localWorker?.isHandingOff(memberId) ?? false;
          if (!local && !(await this.store.inFlightFor(memberId))) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        this.logger.warn({ memberId }, 'leave: a delivery was still in flight after 10 s');
      },
      export: (manager, memberId) => this.store.historyOf(manager, memberId),
    };
  }
}
