import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { LessThan, type DataSource, type Repository } from 'typeorm';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { dummyHash, MAX_PASSWORD_LENGTH, verifyPassword } from './passwords';
import { LoginLimiter } from './login-limiter';
import { StaffSessionEntity, type StaffSession } from './staff-session.entity';
import type { StaffUser } from './staff-user.entity';
import type { StaffUsersService } from './staff-users.service';

export const SESSION_IDLE_MS = 2 * 3600 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 3600 * 1000;
/** last_seen_at is written at most this often: one write a minute per active user, not per request. */
const TOUCH_EVERY_MS = 60 * 1000;

export type LoginOutcome =
  | { kind: 'ok'; user: StaffUser; token: string; session: StaffSession }
  | { kind: 'invalid' }
  /** An address or password missing: no attempt was made, nothing counted. */
  | { kind: 'incomplete' }
  | { kind: 'limited'; retryAfterSeconds: number };

export interface ResolvedSession {
  user: StaffUser;
  session: StaffSession;
}

const sha256 = (s: string) => crypto.createHash('sha256').update(s).digest('hex');

/** Login, sessions with idle and absolute expiry, logout. */
export class StaffAuthService {
  private readonly ds: DataSource;
  private readonly users: StaffUsersService;
  private readonly limiter: LoginLimiter;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(deps: {
    dataSource: DataSource;
    users: StaffUsersService;
    limiter: LoginLimiter;
    logger: Logger;
    clock: Clock;
  }) {
    this.ds = deps.dataSource;
    this.users = deps.users;
    this.limiter = deps.limiter;
    this.logger = deps.logger;
    this.clock = deps.clock;
  }

  private get sessions(): Repository<StaffSession> {
    return this.ds.getRepository(StaffSessionEntity);
  }

  /**
   * A locked account answers "limited" before the password is checked, so guessing stops there.
   * The attempt is reserved (counted as a failure) before the check, so parallel guesses stop at
   * the limit too. Many failures overall only slow logins down: a right password is never refused
   * for other accounts' failures. An unknown address costs the same scrypt work as a known one.
   * A missing address or password is no attempt: `incomplete`, nothing counted.
   */
  async login(email: string, password: string): Promise<LoginOutcome> {
    if (email.trim() === '' || password === '') return { kind: 'incomplete' };
    const attempt = this.limiter.reserve(email);
    if (attempt.kind === 'limited') {
      this.logger.warn({ retryAfterSeconds: attempt.retryAfterSeconds }, 'staff login limited');
      return { kind: 'limited', retryAfterSeconds: attempt.retryAfterSeconds };
    }
    let user: StaffUser | null;
    let ok: boolean;
    try {
      if (attempt.delayMs > 0) {
        this.logger.warn({ delayMs: attempt.delayMs }, 'staff login slowed: many failed logins');
        await sleep(attempt.delayMs);
      }
      user = await this.users.findByEmail(email);
      const candidate = password.length <= MAX_PASSWORD_LENGTH ? password : '';
      ok =
        (await verifyPassword(candidate, user?.passwordHash ?? (await dummyHash()))) &&
        !!user &&
        !user.disabledAt &&
        candidate !== '';
    } catch (err) {
      // Undecided (e.g. the database is down): not the staff member's failure.
      this.limiter.release(email);
      throw err;
    }
    if (!ok || !user) {
      this.logger.info({ staffUserId: user?.id ?? null }, 'staff login failed');
      return { kind: 'invalid' };
    }
    this.limiter.recordSuccess(email);
    const token = crypto.randomBytes(32).toString('base64url');
    const now = this.clock();
    const session: StaffSession = {
      id: sha256(token),
      userId: user.id,
      csrfToken: crypto.randomBytes(32).toString('base64url'),
      createdAt: now,
      expiresAt: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
      lastSeenAt: now,
    };
    await this.sessions.insert(session);
    await this.purgeExpired();
    this.logger.info({ staffUserId: user.id }, 'staff login');
    return { kind: 'ok', user, token, session };
  }

  /** The session behind a cookie token, or null (an expired one is deleted on the way). */
  async resolve(token: string): Promise<ResolvedSession | null> {
    if (!/^[A-Za-z0-9_-]{20,100}$/.test(token)) return null;
    const session = await this.sessions.findOneBy({ id: sha256(token) });
    if (!session) return null;
    const now = this.clock().getTime();
    if (session.expiresAt.getTime() <= now || session.lastSeenAt.getTime() + SESSION_IDLE_MS <= now) {
      await this.sessions.delete({ id: session.id });
      return null;
    }
    const user = await this.users.findById(session.userId);
    if (!user || user.disabledAt) {
      await this.sessions.delete({ id: session.id });
      return null;
    }
    if (now - session.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
      session.lastSeenAt = new Date(now);
      await this.sessions.update({ id: session.id }, { lastSeenAt: session.lastSeenAt });
    }
    return { user, session };
  }

  async logout(session: StaffSession): Promise<void> {
    await this.sessions.delete({ id: session.id });
    this.logger.info({ staffUserId: session.userId }, 'staff logout');
  }

  /** Sessions past either limit; cheap, so it runs at every login and in the daily retention run. */
  async purgeExpired(now: Date = this.clock()): Promise<number> {
    const absolute = await this.sessions.delete({ expiresAt: LessThan(now) });
    const idle = await this.sessions.delete({
      lastSeenAt: LessThan(new Date(now.getTime() - SESSION_IDLE_MS)),
    });
    return (absolute.affected ?? 0) + (idle.affected ?? 0);
  }
}
