import type { DataSource, EntityManager, Repository } from 'typeorm';
import type { Logger } from '../logger';
import { toDbTime, type Clock } from '../db/time';
import { execute } from '../db/sql';
import { notFound, unprocessable } from '../errors';
import type { MemberDataParticipant, MembersService } from '../members/members.service';
import type { Suppression } from '../members/suppression';
import { addOneMonth } from './add-one-month';
import {
  PrivacyRequestEntity,
  type PrivacyRequest,
  type RequestStatus,
  type RequestType,
} from './privacy-request.entity';
import type { CreateRequestInput, ListRequestsQuery, UpdateRequestInput } from './privacy.schema';
import type { PrivacyService } from './privacy.service';

export interface PrivacyRequestView {
  id: number;
  type: RequestType;
  /** null once the person left or was erased; the request stays as evidence. */
  email: string | null;
  receivedAt: string;
  dueAt: string;
  channel: string;
  note: string | null;
  status: RequestStatus;
  outcome: string | null;
  closedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Open and past its due date. */
  overdue: boolean;
  /** The current member with this address, if there is one. */
  memberId: number | null;
}

/** Accepts a receivedAt a little ahead of our clock (a phone's clock), not a day. */
const FUTURE_SLACK_MS = 10 * 60 * 1000;

/**
 * The request log (CONTRACT §6): data-subject requests that arrive by e-mail, phone or letter,
 * each due one calendar month after receipt (art. 12(3)). It is also a MemberDataParticipant:
 * when a person leaves or is erased, their address leaves the log; `email_hmac` (the
 * suppression HMAC) keeps the link between their requests.
 */
export class PrivacyRequestsService implements MemberDataParticipant {
  readonly name = 'privacyRequests';
  private readonly ds: DataSource;
  private readonly suppression: Suppression;
  private readonly privacy: PrivacyService;
  private readonly members: MembersService;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(deps: {
    dataSource: DataSource;
    suppression: Suppression;
    privacy: PrivacyService;
    members: MembersService;
    logger: Logger;
    clock: Clock;
  }) {
    this.ds = deps.dataSource;
    this.suppression = deps.suppression;
    this.privacy = deps.privacy;
    this.members = deps.members;
    this.logger = deps.logger;
    this.clock = deps.clock;
  }

  private repo(manager?: EntityManager): Repository<PrivacyRequest> {
    return (manager ?? this.ds.manager).getRepository(PrivacyRequestEntity);
  }

