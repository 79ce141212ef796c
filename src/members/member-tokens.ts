import type { DataSource, EntityManager } from 'typeorm';
import { execute } from '../db/sql';
import { toDbTime, type Clock } from '../db/time';
import { hashToken, newOpaqueToken } from '../tokens/opaque-tokens';

/** What a single-use member link is for: the confirmation mail, or the 24-hour privacy link. */
export type MemberTokenPurpose = 'confirm' | 'privacy';

/**
 * The `member_tokens` table: single-use links mailed to a member. The link carries a random
 * token, the table only its SHA-256, so a database leak yields no usable link.
 */
export class MemberTokens {
  private readonly ds: DataSource;
  private readonly clock: Clock;

  constructor(deps: { dataSource: DataSource; clock: Clock }) {
    this.ds = deps.dataSource;
    this.clock = deps.clock;
  }

  /** A fresh token for the member, valid for `ttlMs`. Only its hash is stored. */
  async issue(memberId: number, purpose: MemberTokenPurpose, ttlMs: number): Promise<string> {
    const { token, hash } = newOpaqueToken();
    const now = this.clock();
    await execute(
      this.ds,
      'INSERT INTO member_tokens (member_id, purpose, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?)',
      [memberId, purpose, hash, toDbTime(now), toDbTime(new Date(now.getTime() + ttlMs))],
    );
    return token;
  }

  /** The member a usable (unused, unexpired) token belongs to; changes nothing. */
  async find(
    token: string,
    purpose: MemberTokenPurpose,
    manager: EntityManager = this.ds.manager,
  ): Promise<{ id: number; memberId: number } | null> {
    if (typeof token !== 'string' || token.length < 20 || token.length > 200) return null;
    const res = await execute(
      manager,
      'SELECT id, member_id FROM member_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NULL AND expires_at > ?',
      [hashToken(token), purpose, toDbTime(this.clock())],
    );
    const row = res.records[0];
    return row ? { id: Number(row.id), memberId: Number(row.member_id) } : null;
  }

  /** Uses the token up inside the caller's transaction; the member id, or null when it was not usable. */
  async consume(manager: EntityManager, token: string, purpose: MemberTokenPurpose): Promise<number | null> {
    const row = await this.find(token, purpose, manager);
    if (!row) return null;
    const used = await execute(
      manager,
      'UPDATE member_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL',
      [toDbTime(this.clock()), row.id],
    );
    return used.affected === 1 ? row.memberId : null;
  }

  /**
   * The member a token belonged to that is used up but not yet expired: a confirmation link
   * opened again says the membership is already confirmed, not that the link is broken.
   */
  async findSpent(token: string, purpose: MemberTokenPurpose): Promise<number | null> {
    if (typeof token !== 'string' || token.length < 20 || token.length > 200) return null;
    const res = await execute(
      this.ds,
      'SELECT member_id FROM member_tokens WHERE token_hash = ? AND purpose = ? AND used_at IS NOT NULL AND expires_at > ?',
      [hashToken(token), purpose, toDbTime(this.clock())],
    );
    return res.records[0] ? Number(res.records[0].member_id) : null;
  }

  /** Uses up every token of the member for `purpose` (one of them worked; the others must not work again). */
  async spendAll(manager: EntityManager, memberId: number, purpose: MemberTokenPurpose): Promise<void> {
    await execute(
      manager,
      'UPDATE member_tokens SET used_at = ? WHERE member_id = ? AND purpose = ? AND used_at IS NULL',
      [toDbTime(this.clock()), memberId, purpose],
    );
  }

  /** Every token of the member (of one purpose when given) is gone. */
  async revoke(manager: EntityManager, memberId: number, purpose?: MemberTokenPurpose): Promise<void> {
    if (purpose)
      await execute(manager, 'DELETE FROM member_tokens WHERE member_id = ? AND purpose = ?', [
        memberId,
        purpose,
      ]);
    else await execute(manager, 'DELETE FROM member_tokens WHERE member_id = ?', [memberId]);
  }

  /**
   * Retention: expired tokens are deleted, and used ones, except confirmation links, which stay
   * (used) until they expire so that opening one again can say «already confirmed» (findSpent).
   */
  async purgeSpent(now: Date): Promise<number> {
    const res = await execute(
      this.ds,
      "DELETE FROM member_tokens WHERE expires_at <= ? OR (used_at IS NOT NULL AND purpose <> 'confirm')",
      [toDbTime(now)],
    );
    return res.affected;
  }
}
