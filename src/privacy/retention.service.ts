import type { DataSource } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { toDbTime } from '../db/time';
import type { MembersService } from '../members/members.service';
import type { MemberTokens } from '../members/member-tokens';
import type { PrivacyService } from './privacy.service';
import { PrivacyRequestEntity } from './privacy-request.entity';

/** One retention rule: deletes or clears what is past its time and returns how many rows it touched. */
export interface RetentionTask {
  name: string;
  run(now: Date): Promise<number>;
}

const DAY_MS = 24 * 3600 * 1000;
const BATCH = 500;

/**
 * Keeps the policy's promises about time: never-confirmed sign-ups go after RETENTION_PENDING_DAYS,
 * spent links at once, request-log notes (received e-mail) after about a year. Other rooms add
 * their own rules with addTask(). Each run logs counts only.
 */
export class RetentionService {
  private readonly ds: DataSource;
  private readonly config: Config;
  private readonly privacy: PrivacyService;
  private readonly members: MembersService;
  private readonly logger: Logger;
  private readonly tasks: RetentionTask[] = [];

  constructor(deps: {
    dataSource: DataSource;
    config: Config;
    privacy: PrivacyService;
    members: MembersService;
    memberTokens: MemberTokens;
    logger: Logger;
  }) {
    this.ds = deps.dataSource;
    this.config = deps.config;
    this.privacy = deps.privacy;
    this.members = deps.members;
    this.logger = deps.logger;
    this.addTask({ name: 'pending-members', run: (now) => this.deletePendingMembers(now) });
    this.addTask({ name: 'member-tokens', run: (now) => deps.memberTokens.purgeSpent(now) });
    this.addTask({ name: 'request-notes', run: (now) => this.clearRequestNotes(now) });
    this.addTask({ name: 'request-addresses', run: (now) => this.clearClosedRequestAddresses(now) });
  }

  addTask(task: RetentionTask): void {
    if (this.tasks.some((t) => t.name === task.name))
      throw new Error(`retention task "${task.name}" is already registered`);
    this.tasks.push(task);
  }

  /** Runs every task once. A failing task does not stop the others; the run then fails after logging. */
  async run(now: Date): Promise<Record<string, number>> {
    const counts: Record<string, number> = {};
    const failed: string[] = [];
    for (const task of this.tasks) {
      try {
        counts[task.name] = await task.run(now);
      } catch (err) {
        failed.push(task.name);
        this.logger.error(
          { task: task.name, err: String((err as Error)?.message ?? err) },
          'retention task failed',
        );
      }
    }
    this.logger.info({ counts, failed }, 'retention run');
    if (failed.length) throw new Error(`retention tasks failed: ${failed.join(', ')}`);
    return counts;
  }

  private cutoff(now: Date, days: number): string {
    return toDbTime(new Date(now.getTime() - days * DAY_MS));
  }

  /**
   * Sign-ups never confirmed are erased through the erasure path, but without a suppression entry:
   * the address never consented, so there is nothing to honour and no reason to keep even its
   * hash. An earlier suppression (a re-sign-up of an erased address) stays, since only confirming lifts it.
   */
  private async deletePendingMembers(now: Date): Promise<number> {
    const cutoff = new Date(now.getTime() - this.config.retention.pendingDays * DAY_MS);
    let deleted = 0;
    for (;;) {
      const ids = await this.members.stalePendingIds(cutoff, BATCH);
      let progressed = 0;
      for (const id of ids) {
        const erased = await this.ds.transaction(
          async (manager) =>
            (await this.members.isStalePending(manager, id, cutoff)) &&
            (await this.privacy.eraseIn(manager, id, 'retention', { suppress: false })),
        );
        if (erased) {
          await this.privacy.afterErasure(id, 'retention');
          progressed++;
        }
      }
      deleted += progressed;
      if (ids.length < BATCH || progressed === 0) return deleted;
    }
  }

  /** The policy: received e-mail is kept about one year. A request's note is what we took from it. */
  private async clearRequestNotes(now: Date): Promise<number> {
    const res = await this.ds
      .createQueryBuilder()
      .update(PrivacyRequestEntity)
      .set({ note: null, updatedAt: now })
      .where('note IS NOT NULL AND received_at < :cutoff', {
        cutoff: this.cutoff(now, this.config.retention.requestNoteDays),
      })
      .execute();
    return res.affected ?? 0;
  }

  /** Closed requests of the same age keep type, dates and outcome as evidence, not the address. */
  private async clearClosedRequestAddresses(now: Date): Promise<number> {
    const res = await this.ds
      .createQueryBuilder()
      .update(PrivacyRequestEntity)
      .set({ email: null, updatedAt: now })
      .where('email IS NOT NULL AND status = :done AND received_at < :cutoff', {
        done: 'done',
        cutoff: this.cutoff(now, this.config.retention.requestNoteDays),
      })
      .execute();
    return res.affected ?? 0;
  }
}
