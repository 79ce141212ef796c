import { EntitySchema } from 'typeorm';

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

export const StaffSessionEntity = new EntitySchema<StaffSession>({
  name: 'StaffSession',
  tableName: 'staff_sessions',
  columns: {
    id: { type: 'varchar', length: 64, primary: true },
    userId: { name: 'user_id', type: 'integer' },
    csrfToken: { name: 'csrf_token', type: 'varchar', length: 64 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    expiresAt: { name: 'expires_at', type: 'datetime', precision: 3 },
    lastSeenAt: { name: 'last_seen_at', type: 'datetime', precision: 3 },
  },
});
