import type { DataSource } from 'typeorm';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { StaffSessionEntity, StaffUserEntity } from './staff.entities';
import { StaffUsersService } from './staff-users.service';
import { StaffAuthService } from './staff-auth.service';
import { LoginLimiter } from './login-limiter';
import { AdminStatsService } from './admin-stats.service';

export const adminEntities = [StaffUserEntity, StaffSessionEntity];

/** The admin room's services, built once by the composition root. */
export interface AdminServices {
  users: StaffUsersService;
  auth: StaffAuthService;
  stats: AdminStatsService;
}

export function buildAdminServices(deps: {
  dataSource: DataSource;
  logger: Logger;
  clock: Clock;
}): AdminServices {
  const users = new StaffUsersService(deps);
  const limiter = new LoginLimiter(deps.clock);
  const auth = new StaffAuthService({ ...deps, users, limiter });
  const stats = new AdminStatsService(deps);
  return { users, auth, stats };
}
