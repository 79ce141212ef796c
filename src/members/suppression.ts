import crypto from 'node:crypto';
import type { EntityManager } from 'typeorm';
import { toDbTime } from '../db/time';
import { isDuplicateKeyError } from '../db/errors';
import { execute } from '../db/sql';

/**
 * Suppression list: a keyed hash (HMAC-SHA256) of the normalised address of everyone who left
 * or was erased. It lets the club recognise the address without holding it.
 */
export class Suppression {
  constructor(private readonly key: string) {}

  hmac(normalisedEmail: string): string {
    return crypto.createHmac('sha256', this.key).update(normalisedEmail).digest('hex');
  }

  async add(manager: EntityManager, normalisedEmail: string, reason: string, now: Date): Promise<string> {
    const h = this.hmac(normalisedEmail);
    if (!(await this.hasHmac(manager, h))) {
      try {
        await execute(manager, 'INSERT INTO suppressions (email_hmac, reason, created_at) VALUES (?, ?, ?)', [
          h,
          reason,
          toDbTime(now),
        ]);
      } catch (err) {
        if (!isDuplicateKeyError(err)) throw err;
      }
    }
    return h;
  }

  isSuppressed(manager: EntityManager, normalisedEmail: string): Promise<boolean> {
    return this.hasHmac(manager, this.hmac(normalisedEmail));
  }

  private async hasHmac(manager: EntityManager, emailHmac: string): Promise<boolean> {
    const res = await execute(manager, 'SELECT 1 AS x FROM suppressions WHERE email_hmac = ?', [emailHmac]);
    return res.records.length > 0;
  }

  /**
   * Which of these normalised addresses are suppressed, and why (`unsubscribed`, `erased`): one
   * indexed read for a batch of them (an import, CONTRACT §11).
   */
  async reasonsOf(manager: EntityManager, normalisedEmails: string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    if (normalisedEmails.length === 0) return out;
    const byHmac = new Map(normalisedEmails.map((e) => [this.hmac(e), e]));
    const rows: Array<{ email_hmac: string; reason: string }> = await manager.query(
      `SELECT email_hmac, reason FROM suppressions WHERE email_hmac IN (${[...byHmac.keys()].map(() => '?').join(', ')})`,
      [...byHmac.keys()],
    );
    for (const r of rows) {
      const email = byHmac.get(r.email_hmac);
      if (email) out.set(email, String(r.reason));
    }
    return out;
  }

  /** A fresh, confirmed consent lifts the suppression. */
  async lift(manager: EntityManager, normalisedEmail: string): Promise<void> {
    await manager.query('DELETE FROM suppressions WHERE email_hmac = ?', [this.hmac(normalisedEmail)]);
  }
}
