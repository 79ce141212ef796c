import type { DataSource, EntityManager } from 'typeorm';
import type { Logger } from '../logger';
import type { Mailer, OutgoingMail } from '../mail/mailer';
import { MailError } from '../mail/mailer';
import { fromDbTime, toDbTime, type Clock } from '../db/time';
import { execute, insertIgnore, insertReturningId } from '../db/sql';
import { isConnectionError } from '../db/errors';

/**
 * Builds the mail of one kind for one member at send time, or returns null when it is no
 * longer wanted (member gone, already confirmed). Composers create fresh tokens, so the
 * queue never stores an address or a token.
 */
export type MailComposer = (memberId: number) => Promise<OutgoingMail | null>;

/**
 * How often one kind of mail may be queued for one member: at most `perWindow` within `windowMs`
 * and, when set, `total` in all. Kept in the database, so it holds across processes and restarts.
 */
export interface MailQuota {
  windowMs: number;
  perWindow: number;
  total?: number;
}

const MAX_ATTEMPTS = 12;
const LEASE_MS = 60_000;
/** Rows an after-commit kick takes per look at the queue. */
const KICK_BATCH = 20;
/** Mails of one look at the queue sent at the same time. */
const SENDS_AT_ONCE = 4;

/**
 * Transactional mail (confirmation, privacy link) that must not be lost: enqueued in the same
 * transaction as the change that needs it, sent right after commit, retried with backoff.
 */
export class MailQueue {
  private readonly ds: DataSource;
  private readonly mailer: Mailer;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly composers = new Map<string, MailComposer>();
  private readonly inflight = new Set<Promise<void>>();
  /** The kick running now, and whether another was asked for meanwhile. */
  private kicked: { again: boolean } | null = null;
  private readonly sentNotDeleted = new Set<number>();

  constructor(deps: { dataSource: DataSource; mailer: Mailer; logger: Logger; clock: Clock }) {
    this.ds = deps.dataSource;
    this.mailer = deps.mailer;
    this.logger = deps.logger;
    this.clock = deps.clock;
  }

  register(kind: string, composer: MailComposer): void {
    this.composers.set(kind, composer);
  }

  /**
   * Counts one more mail of `kind` for the member if the quota allows it, in the caller's
   * transaction (one conditional UPDATE, so concurrent requests cannot both take the last one).
   */
  async takeQuota(
    manager: EntityManager,
    memberId: number,
    kind: string,
    quota: MailQuota,
  ): Promise<boolean> {
    const now = this.clock();
    const windowOpen = toDbTime(new Date(now.getTime() - quota.windowMs));
    await execute(
      manager,
      `${insertIgnore(manager)} INTO mail_quota (member_id, kind, total, window_count) VALUES (?, ?, 0, 0)`,
      [memberId, kind],
    );
    // MySQL assigns left to right with the new values visible: window_count before window_start.
    const res = await execute(
      manager,
      `UPDATE mail_quota SET total = total + 1,
         window_count = CASE WHEN window_start IS NULL OR window_start <= ? THEN 1 ELSE window_count + 1 END,
         window_start = CASE WHEN window_start IS NULL OR window_start <= ? THEN ? ELSE window_start END
       WHERE member_id = ? AND kind = ? AND total < ?
         AND (window_start IS NULL OR window_start <= ? OR window_count < ?)`,
      [
        windowOpen,
        windowOpen,
        toDbTime(now),
        memberId,
        kind,
        quota.total ?? 2_000_000_000,
        windowOpen,
        quota.perWindow,
      ],
    );
    return res.affected === 1;
  }

  /**
   * Queues the mail unless one of the kind already waits for the member (true: it will go) or
   * the quota is used up (false: nothing was queued).
   */
  async enqueueWithin(
    manager: EntityManager,
    memberId: number,
    kind: string,
    quota: MailQuota,
  ): Promise<boolean> {
    const waiting = await execute(
      manager,
      'SELECT 1 AS x FROM mail_outbox WHERE member_id = ? AND kind = ?',
      [memberId, kind],
    );
    if (waiting.records.length > 0) return true;
    if (!(await this.takeQuota(manager, memberId, kind, quota))) {
      this.logger.info({ memberId, kind }, 'transactional mail not queued: quota used up');
      return false;
    }
    await this.enqueue(manager, memberId, kind);
    return true;
  }

  /** Erasure and leaving: nothing more is mailed, and the counts go with the member. */
  async forget(manager: EntityManager, member: { id: number }): Promise<void> {
    await execute(manager, 'DELETE FROM mail_outbox WHERE member_id = ?', [member.id]);
    await execute(manager, 'DELETE FROM mail_quota WHERE member_id = ?', [member.id]);
  }

  async enqueue(manager: EntityManager, memberId: number, kind: string): Promise<number> {
    const now = toDbTime(this.clock());
    return insertReturningId(manager, 'mail_outbox', {
      member_id: memberId,
      kind,
      attempts: 0,
      next_attempt_at: now,
      created_at: now,
    });
  }

