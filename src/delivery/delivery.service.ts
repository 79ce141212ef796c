import type { EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import type { MemberDataParticipant } from '../members/members.service';
import { HEARTBEAT_LIVE_MS, type DeliveryCounts, type DeliveryStore, type LedgerRow } from './delivery.store';
import type { Handoffs } from './handoffs';
import { SharedRead } from './shared-read';

/** How long pause and cancel wait at most for the campaign's messages in flight. */
const HALT_WAIT_MS = 10_000;

/** Campaign subjects by id, read in the caller's transaction: the campaigns room's answer, for the export. */
export type CampaignSubjects = (
  manager: EntityManager,
  campaignIds: number[],
) => Promise<Map<number, string>>;

/**
 * The delivery ledger as the other rooms see it: the campaigns room snapshots an audience into it
 * and reads its counts; the members room has it skip, unlink and export a member's rows.
 */
export class DeliveryService {
  private readonly store: DeliveryStore;
  private readonly handoffs: Handoffs;
  private readonly subjects: CampaignSubjects;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** Ledger lookups of reports arriving together share one read (see SharedRead). */
  private readonly rowById: SharedRead<number, LedgerRow>;
  private readonly rowByMessage: SharedRead<string, LedgerRow>;

  constructor(deps: {
    store: DeliveryStore;
    handoffs: Handoffs;
    subjects: CampaignSubjects;
    logger: Logger;
    clock: Clock;
  }) {
    this.store = deps.store;
    this.handoffs = deps.handoffs;
    this.subjects = deps.subjects;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.rowById = new SharedRead((ids) => this.store.findRowsById(ids));
    this.rowByMessage = new SharedRead((keys) =>
      this.store.findRowsByMessage(
        keys.map((k) => {
          const [campaignId, memberId] = k.split('.').map(Number);
          return { campaignId, memberId };
        }),
      ),
    );
  }

  /** One queued row per member the audience SELECT yields, in the caller's transaction. */
  enqueue(
    manager: EntityManager,
    campaignId: number,
    audience: { sql: string; params: unknown[] },
    now: Date,
  ): Promise<number> {
    return this.store.snapshot(manager, campaignId, audience, now);
  }

  counts(campaignId: number): Promise<DeliveryCounts> {
    return this.store.counts(campaignId);
  }

  hasUnfinished(campaignId: number): Promise<boolean> {
    return this.store.hasUnfinished(campaignId);
  }

  countByState(): Promise<Record<string, number>> {
    return this.store.countByState();
  }

  waiting(campaignIds: number[]): Promise<{ count: number; oldestQueuedAt: Date | null }> {
    return this.store.waiting(campaignIds);
  }

  /**
   * After a campaign was paused or cancelled (its status committed): tells this process's worker at
   * once, then answers only when none of its messages is mid-handoff here and no live worker, here
   * or in another process, still holds one of its rows (they give back what they have not handed
   * over as soon as they see the status). So whatever goes out has gone out when this returns.
   * Bounded: a worker that cannot reach the database (or a relay that hangs) does not hold it up
   * for longer than 10 s.
   */
  async halt(campaignId: number): Promise<void> {
    this.handoffs.stopCampaign(campaignId);
    const deadline = Date.now() + HALT_WAIT_MS;
    while (Date.now() < deadline) {
      if (!this.handoffs.hasCampaign(campaignId)) {
        const liveSince = new Date(this.clock().getTime() - HEARTBEAT_LIVE_MS);
        if (!(await this.store.heldFor(campaignId, liveSince))) return;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    this.logger.warn(
      { campaignId },
      'pause or cancel: deliveries of the campaign were still held after 10 s',
    );
  }

  /** The guardrail paused a campaign: this process's worker stops it at once, nothing waits. */
  stopped(campaignId: number): void {
    this.handoffs.stopCampaign(campaignId);
  }

  /** The ledger row a bounce report names: by its id (VERP tag) or by campaign and member (Message-ID). */
  ledgerRow(by: { id: number } | { campaignId: number; memberId: number }): Promise<LedgerRow | null> {
    return 'id' in by ? this.rowById.get(by.id) : this.rowByMessage.get(`${by.campaignId}.${by.memberId}`);
  }

  /** How many of the campaign's newsletters were handed to SMTP since `since`. */
  sentSince(campaignId: number, since: Date): Promise<number> {
    return this.store.countSentSince(campaignId, since);
  }

  /** The member's newsletters handed to SMTP since `since`, newest first. */
  sentTo(memberId: number, since: Date, limit = 50): Promise<LedgerRow[]> {
    return this.store.sentTo(memberId, since, limit);
  }

  /** Retention: SMTP replies kept with failed rows are cleared after `before`. */
  clearErrorDetails(before: Date): Promise<number> {
    return this.store.clearErrorDetails(before);
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
          if (!this.handoffs.has(memberId) && !(await this.store.inFlightFor(memberId))) return;
          await new Promise((r) => setTimeout(r, 20));
        }
        this.logger.warn({ memberId }, 'leave: a delivery was still in flight after 10 s');
      },
      export: async (manager, memberId) => {
        const rows = await this.store.historyOf(manager, memberId);
        const subjects = await this.subjects(manager, [...new Set(rows.map((r) => r.campaignId))]);
        return rows.map((r) => ({
          campaignId: r.campaignId,
          subject: subjects.get(r.campaignId) ?? null,
          status: r.status,
          sentAt: r.sentAt,
        }));
      },
    };
  }
}