  async create(input: CreateRequestInput): Promise<PrivacyRequestView> {
    const now = this.clock();
    const receivedAt = new Date(input.receivedAt);
    if (receivedAt.getTime() > now.getTime() + FUTURE_SLACK_MS) {
      throw unprocessable('receivedAt is in the future', [
        { path: 'receivedAt', message: 'must not be in the future' },
      ]);
    }
    const row: Omit<PrivacyRequest, 'id'> = {
      type: input.type,
      email: input.email,
      emailHmac: this.suppression.hmac(input.email),
      receivedAt,
      dueAt: addOneMonth(receivedAt),
      channel: input.channel,
      note: input.note ?? null,
      status: 'open',
      outcome: null,
      closedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    const res = await this.repo().insert(row);
    const id = Number(res.identifiers[0].id);
    this.logger.info({ requestId: id, type: input.type, channel: input.channel }, 'privacy request recorded');
    return (await this.present([{ id, ...row }]))[0];
  }

  async get(id: number): Promise<PrivacyRequestView> {
    const r = await this.repo().findOneBy({ id });
    if (!r) throw notFound('privacy request');
    return (await this.present([r]))[0];
  }

  /**
   * `open: true` lists open requests by due date, which puts the overdue ones (due before now)
   * first; otherwise every request, newest first.
   */
  async list(q: ListRequestsQuery): Promise<{ items: PrivacyRequestView[] }> {
    const qb = this.repo().createQueryBuilder('r').take(q.limit);
    if (q.open === true)
      qb.where('r.status = :s', { s: 'open' }).orderBy('r.due_at', 'ASC').addOrderBy('r.id', 'ASC');
    else {
      if (q.open === false) qb.where('r.status = :s', { s: 'done' });
      qb.orderBy('r.received_at', 'DESC').addOrderBy('r.id', 'DESC');
    }
    return { items: await this.present(await qb.getMany()) };
  }

  /** Closes (or annotates) a request. `erase: true` on an erasure request erases the member in the same transaction. */
  async update(id: number, patch: UpdateRequestInput): Promise<PrivacyRequestView> {
    const { erasedMemberId } = await this.ds.transaction(async (manager) => {
      const qb = this.repo(manager).createQueryBuilder('r').where('r.id = :id', { id });
      if (this.ds.options.type === 'mysql') qb.setLock('pessimistic_write');
      const r = await qb.getOne();
      if (!r) throw notFound('privacy request');
      if (patch.erase && r.type !== 'erasure') {
        throw unprocessable('only an erasure request can erase', [
          { path: 'erase', message: `this is a "${r.type}" request` },
        ]);
      }
      const now = this.clock();
      let erasedMemberId: number | null = null;
      if (patch.erase && r.email) {
        const member = await this.members.findByEmail(r.email, manager);
        if (member && (await this.privacy.eraseIn(manager, member.id, 'request'))) erasedMemberId = member.id;
      }
      const changes: Partial<PrivacyRequest> = { updatedAt: now };
      if (patch.status === 'done' && r.status !== 'done')
        Object.assign(changes, { status: 'done', closedAt: now });
      if (patch.note !== undefined) changes.note = patch.note;
      if (patch.outcome !== undefined) changes.outcome = patch.outcome;
      else if (patch.erase) changes.outcome = erasedMemberId ? 'erased' : 'no-member';
      await this.repo(manager).update({ id }, changes);
      return { erasedMemberId };
    });
    if (erasedMemberId !== null) await this.privacy.afterErasure(erasedMemberId, 'request');
    this.logger.info(
      { requestId: id, status: patch.status, erased: erasedMemberId !== null },
      'privacy request updated',
    );
    return this.get(id);
  }

  private async present(
    rows: PrivacyRequest[],
    manager: EntityManager = this.ds.manager,
  ): Promise<PrivacyRequestView[]> {
    const now = this.clock().getTime();
    const emails = [...new Set(rows.map((r) => r.email).filter((e): e is string => !!e))];
    const idByEmail = await this.members.idsByEmail(emails, manager);
    return rows.map((r) => ({
      id: r.id,
      type: r.type,
      email: r.email,
      receivedAt: r.receivedAt.toISOString(),
      dueAt: r.dueAt.toISOString(),
      channel: r.channel,
      note: r.note,
      status: r.status,
      outcome: r.outcome,
      closedAt: r.closedAt ? r.closedAt.toISOString() : null,
      createdAt: r.createdAt.toISOString(),
      updatedAt: r.updatedAt.toISOString(),
      overdue: r.status === 'open' && r.dueAt.getTime() < now,
      memberId: (r.email && idByEmail.get(r.email)) || null,
    }));
  }

  // ---- MemberDataParticipant ----

  /**
   * Leaving and erasure both take the address out of the log; the HMAC keeps the requests linked.
   * Erasure also clears the notes, which may describe the person: what stays is type, dates and outcome.
   */
  async forget(
    manager: EntityManager,
    member: { id: number; email: string },
    mode: 'leave' | 'erase',
  ): Promise<void> {
    if (!member.email) return;
    // Raw SQL: this runs in every leave, the one-click unsubscribe's hot path.
    const note = mode === 'erase' ? ', note = NULL' : '';
    const onlyHeld = mode === 'erase' ? '' : ' AND email IS NOT NULL';
    await execute(
      manager,
      `UPDATE privacy_requests SET email = NULL${note}, updated_at = ? WHERE email_hmac = ?${onlyHeld}`,
      [toDbTime(this.clock()), this.suppression.hmac(member.email)],
    );
  }

  /** The person's own requests belong in their export (art. 15). */
  async export(manager: EntityManager, memberId: number): Promise<unknown> {
    const m = await this.members.findMember(memberId, manager);
    if (!m?.email) return [];
    const rows = await this.repo(manager).find({
      where: { emailHmac: this.suppression.hmac(m.email) },
      order: { id: 'ASC' },
    });
    return (await this.present(rows, manager)).map(({ memberId: _m, ...rest }) => rest);
  }
}
