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

export const StaffUserEntity = new EntitySchema<StaffUser>({
  name: 'StaffUser',
  tableName: 'staff_users',
  columns: {
    id: { type: 'integer', primary: true, generated: 'increment' },
    email: { type: 'varchar', length: 254 },
    role: { type: 'varchar', length: 20 },
    passwordHash: { name: 'password_hash', type: 'varchar', length: 200 },
    createdAt: { name: 'created_at', type: 'datetime', precision: 3 },
    disabledAt: { name: 'disabled_at', type: 'datetime', precision: 3, nullable: true },
  },
});