  /**
   * After commit: try to send now, without making the caller wait for SMTP. Kicks while one runs
   * ask it to look once more when it is done, instead of starting another: concurrent sign-ups
   * do not each scan the queue and fight over the same rows' leases.
   */
  kick(): void {
    if (this.kicked) {
      this.kicked.again = true;
      return;
    }
    const run = { again: false };
    this.kicked = run;
    const work = async () => {
      try {
        for (;;) {
          run.again = false;
          const { full } = await this.sendDue(KICK_BATCH);
          // Decided and cleared in one step: a kick from now on starts a new run.
          if (!run.again && !full) return;
        }
      } finally {
        this.kicked = null;
      }
    };
    const p: Promise<void> = work()
      .catch((err) => this.logger.warn({ err: String(err) }, 'mail queue kick failed'))
      .finally(() => this.inflight.delete(p));
    this.inflight.add(p);
  }

  async drain(): Promise<void> {
    await Promise.all([...this.inflight]);
  }

  /** Sends what is due; returns how many were sent. Rejects when the database is away (the job retries). */
  async processDue(limit = 50): Promise<number> {
    return (await this.sendDue(limit)).sent;
  }

  /** processDue, also saying whether it took as many rows as it could (more may be due). */
  private async sendDue(limit: number): Promise<{ sent: number; full: boolean }> {
    await this.forgetSent();
    const now = this.clock();
    const rows: Array<{ id: number; member_id: number; kind: string; attempts: number }> =
      await this.ds.query(
        `SELECT id, member_id, kind, attempts FROM mail_outbox
       WHERE next_attempt_at <= ? AND (lease_until IS NULL OR lease_until < ?) ORDER BY id LIMIT ${Number(limit)}`,
        [toDbTime(now), toDbTime(now)],
      );
    // A few at a time, as the SMTP pool sends them.
    let sent = 0;
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(SENDS_AT_ONCE, rows.length) }, async () => {
        while (next < rows.length) {
          const row = rows[next++];
          if ((await this.lease(row.id, now)) && (await this.sendOne(row))) sent++;
        }
      }),
    );
    return { sent, full: rows.length === limit };
  }

  /** Rows already sent whose deletion failed (the database went away): deleted before anything else. */
  private async forgetSent(): Promise<void> {
    for (const id of [...this.sentNotDeleted]) {
      await this.ds.query('DELETE FROM mail_outbox WHERE id = ?', [id]);
      this.sentNotDeleted.delete(id);
    }
  }

  private async lease(id: number, now: Date): Promise<boolean> {
    const result = await this.ds
      .createQueryBuilder()
      .update('mail_outbox')
      .set({ lease_until: toDbTime(new Date(now.getTime() + LEASE_MS)) })
      .where('id = :id AND (lease_until IS NULL OR lease_until < :now)', { id, now: toDbTime(now) })
      .execute();
    return (result.affected ?? 0) === 1;
  }

  private async sendOne(row: {
    id: number;
    member_id: number;
    kind: string;
    attempts: number;
  }): Promise<boolean> {
    const composer = this.composers.get(row.kind);
    let mail: OutgoingMail | null;
    try {
      mail = composer ? await composer(Number(row.member_id)) : null;
      if (mail) await this.mailer.send(mail);
    } catch (err) {
      // The database away is no fault of the mail: the row keeps its lease and is tried after it, no attempt counted.
      if (isConnectionError(err)) throw err;
      await this.retryOrGiveUp(row, err);
      return false;
    }
    try {
      await this.ds.query('DELETE FROM mail_outbox WHERE id = ?', [row.id]);
    } catch (err) {
      // Sent but still queued: this process deletes it first next time instead of sending it again.
      if (mail) this.sentNotDeleted.add(row.id);
      throw err;
    }
    if (mail) this.logger.info({ memberId: row.member_id, kind: row.kind }, 'transactional mail sent');
    return !!mail;
  }

  private async retryOrGiveUp(
    row: { id: number; member_id: number; kind: string; attempts: number },
    err: unknown,
  ): Promise<void> {
    const attempts = Number(row.attempts) + 1;
    const permanent = err instanceof MailError && err.kind === 'permanent';
    const message = err instanceof Error ? err.message.slice(0, 500) : 'unknown error';
    if (permanent || attempts >= MAX_ATTEMPTS) {
      this.logger.error(
        { memberId: row.member_id, kind: row.kind, attempts, error: message },
        'transactional mail given up',
      );
      await this.ds.query('DELETE FROM mail_outbox WHERE id = ?', [row.id]);
      return;
    }
    const delayMs = Math.min(30_000 * 2 ** (attempts - 1), 3_600_000);
    await this.ds.query(
      'UPDATE mail_outbox SET attempts = ?, next_attempt_at = ?, lease_until = NULL, last_error = ? WHERE id = ?',
      [attempts, toDbTime(new Date(this.clock().getTime() + delayMs)), message, row.id],
    );
    this.logger.warn(
      { memberId: row.member_id, kind: row.kind, attempts, error: message },
      'transactional mail will be retried',
    );
  }

  async pending(): Promise<
    Array<{ memberId: number; kind: string; attempts: number; nextAttemptAt: Date | null }>
  > {
    const rows = await this.ds.query(
      'SELECT member_id, kind, attempts, next_attempt_at FROM mail_outbox ORDER BY id',
    );
    return rows.map((r: Record<string, unknown>) => ({
      memberId: Number(r.member_id),
      kind: String(r.kind),
      attempts: Number(r.attempts),
      nextAttemptAt: fromDbTime(r.next_attempt_at),
    }));
  }
}
