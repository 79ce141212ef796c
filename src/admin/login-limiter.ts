import crypto from 'node:crypto';
import type { Clock } from '../db/time';

export interface LoginLimits {
  windowMs: number;
  /** Failed attempts per account (keyed by a hash of the lower-cased address) per window. */
  perAccount: number;
  /** Failed attempts across all accounts per window: a brake on spraying many addresses. */
  global: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = { windowMs: 15 * 60 * 1000, perAccount: 5, global: 100 };

/**
 * Counts failed logins per account and overall in fixed windows, never per IP address (the
 * privacy policy promises visitor IPs are not kept). In memory: one API process per deployment;
 * a restart forgets the counts, which costs an attacker nothing they could not get by waiting.
 */
export class LoginLimiter {
  private readonly accounts = new Map<string, { failures: number; resetAt: number }>();
  private global = { failures: 0, resetAt: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  static accountKey(email: string): string {
    return crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
  }

  /** Seconds until the next attempt is allowed, or 0 when it is allowed now. */
  retryAfter(email: string): number {
    const now = this.clock().getTime();
    const acct = this.accounts.get(LoginLimiter.accountKey(email));
    let wait = 0;
    if (acct && acct.resetAt > now && acct.failures >= this.limits.perAccount) wait = acct.resetAt - now;
    if (this.global.resetAt > now && this.global.failures >= this.limits.global)
      wait = Math.max(wait, this.global.resetAt - now);
    return Math.ceil(wait / 1000);
  }

  recordFailure(email: string): void {
    const now = this.clock().getTime();
    if (this.accounts.size > 10_000)
      for (const [k, v] of this.accounts) if (v.resetAt <= now) this.accounts.delete(k);
    const key = LoginLimiter.accountKey(email);
    const acct = this.accounts.get(key);
    if (!acct || acct.resetAt <= now)
      this.accounts.set(key, { failures: 1, resetAt: now + this.limits.windowMs });
    else acct.failures++;
    if (this.global.resetAt <= now) this.global = { failures: 1, resetAt: now + this.limits.windowMs };
    else this.global.failures++;
  }

  recordSuccess(email: string): void {
    this.accounts.delete(LoginLimiter.accountKey(email));
  }
}
