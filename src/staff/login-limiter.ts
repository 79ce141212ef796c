import crypto from 'node:crypto';
import type { Clock } from '../db/time';

export interface LoginLimits {
  windowMs: number;
  /** Failed attempts per account (keyed by a hash of the lower-cased address) per window. */
  perAccount: number;
  /**
   * Failed attempts across all accounts per window before every login is slowed down. A brake
   * on spraying many addresses: it delays, never refuses, so it cannot lock staff out.
   */
  global: number;
  /** The wait at the global brake; it grows with the failures, up to maxGlobalDelayMs. */
  globalDelayMs: number;
  maxGlobalDelayMs: number;
  /** Accounts remembered at once; past this, the ones with the fewest failures are forgotten first. */
  maxAccounts: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = {
  windowMs: 15 * 60 * 1000,
  perAccount: 5,
  global: 100,
  globalDelayMs: 250,
  maxGlobalDelayMs: 2000,
  maxAccounts: 10_000,
};

export type LoginReservation =
  { kind: 'allowed'; delayMs: number } | { kind: 'limited'; retryAfterSeconds: number };

interface Window {
  failures: number;
  resetAt: number;
}

/**
 * Counts failed logins per account and overall in fixed windows, never per IP address (the
 * privacy policy promises visitor IPs are not kept). In memory: one API process per deployment;
 * a restart forgets the counts, which costs an attacker nothing they could not get by waiting.
 *
 * An attempt is counted as a failure when it is reserved, before the password is checked, so
 * parallel guesses cannot all pass the check while the first ones are still hashing.
 */
export class LoginLimiter {
  private readonly accounts = new Map<string, Window>();
  private global: Window = { failures: 0, resetAt: 0 };

  constructor(
    private readonly clock: Clock,
    private readonly limits: LoginLimits = DEFAULT_LOGIN_LIMITS,
  ) {}

  static accountKey(email: string): string {
    return crypto.createHash('sha256').update(email.trim().toLowerCase()).digest('base64url');
  }

  /**
   * Checks and counts one attempt in one synchronous step: "limited" when the account has used
   * up its attempts (nothing is counted then), else "allowed", counted as a failure until
   * recordSuccess or release, with the wait to apply before checking the password.
   */
  reserve(email: string): LoginReservation {
    const now = this.clock().getTime();
    const key = LoginLimiter.accountKey(email);
    let acct = this.accounts.get(key);
    if (acct && acct.resetAt > now && acct.failures >= this.limits.perAccount)
      return { kind: 'limited', retryAfterSeconds: Math.ceil((acct.resetAt - now) / 1000) };
    if (!acct || acct.resetAt <= now) {
      this.makeRoom(now);
      acct = { failures: 0, resetAt: now + this.limits.windowMs };
      this.accounts.set(key, acct);
    }
    acct.failures++;
    if (this.global.resetAt <= now) this.global = { failures: 0, resetAt: now + this.limits.windowMs };
    const delayMs = this.globalDelay(this.global.failures);
    this.global.failures++;
    return { kind: 'allowed', delayMs };
  }

  /** The right password: the account starts afresh, and its reserved attempt was no failure. */
  recordSuccess(email: string): void {
    this.accounts.delete(LoginLimiter.accountKey(email));
    this.uncount(this.global);
  }

  /** Gives back a reserved attempt that was never decided (the check itself failed, e.g. the database). */
  release(email: string): void {
    const acct = this.accounts.get(LoginLimiter.accountKey(email));
    if (acct) this.uncount(acct);
    this.uncount(this.global);
  }

  /** Accounts remembered now. */
  size(): number {
    return this.accounts.size;
  }

  private uncount(w: Window): void {
    if (w.resetAt > this.clock().getTime() && w.failures > 0) w.failures--;
  }

  /** Nothing below the brake; above it a wait growing with the failures, never past the bound. */
  private globalDelay(failures: number): number {
    const { global, globalDelayMs, maxGlobalDelayMs } = this.limits;
    if (failures < global) return 0;
    return Math.min(maxGlobalDelayMs, Math.round((globalDelayMs * failures) / global));
  }

  /**
   * Keeps the map bounded now that made-up addresses are no longer refused as a group. Expired
   * windows go first, then the fewest failures (a spray leaves one per address; oldest first among
   * equals), so a targeted account's count outlives all but a very long spray.
   */
  private makeRoom(now: number): void {
    if (this.accounts.size < this.limits.maxAccounts) return;
    for (const [k, v] of this.accounts) if (v.resetAt <= now) this.accounts.delete(k);
    const keep = Math.floor(this.limits.maxAccounts * 0.9);
    if (this.accounts.size <= keep) return;
    const fewestFirst = [...this.accounts].sort((a, b) => a[1].failures - b[1].failures);
    for (const [k] of fewestFirst.slice(0, this.accounts.size - keep)) this.accounts.delete(k);
  }
}
