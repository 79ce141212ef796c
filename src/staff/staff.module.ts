import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { StaffUserEntity } from './staff-user.entity';
import { StaffSessionEntity } from './staff-session.entity';
import { StaffUsersService } from './staff-users.service';
import { StaffAuthService } from './staff-auth.service';
import { LoginLimiter } from './login-limiter';

/** The tables the staff room owns. */
export const staffEntities = [StaffUserEntity, StaffSessionEntity];

/** Staff accounts and their sessions, built once by the composition root. */
export interface StaffServices {
  users: StaffUsersService;
  auth: StaffAuthService;
}

export function buildStaffServices(deps: {
  dataSource: DataSource;
  logger: Logger;
  clock: Clock;
}): StaffServices {
  const users = new StaffUsersService(deps);
  // In memory, one per process: see login-limiter.ts for why that is enough.
  const limiter = new LoginLimiter(deps.clock);
  const auth = new StaffAuthService({ ...deps, users, limiter });
  return { users, auth };
}
