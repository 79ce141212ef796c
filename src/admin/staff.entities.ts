import { EntitySchema } from 'typeorm';
import type { StaffRole } from './roles';

/** A person at Cosmenor who uses the admin web UI. Created by the CLI; never deleted, only disabled. */
export interface StaffUser {
  id: number;
  /** Trimmed and lower-cased. */
  email: string;
  role: StaffRole;
  /** `scrypt$N$r$p$salt$hash` (see passwords.ts). */
  passwordHash: string;
  createdAt: Date;
  disabledAt: Date | null;
}

/** A logged-in browser. `id` is the SHA-256 of the cookie token, so the table alone opens no session. */
export interface StaffSession {
  id: string;
  userId: number;
  /** Synchronizer token: every form and fetch that changes something carries it. */
  csrfToken: string;
  createdAt: Date;
  /** Absolute end (12 h after login), whatever the activity. */
  expiresAt: Date;
  /** For the idle limit (2 h). Written at most once a minute. */
  lastSeenAt: Date;
}

const time = (name: string, nullable = false) => ({
  name,
  type: 'datetime' as const,
  precision: 3,
  nullable,
});

export const StaffUserEntity = new EntitySchema<StaffUser>({
  name: 'StaffUser',
  tableName: 'staff_users',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    email: { type: 'varchar', length: 254 },
    role: { type: 'varchar', length: 20 },
    passwordHash: { name: 'password_hash', type: 'varchar', length: 200 },
    createdAt: time('created_at'),
    disabledAt: time('disabled_at', true),
  },
});

export const StaffSessionEntity = new EntitySchema<StaffSession>({
  name: 'StaffSession',
  tableName: 'staff_sessions',
  columns: {
    id: { type: 'varchar', length: 64, primary: true },
    userId: { name: 'user_id', type: 'integer' },
    csrfToken: { name: 'csrf_token', type: 'varchar', length: 64 },
    createdAt: time('created_at'),
    expiresAt: time('expires_at'),
    lastSeenAt: time('last_seen_at'),
  },
});
