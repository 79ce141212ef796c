import type { DataSource, Repository } from 'typeorm';
import { z } from 'zod';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { isDuplicateKeyError } from '../db/errors';
import { AppError, conflict, notFound, unprocessable } from '../errors';
import { emailSchema } from '../members/members.schema';
import { MSG, msg } from '../presentation/messages';
import { hashPassword, MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH } from './passwords';
import { isStaffRole, STAFF_ROLES, type StaffRole } from './roles';
import { StaffSessionEntity } from './staff-session.entity';
import { StaffUserEntity, type StaffUser } from './staff-user.entity';

export interface StaffUserView {
  id: number;
  email: string;
  role: StaffRole;
  createdAt: Date;
  disabledAt: Date | null;
}

const present = (u: StaffUser): StaffUserView => ({
  id: u.id,
  email: u.email,
  role: u.role,
  createdAt: u.createdAt,
  disabledAt: u.disabledAt,
});

/** Staff accounts (created and disabled from the CLI). */
export class StaffUsersService {
  private readonly ds: DataSource;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(deps: { dataSource: DataSource; logger: Logger; clock: Clock }) {
    this.ds = deps.dataSource;
    this.logger = deps.logger;
    this.clock = deps.clock;
  }

  private get repo(): Repository<StaffUser> {
    return this.ds.getRepository(StaffUserEntity);
  }

  static normalizeEmail(email: string): string {
    const parsed = emailSchema.safeParse(email);
    if (!parsed.success)
      throw unprocessable('not a valid e-mail address', [{ path: 'email', message: MSG.email.en }]);
    return parsed.data;
  }

  async create(email: string, role: string, password: string): Promise<StaffUserView> {
    const address = StaffUsersService.normalizeEmail(email);
    if (!isStaffRole(role))
      throw unprocessable(`role must be one of ${STAFF_ROLES.join(', ')}`, [
        { path: 'role', message: MSG.oneOf(STAFF_ROLES).en },
      ]);
    checkPassword(password);
    const user: Omit<StaffUser, 'id'> = {
      email: address,
      role,
      passwordHash: await hashPassword(password),
      createdAt: this.clock(),
      disabledAt: null,
    };
    try {
      const res = await this.repo.insert(user);
      const created = { id: Number(res.identifiers[0].id), ...user };
      this.logger.info({ staffUserId: created.id, role }, 'staff user created');
      return present(created);
    } catch (err) {
      if (isDuplicateKeyError(err)) throw conflict('a staff user with this e-mail address exists');
      throw err;
    }
  }

  async list(): Promise<StaffUserView[]> {
    return (await this.repo.find({ order: { email: 'ASC' } })).map(present);
  }

  /** Disables the account and ends its sessions at once. */
  async disable(email: string): Promise<StaffUserView> {
    const address = StaffUsersService.normalizeEmail(email);
    return this.ds.transaction(async (m) => {
      const u = await m.getRepository(StaffUserEntity).findOneBy({ email: address });
      if (!u) throw notFound('staff user');
      if (!u.disabledAt) {
        u.disabledAt = this.clock();
        await m.getRepository(StaffUserEntity).update({ id: u.id }, { disabledAt: u.disabledAt });
      }
      await m.getRepository(StaffSessionEntity).delete({ userId: u.id });
      this.logger.info({ staffUserId: u.id }, 'staff user disabled');
      return present(u);
    });
  }

  async findByEmail(email: string): Promise<StaffUser | null> {
    const parsed = emailSchema.safeParse(email);
    return parsed.success ? this.repo.findOneBy({ email: parsed.data }) : null;
  }

  async findById(id: number): Promise<StaffUser | null> {
    return this.repo.findOneBy({ id });
  }
}

const passwordSchema = z
  .string(msg(MSG.text))
  .min(MIN_PASSWORD_LENGTH, msg(MSG.minLength(MIN_PASSWORD_LENGTH)))
  .max(MAX_PASSWORD_LENGTH, msg(MSG.maxLength(MAX_PASSWORD_LENGTH)));

export function checkPassword(password: string): void {
  const parsed = passwordSchema.safeParse(password);
  if (!parsed.success) {
    throw new AppError(
      422,
      'validation',
      'Validation failed',
      `the password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`,
      [{ path: 'password', message: parsed.error.issues[0].message }],
    );
  }
}
