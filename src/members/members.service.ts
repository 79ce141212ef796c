import { In, type DataSource, type EntityManager, type Repository } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { fromDbTime, toDbTime, type Clock } from '../db/time';
import { execute, insertReturningId, placeholders } from '../db/sql';
import { pageById } from '../db/pagination';
import { isDuplicateKeyError, isLockConflict } from '../db/errors';
import { AppError, conflict, notFound, unprocessable } from '../errors';
import type { MailQuota, MailQueue } from '../mail-queue/mail-queue.service';
import type { OutgoingMail } from '../mail/mailer';
import { memberMailTag } from '../mail/verp';
import type { MemberTokens } from './member-tokens';
import { audienceFilter, type Audience } from './audience';
import { searchTokens } from '../db/search-tokens';
import { searchMemberIds } from './member-search';
import { fillTemplate, readTemplate } from '../templates';
import { MemberEntity, type Member, type MemberStatus, type Source } from './member.entity';
import { ConsentEventEntity, type ConsentEvent, type ConsentEventType } from './consent-event.entity';
import type { ConsentTexts } from './consent-texts';
import type { Suppression } from './suppression';
import type { EventLog, EventType } from '../events/event-log';
import type {
  LeaveChannel,
  ListQuery,
  MemberSearchQuery,
  MemberView,
  RectifyInput,
  SignUpInput,
} from './members.schema';

export type { MemberView };

/** What leaving or erasure means to another room (deliveries, tokens, request log), done in the same transaction. */
export interface MemberDataParticipant {
  /** Remove or unlink this member's data. `email` is the normalised address, for rooms that hold it. */
  forget(
    manager: EntityManager,
    member: { id: number; email: string },
    mode: 'leave' | 'erase',
  ): Promise<void>;
  /** After commit: wait for anything in flight to this member (a send already handed to SMTP). */
  settle?(memberId: number): Promise<void>;
  /** This room's part of the member's data export (art. 15/20), keyed by `name`. */
  name?: string;
  export?(manager: EntityManager, memberId: number): Promise<unknown>;
}

export interface ConsentEventView {
  type: ConsentEventType;
  occurredAt: string;
  source: string | null;
  sourceVersion: string | null;
  textVersion: string | null;
  textSha256: string | null;
  channel: string | null;
  givenAt: string | null;
  /** The status code of a `bounced` event. */
  code: string | null;
  /** An `imported` event's evidence: the file's SHA-256 and its row (CONTRACT §11). */
  fileSha256: string | null;
  fileRow: number | null;
}

/** What the delivery worker reads of a member right before handoff. */
export interface RecipientRow {
  memberId: number;
  email: string | null;
  firstName: string | null;
  status: string;
  /** For the audience check at handoff (inAudience). */
  source: string;
  partnerId: string | null;
}

export type ConfirmOutcome = 'confirmed' | 'already-active' | 'invalid';

const CONFIRM_TTL_MS = 72 * 3600 * 1000;
/**
 * Anyone with an app token can sign any address up, again and again: the address gets at most one
 * confirmation mail a day and three in all. Later sign-ups answer as usual and mail nothing.
 */
export const CONFIRMATION_QUOTA: MailQuota = { windowMs: 24 * 3600 * 1000, perWindow: 1, total: 3 };
/** Confirming a new address after rectification: a typo fixed twice in a day still gets its mail. */
export const ADDRESS_CONFIRMATION_QUOTA: MailQuota = { windowMs: 24 * 3600 * 1000, perWindow: 3, total: 10 };
const iso = (d: Date | null) => (d ? d.toISOString() : null);

// Raw SQL: every bounce report locks, updates and logs (#16); TypeORM's overhead there outweighed the I/O.
const MEMBER_COLUMN_OF: Record<keyof Member, string> = {
  id: 'id',
  email: 'email',
  firstName: 'first_name',
  lastName: 'last_name',
  phone: 'phone',
  source: 'source',
  sourceVersion: 'source_version',
  externalId: 'external_id',
  partnerId: 'partner_id',
  status: 'status',
  statusBeforeRestriction: 'status_before_restriction',
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  confirmedAt: 'confirmed_at',
  leftAt: 'left_at',
};
const MEMBER_COLUMNS = Object.values(MEMBER_COLUMN_OF).join(', ');

type ConsentEventFields = Partial<Omit<ConsentEvent, 'id' | 'memberId' | 'type' | 'occurredAt'>>;

const toDbValue = (v: unknown) => (v instanceof Date ? toDbTime(v) : (v ?? null));
const stringOrNull = (v: unknown) => (v === null || v === undefined ? null : String(v));

/** A `members` row read by raw SQL, as TypeORM hydrates it. */
function memberOfRow(r: Record<string, unknown>): Member {
  return {
    id: Number(r.id),
    email: stringOrNull(r.email),
    firstName: stringOrNull(r.first_name),
    lastName: stringOrNull(r.last_name),
    phone: stringOrNull(r.phone),
    source: String(r.source) as Source,
    sourceVersion: stringOrNull(r.source_version),
    externalId: stringOrNull(r.external_id),
    partnerId: stringOrNull(r.partner_id),
    status: String(r.status) as MemberStatus,
    statusBeforeRestriction: stringOrNull(r.status_before_restriction) as MemberStatus | null,
    createdAt: fromDbTime(r.created_at)!,
    updatedAt: fromDbTime(r.updated_at)!,
    confirmedAt: fromDbTime(r.confirmed_at),
    leftAt: fromDbTime(r.left_at),
  };
}

/** One row of a CSV import, checked by the imports room; the address normalised as a sign-up's. */
export interface ImportMemberRow {
  /** The row's number in the file (the header is row 1). */
  row: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
  phone: string | null;
  partnerId: string | null;
  externalId: string | null;
  /** Consent evidence (a known text version, a time in the past), or null: the member is then `pending`. */
  consent: { textVersion: string; givenAt: Date } | null;
}

/** What an import does with a row: a new member (`created` active, `pending`), or why it keeps out. */
export type ImportOutcome =
  'created' | 'pending' | 'unchanged' | 'suppressed' | 'unsubscribed' | 'restricted' | 'bounced';
/** Rows per statement of an import's batch (IN lists and multi-row INSERTs). */
const IMPORT_ROWS_PER_STATEMENT = 500;
/** A batch's search tokens in few statements (a round trip each on MariaDB): 8,000 parameters. */
const IMPORT_TOKENS_PER_STATEMENT = 4000;

export function presentMember(m: Member): MemberView {
  return {
    id: m.id,
    email: m.email,
    firstName: m.firstName,
    lastName: m.lastName,
    phone: m.phone,
    source: m.source,
    sourceVersion: m.sourceVersion,
    externalId: m.externalId,
    partnerId: m.partnerId,
    status: m.status,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
    confirmedAt: iso(m.confirmedAt),
    leftAt: iso(m.leftAt),
  };
}

export function presentConsentEvent(e: ConsentEvent): ConsentEventView {
  return {
    type: e.type,
    occurredAt: e.occurredAt.toISOString(),
    source: e.source,
    sourceVersion: e.sourceVersion,
    textVersion: e.textVersion,
    textSha256: e.textSha256,
    channel: e.channel,
    givenAt: iso(e.givenAt),
    code: e.code,
    fileSha256: e.fileSha256 ?? null,
    fileRow: e.fileRow ?? null,
  };
}

/** The club: sign-up with consent, double opt-in, rectification, leaving. */
export class MembersService {
  private readonly ds: DataSource;
  private readonly config: Config;
  private readonly consentTexts: ConsentTexts;
  private readonly mailQueue: MailQueue;
  private readonly suppression: Suppression;
  private readonly memberTokens: MemberTokens;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly participants: MemberDataParticipant[] = [];
  private readonly events: EventLog;

  constructor(deps: {
    dataSource: DataSource;
    config: Config;
    consentTexts: ConsentTexts;
    mailQueue: MailQueue;
    suppression: Suppression;
    memberTokens: MemberTokens;
    logger: Logger;
    clock: Clock;
    events: EventLog;
  }) {
    this.events = deps.events;
    this.ds = deps.dataSource;
    this.config = deps.config;
    this.consentTexts = deps.consentTexts;
    this.mailQueue = deps.mailQueue;
    this.suppression = deps.suppression;
    this.memberTokens = deps.memberTokens;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.mailQueue.register('confirmation', (memberId) => this.composeConfirmation(memberId));
    this.mailQueue.register('address-confirmation', (memberId) => this.composeConfirmation(memberId));
  }

  addParticipant(p: MemberDataParticipant): void {
    this.participants.push(p);
  }

  private repo(manager?: EntityManager): Repository<Member> {
    return (manager ?? this.ds.manager).getRepository(MemberEntity);
  }

  async signUp(input: SignUpInput): Promise<{ member: MemberView; created: boolean }> {
    const text = this.consentTexts.get(input.consent.textVersion);
    if (!text) {
      throw unprocessable(`unknown consent text version "${input.consent.textVersion}"`, [
        { path: 'consent.textVersion', message: `must be one of ${this.consentTexts.versions().join(', ')}` },
      ]);
    }
    // Two identical sign-ups racing: the unique index lets one insert win; the other retries as "existing".
    for (let attempt = 0; ; attempt++) {
      try {
        const result = await this.ds.transaction((manager) => this.signUpIn(manager, input, text));
        if (result.queuedMail) this.mailQueue.kick();
        this.logger.info(
          { memberId: result.member.id, created: result.created, source: input.source },
          'sign-up',
        );
        return { member: presentMember(result.member), created: result.created };
      } catch (err) {
        if (attempt < 3 && (isDuplicateKeyError(err) || isLockConflict(err))) continue;
        throw err;
      }
    }
  }

  private async signUpIn(
    manager: EntityManager,
    input: SignUpInput,
    text: { version: string; sha256: string },
  ): Promise<{ member: Member; created: boolean; queuedMail: boolean }> {
    const now = this.clock();
    const existing = await this.readMemberByEmail(manager, input.email);
    const consent = {
      source: input.source,
      sourceVersion: input.sourceVersion ?? null,
      textVersion: text.version,
      textSha256: text.sha256,
      givenAt: input.consent.givenAt ? new Date(input.consent.givenAt) : now,
    };
    if (existing) {
      // The same person again: no duplicate; the new consent is recorded. A restricted member stays restricted.
      await this.appendEvent(manager, existing.id, 'signup', consent);
      const queuedMail =
        existing.status === 'pending' && (await this.requestConfirmation(manager, existing.id));
      return { member: existing, created: false, queuedMail };
    }
    // An address that left or was erased starts over with fresh consent, always through double opt-in.
    const suppressed = await this.suppression.isSuppressed(manager, input.email);
    const needsConfirmation = this.config.doubleOptIn || suppressed;
    const member: Member = {
      id: 0,
      email: input.email,
      firstName: input.firstName ?? null,
      lastName: input.lastName ?? null,
      phone: input.phone ?? null,
      source: input.source,
      sourceVersion: input.sourceVersion ?? null,
      externalId: input.externalId ?? null,
      partnerId: input.partnerId ?? null,
      status: needsConfirmation ? 'pending' : 'active',
      statusBeforeRestriction: null,
      createdAt: now,
      updatedAt: now,
      confirmedAt: needsConfirmation ? null : now,
      leftAt: null,
    };
    member.id = await this.insertMember(manager, member);
    await this.indexNewForSearch(manager, [member]);
    await this.appendEvent(manager, member.id, 'signup', consent);
    const queuedMail = needsConfirmation && (await this.requestConfirmation(manager, member.id));
    await this.emit(manager, 'member.created', member);
    return { member, created: true, queuedMail };
  }

  /**
   * Queues the confirmation mail of a `pending` member in the caller's transaction, within the
   * per-member quota (sign-ups and imports alike). True when a mail will go; kick the queue after commit.
   */
  private requestConfirmation(manager: EntityManager, memberId: number): Promise<boolean> {
    return this.mailQueue.enqueueWithin(manager, memberId, 'confirmation', CONFIRMATION_QUOTA);
  }

  private appendEvent(
    manager: EntityManager,
    memberId: number | null,
    type: ConsentEventType,
    fields: ConsentEventFields = {},
  ): Promise<void> {
    return this.appendEvents(manager, [{ memberId, type, fields }]);
  }

  /** Consent events in one multi-row INSERT (every field of ConsentEventFields written), occurred `at`. */
  private async appendEvents(
    manager: EntityManager,
    events: Array<{ memberId: number | null; type: ConsentEventType; fields?: ConsentEventFields }>,
    at: string = toDbTime(this.clock()),
  ): Promise<void> {
    await execute(
      manager,
      `INSERT INTO consent_events (member_id, type, occurred_at, source, source_version, text_version,
         text_sha256, channel, given_at, code, file_sha256, file_row)
       VALUES ${events.map(() => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      events.flatMap(({ memberId, type, fields = {} }) => [
        memberId,
        type,
        at,
        fields.source ?? null,
        fields.sourceVersion ?? null,
        fields.textVersion ?? null,
        fields.textSha256 ?? null,
        fields.channel ?? null,
        toDbValue(fields.givenAt),
        fields.code ?? null,
        fields.fileSha256 ?? null,
        fields.fileRow ?? null,
      ]),
    );
  }

  /**
   * The app-facing event of a change (CONTRACT §10), in the change's transaction: ids and status,
   * never an address or a name. Call it last: it holds the event sequence's row lock until commit.
   */
  private async emit(
    manager: EntityManager,
    type: EventType,
    m: Pick<Member, 'id' | 'externalId' | 'source'> & { status: string },
    channel?: string | null,
  ): Promise<void> {
    await this.events.append(manager, type, {
      memberId: m.id,
      externalId: m.externalId,
      source: m.source,
      status: m.status,
      channel: channel ?? null,
    });
  }

  /** Public for other rooms (privacy) that record events in their own transaction. */
  recordEvent(
    manager: EntityManager,
    memberId: number | null,
    type: ConsentEventType,
    channel?: string,
  ): Promise<void> {
    return this.appendEvent(manager, memberId, type, { channel: channel ?? null });
  }

  async findMember(id: number, manager?: EntityManager): Promise<Member | null> {
    return (await this.readMembers(manager ?? this.ds, [id], false)).get(id) ?? null;
  }

  async get(id: number): Promise<MemberView> {
    const m = await this.findMember(id);
    if (!m) throw notFound('member');
    return presentMember(m);
  }

  async consentHistory(memberId: number, manager?: EntityManager): Promise<ConsentEventView[]> {
    const rows = await (manager ?? this.ds.manager)
      .getRepository(ConsentEventEntity)
      .find({ where: { memberId }, order: { id: 'ASC' } });
    return rows.map(presentConsentEvent);
  }

  async list(q: ListQuery): Promise<{ items: MemberView[]; nextCursor: string | null }> {
    const qb = this.repo().createQueryBuilder('m');
    if (q.status) qb.andWhere('m.status = :status', { status: q.status });
    if (q.source) qb.andWhere('m.source = :source', { source: q.source });
    if (q.partnerId) qb.andWhere('m.partner_id = :partnerId', { partnerId: q.partnerId });
    if (q.email) qb.andWhere('m.email = :email', { email: q.email });
    const page = await pageById(qb, q, 'ASC');
    return { items: page.items.map(presentMember), nextCursor: page.nextCursor };
  }

  /**
   * The admin's search: the list's filters and words that must each start a word of the member's
   * names or address («odeg» finds Ødegård, «nordm» finds kari.nordmann@…), by id, with the hits
   * counted (up to SEARCH_COUNT_CAP where counting would cost; null when nothing narrows the list).
   * How, on a million members: member-search.ts.
   */
  async search(
    q: MemberSearchQuery,
  ): Promise<{ items: MemberView[]; nextCursor: string | null; total: number | null }> {
    const { ids, total } = await searchMemberIds(
      async (sql, params) => (await execute(this.ds, sql, params)).records,
      q,
    );
    const shown = ids.slice(0, q.limit);
    const rows = shown.length ? await this.repo().findBy({ id: In(shown) }) : [];
    const byId = new Map(rows.map((m) => [m.id, m]));
    return {
      items: shown.flatMap((i) => (byId.has(i) ? [presentMember(byId.get(i)!)] : [])),
      nextCursor: ids.length > q.limit ? String(shown[shown.length - 1]) : null,
      total,
    };
  }

  /**
   * Brings the member's search tokens in line with the profile, in the caller's transaction, which
   * holds the member's row lock (lockMember): every change of a name or the address calls it, and a
   * member without an address (left, erased) keeps none. A new member's tokens are only inserted
   * (indexNewForSearch). The tokens are personal data, derived only from the profile, so they go
   * with it, and the export's profile already holds what they say.
   *
   * Only the tokens that changed are written, each deleted by its whole key: on InnoDB that locks
   * just those rows, where `DELETE … WHERE member_id = ?` would lock the gap new members' tokens
   * go into and deadlock sign-ups running at the same time.
   */
  async indexForSearch(
    manager: EntityManager,
    m: Pick<Member, 'id' | 'email'> & Partial<Pick<Member, 'firstName' | 'lastName'>>,
  ): Promise<void> {
    const had = new Set(
      (
        await execute(manager, 'SELECT token FROM member_search_tokens WHERE member_id = ?', [m.id])
      ).records.map((r) => String(r.token)),
    );
    const want = new Set(m.email ? searchTokens(m) : []);
    for (const token of had)
      if (!want.has(token))
        await execute(manager, 'DELETE FROM member_search_tokens WHERE token = ? AND member_id = ?', [
          token,
          m.id,
        ]);
    const added = [...want].filter((token) => !had.has(token));
    if (added.length > 0)
      await execute(
        manager,
        `INSERT INTO member_search_tokens (token, member_id) VALUES ${added.map(() => '(?, ?)').join(', ')}`,
        added.flatMap((token) => [token, m.id]),
      );
  }

  /**
   * Rectification (art. 16): names, phone, partner, and the address. A new address makes the
   * member `pending` until the confirmation mail sent to it is used (this is how a `bounced`
   * member is corrected); the old address is forgotten, and links mailed to it stop working.
   */
  async rectify(id: number, patch: RectifyInput): Promise<MemberView> {
    let view: MemberView;
    let queuedMail: boolean;
    try {
      ({ view, queuedMail } = await this.ds.transaction(async (manager) => {
        const m = await this.lockMember(manager, id);
        if (!m) throw notFound('member');
        if (!m.email)
          throw new AppError(409, 'conflict', 'Conflict', 'the member has left; nothing is held to rectify');
        const changes: Partial<Member> = { updatedAt: this.clock() };
        if (patch.firstName !== undefined) changes.firstName = patch.firstName;
        if (patch.lastName !== undefined) changes.lastName = patch.lastName;
        if (patch.phone !== undefined) changes.phone = patch.phone;
        if (patch.partnerId !== undefined) changes.partnerId = patch.partnerId;
        const newEmail = patch.email !== undefined && patch.email !== m.email ? patch.email : null;
        if (newEmail) {
          // Art. 18 holds the data as it is until the restriction is lifted.
          if (m.status === 'restricted')
            throw conflict('the member is restricted; lift the restriction before changing the address');
          if (await this.readMemberByEmail(manager, newEmail))
            throw conflict('the address belongs to another member');
          changes.email = newEmail;
          changes.status = 'pending';
          await this.memberTokens.revoke(manager, id);
        }
        await this.updateMember(manager, id, changes);
        await this.indexForSearch(manager, { ...m, ...changes });
        await this.appendEvent(manager, id, 'rectification');
        const queued =
          !!newEmail &&
          (await this.mailQueue.enqueueWithin(
            manager,
            id,
            'address-confirmation',
            ADDRESS_CONFIRMATION_QUOTA,
          ));
        await this.emit(manager, 'member.updated', { ...m, ...changes });
        return { view: presentMember({ ...m, ...changes }), queuedMail: queued };
      }));
    } catch (err) {
      // Two rectifications racing for one address: the unique index lets one win.
      if (isDuplicateKeyError(err)) throw conflict('the address belongs to another member');
      throw err;
    }
    if (queuedMail) this.mailQueue.kick();
    this.logger.info({ memberId: id, fields: Object.keys(patch) }, 'member rectified');
    return view;
  }

  /**
   * The address is dead (CONTRACT §9): an active or pending member becomes `bounced`, never mailed
   * until the address is corrected; a restricted one returns to `bounced` when the restriction is
   * lifted. Recorded as a `bounced` event with the status code only. True when it changed anything.
   * `m` is the member as read under its row lock (lockMember) in this transaction.
   */
  async markBounced(manager: EntityManager, m: Member, code: string | null): Promise<boolean> {
    return (await this.markBouncedMany(manager, [{ member: m, code }]))[0];
  }

  /**
   * `markBounced` for several different members at once (bounce reports arriving together), in
   * one statement per table however many there are. Each `member` was read under its row lock
   * (lockMembers) in this transaction. One answer per item, in order.
   */
  async markBouncedMany(
    manager: EntityManager,
    items: Array<{ member: Member; code: string | null }>,
  ): Promise<boolean[]> {
    const change = items.map(({ member: m }) =>
      !m.email
        ? null
        : m.status === 'active' || m.status === 'pending'
          ? ('status' as const)
          : m.status === 'restricted' && m.statusBeforeRestriction !== 'bounced'
            ? ('statusBeforeRestriction' as const)
            : null,
    );
    const now = this.clock();
    for (const field of ['status', 'statusBeforeRestriction'] as const) {
      const ids = items.filter((_, i) => change[i] === field).map((x) => x.member.id);
      if (ids.length === 0) continue;
      await execute(
        manager,
        `UPDATE members SET ${MEMBER_COLUMN_OF[field]} = 'bounced', updated_at = ? WHERE id IN (${placeholders(ids.length)})`,
        [toDbTime(now), ...ids],
      );
    }
    const changed = items.filter((_, i) => change[i] !== null);
    if (changed.length > 0) {
      await this.appendEvents(
        manager,
        changed.map(({ member, code }) => ({ memberId: member.id, type: 'bounced', fields: { code } })),
      );
      // Last: the events hold the event sequence's row lock until commit.
      await this.events.appendMany(
        manager,
        changed.map(({ member: m }) => ({
          type: 'member.bounced' as const,
          data: {
            memberId: m.id,
            externalId: m.externalId,
            source: m.source,
            status: m.status === 'restricted' ? m.status : 'bounced',
            channel: null,
          },
        })),
      );
      for (const { member, code } of changed)
        this.logger.info({ memberId: member.id, code }, 'member bounced');
    }
    return change.map((c) => c !== null);
  }

  /**
   * Leaving the club, by the one-click link or through an app or staff: processing ends at once.
   * Status becomes `unsubscribed`, queued mail is cancelled, the profile is erased and only the
   * suppression HMAC and an anonymous row remain. Idempotent.
   */
  async leave(id: number, channel: LeaveChannel): Promise<{ changed: boolean }> {
    const changed = await this.ds.transaction((manager) => this.leaveIn(manager, id, channel));
    if (changed) {
      await this.settle(id);
      this.logger.info({ memberId: id, channel }, 'member left');
    }
    return { changed };
  }

  /** Leaving inside the caller's transaction (a complaint, CONTRACT §9); the caller settles after commit. */
  async leaveIn(manager: EntityManager, id: number, channel: LeaveChannel): Promise<boolean> {
    const m = await this.lockMember(manager, id);
    if (!m || !m.email) return false;
    const now = this.clock();
    await this.suppression.add(manager, m.email, 'unsubscribed', now);
    for (const p of this.participants) await p.forget(manager, { id, email: m.email }, 'leave');
    await this.memberTokens.revoke(manager, id);
    await this.indexForSearch(manager, { id, email: null });
    await this.updateMember(manager, id, {
      email: null,
      firstName: null,
      lastName: null,
      phone: null,
      externalId: null,
      partnerId: null,
      sourceVersion: null,
      status: 'unsubscribed',
      statusBeforeRestriction: null,
      updatedAt: now,
      leftAt: now,
    });
    await this.appendEvent(manager, id, 'withdrawal', { channel });
    // Leaving erases the profile, externalId included, from the events too: apps know the member by its id.
    await this.events.forgetExternalId(manager, id);
    await this.emit(
      manager,
      'member.unsubscribed',
      { ...m, externalId: null, status: 'unsubscribed' },
      channel,
    );
    return true;
  }

  /** Lets every room finish what it had in flight for this member before the caller answers. */
  async settle(id: number): Promise<void> {
    for (const p of this.participants) if (p.settle) await p.settle(id);
  }

  /**
   * Art. 18 on the members table: restricting keeps the status held before, lifting returns it.
   * Recorded as a consent event; `changed` is false when it already was so.
   */
  async restrict(
    manager: EntityManager,
    id: number,
    restricted: boolean,
  ): Promise<{ member: Member; changed: boolean }> {
    const m = await this.lockMember(manager, id);
    if (!m) throw notFound('member');
    if (!m.email) throw conflict('the member has left; nothing is processed to restrict');
    const now = this.clock();
    let changes: Partial<Member> | null = null;
    if (restricted && m.status !== 'restricted')
      changes = { status: 'restricted', statusBeforeRestriction: m.status, updatedAt: now };
    else if (!restricted && m.status === 'restricted')
      changes = {
        status: m.statusBeforeRestriction ?? 'active',
        statusBeforeRestriction: null,
        updatedAt: now,
      };
    if (!changes) return { member: m, changed: false };
    await this.updateMember(manager, id, changes);
    await this.appendEvent(manager, id, restricted ? 'restriction' : 'restriction-lifted', {
      channel: 'staff',
    });
    await this.emit(manager, restricted ? 'member.restricted' : 'member.unrestricted', { ...m, ...changes });
    return { member: { ...m, ...changes }, changed: true };
  }

  /**
   * The members room's part of an erasure, after every participant forgot the member: the
   * consent history stays as anonymous evidence, links and the member row go.
   */
  async deleteMember(manager: EntityManager, id: number, channel?: string): Promise<void> {
    const m = await this.lockMember(manager, id);
    await execute(manager, 'UPDATE consent_events SET member_id = NULL WHERE member_id = ?', [id]);
    await this.memberTokens.revoke(manager, id);
    await this.indexForSearch(manager, { id, email: null });
    await this.repo(manager).delete({ id });
    if (m) {
      await this.events.forgetExternalId(manager, id);
      await this.emit(manager, 'member.erased', { ...m, externalId: null, status: 'erased' }, channel);
    }
  }

  async findByEmail(email: string, manager?: EntityManager): Promise<Member | null> {
    return this.readMemberByEmail(manager ?? this.ds, email);
  }

  /** Member ids by normalised address, for the addresses that are members. */
  async idsByEmail(emails: string[], manager?: EntityManager): Promise<Map<string, number>> {
    if (emails.length === 0) return new Map();
    const rows = await this.repo(manager).find({
      where: { email: In(emails) },
      select: { id: true, email: true },
    });
    return new Map(rows.map((m) => [m.email!, m.id]));
  }

  /** Sign-ups still `pending` that were created before `cutoff`, oldest first (retention). */
  async stalePendingIds(cutoff: Date, limit: number): Promise<number[]> {
    const res = await execute(
      this.ds,
      `SELECT id FROM members WHERE status = 'pending' AND created_at < ? ORDER BY id LIMIT ${Math.floor(limit)}`,
      [toDbTime(cutoff)],
    );
    return res.records.map((r) => Number(r.id));
  }

  /** Re-checked under the row lock: a confirmation may have won the race. */
  async isStalePending(manager: EntityManager, id: number, cutoff: Date): Promise<boolean> {
    const m = await this.lockMember(manager, id);
    return !!m && m.status === 'pending' && m.createdAt.getTime() < cutoff.getTime();
  }

  // ---- import (CONTRACT §11): the rules on members; the file, its rows and the report are the imports room's ----

  /**
   * What an import would do with each row, read only: an existing member is never changed
   * (`unchanged`, or `restricted`/`bounced`, which are kept as they are), an address on the
   * suppression list is never imported (`unsubscribed` when it left, `suppressed` otherwise), and
   * any other row makes a new member (`created`, active, with its evidence; else `pending`).
   */
  async planImport(rows: ImportMemberRow[], manager?: EntityManager): Promise<ImportOutcome[]> {
    const on = manager ?? this.ds.manager;
    const status = new Map<string, string>();
    for (let i = 0; i < rows.length; i += IMPORT_ROWS_PER_STATEMENT) {
      const emails = rows.slice(i, i + IMPORT_ROWS_PER_STATEMENT).map((r) => r.email);
      const res = await execute(
        manager ?? this.ds,
        `SELECT email, status FROM members WHERE email IN (${placeholders(emails.length)})`,
        emails,
      );
      for (const r of res.records) status.set(String(r.email), String(r.status));
    }
    const suppressed = await this.suppression.reasonsOf(
      on,
      rows.map((r) => r.email).filter((e) => !status.has(e)),
    );
    return rows.map((r): ImportOutcome => {
      const s = status.get(r.email);
      if (s !== undefined) return s === 'restricted' || s === 'bounced' ? s : 'unchanged';
      const reason = suppressed.get(r.email);
      if (reason !== undefined) return reason === 'unsubscribed' ? 'unsubscribed' : 'suppressed';
      return r.consent ? 'created' : 'pending';
    });
  }

  /**
   * One batch of an import in the caller's transaction, whole or not at all: the new members
   * (source `import`), each with its `imported` consent event (text version and hash, given time,
   * the file's SHA-256 and the row), search tokens, the confirmation mail of the `pending` ones
   * (within the sign-up's quota), and `member.created` (and `member.confirmed` for the active)
   * events. Kick the mail queue after commit when `queuedMail`.
   */
  async importBatch(
    manager: EntityManager,
    rows: ImportMemberRow[],
    file: { sha256: string },
  ): Promise<{ outcomes: ImportOutcome[]; queuedMail: boolean }> {
    const outcomes = await this.planImport(rows, manager);
    const fresh = rows.filter((_r, i) => outcomes[i] === 'created' || outcomes[i] === 'pending');
    if (fresh.length === 0) return { outcomes, queuedMail: false };
    const now = toDbTime(this.clock());
    for (let i = 0; i < fresh.length; i += IMPORT_ROWS_PER_STATEMENT) {
      const chunk = fresh.slice(i, i + IMPORT_ROWS_PER_STATEMENT);
      await execute(
        manager,
        `INSERT INTO members (email, first_name, last_name, phone, source, external_id, partner_id, status,
           created_at, updated_at, confirmed_at)
         VALUES ${chunk.map(() => "(?, ?, ?, ?, 'import', ?, ?, ?, ?, ?, ?)").join(', ')}`,
        chunk.flatMap((r) => [
          r.email,
          r.firstName,
          r.lastName,
          r.phone,
          r.externalId,
          r.partnerId,
          r.consent ? 'active' : 'pending',
          now,
          now,
          r.consent ? now : null,
        ]),
      );
    }
    const ids = new Map<string, number>();
    for (let i = 0; i < fresh.length; i += IMPORT_ROWS_PER_STATEMENT) {
      const emails = fresh.slice(i, i + IMPORT_ROWS_PER_STATEMENT).map((r) => r.email);
      const res = await execute(
        manager,
        `SELECT id, email FROM members WHERE email IN (${placeholders(emails.length)})`,
        emails,
      );
      for (const r of res.records) ids.set(String(r.email), Number(r.id));
    }
    const idOf = (r: ImportMemberRow) => ids.get(r.email)!;
    for (let i = 0; i < fresh.length; i += IMPORT_ROWS_PER_STATEMENT) {
      const chunk = fresh.slice(i, i + IMPORT_ROWS_PER_STATEMENT);
      await this.appendEvents(
        manager,
        chunk.map((r) => {
          const text = r.consent ? this.consentTexts.get(r.consent.textVersion) : undefined;
          if (r.consent && !text) throw new Error(`unknown consent text version ${r.consent.textVersion}`);
          return {
            memberId: idOf(r),
            type: 'imported' as const,
            fields: {
              source: 'import',
              textVersion: text?.version ?? null,
              textSha256: text?.sha256 ?? null,
              givenAt: r.consent ? r.consent.givenAt : null,
              fileSha256: file.sha256,
              fileRow: r.row,
            },
          };
        }),
        now,
      );
    }
    await this.indexNewForSearch(
      manager,
      fresh.map((r) => ({ id: idOf(r), email: r.email, firstName: r.firstName, lastName: r.lastName })),
    );
    let queuedMail = false;
    for (const r of fresh)
      if (!r.consent && (await this.requestConfirmation(manager, idOf(r)))) queuedMail = true;
    // Last: the events hold the event sequence's row lock until commit.
    await this.events.appendMany(
      manager,
      fresh.flatMap((r) => {
        const data = { memberId: idOf(r), externalId: r.externalId, source: 'import' };
        return r.consent
          ? [
              { type: 'member.created' as const, data: { ...data, status: 'active' } },
              { type: 'member.confirmed' as const, data: { ...data, status: 'active' } },
            ]
          : [{ type: 'member.created' as const, data: { ...data, status: 'pending' } }];
      }),
    );
    return { outcomes, queuedMail };
  }

  /**
   * The search tokens of members that have none (just inserted, as an import's batch, or cleared by
   * indexForSearch), in multi-row INSERTs.
   */
  private async indexNewForSearch(
    manager: EntityManager,
    members: Array<Pick<Member, 'id' | 'email' | 'firstName' | 'lastName'>>,
  ): Promise<void> {
    const pairs = members.flatMap((m) => searchTokens(m).map((t): [string, number] => [t, m.id]));
    for (let i = 0; i < pairs.length; i += IMPORT_TOKENS_PER_STATEMENT) {
      const chunk = pairs.slice(i, i + IMPORT_TOKENS_PER_STATEMENT);
      await execute(
        manager,
        `INSERT INTO member_search_tokens (token, member_id) VALUES ${chunk.map(() => '(?, ?)').join(', ')}`,
        chunk.flat(),
      );
    }
  }

  // ---- for other rooms: audiences, the re-check before handoff, counts ----

  /** Active members the audience reaches right now. */
  async countAudience(audience: Audience | null): Promise<number> {
    const { sql, params } = audienceFilter(audience);
    const res = await execute(this.ds, `SELECT COUNT(*) AS n FROM members m WHERE ${sql}`, params);
    return Number(res.records[0]?.n ?? 0);
  }

  /** `SELECT` of the audience's member ids (column `id`), for a snapshot in one INSERT … SELECT. */
  audienceSelect(audience: Audience | null): { sql: string; params: unknown[] } {
    const { sql, params } = audienceFilter(audience);
    return { sql: `SELECT m.id FROM members m WHERE ${sql}`, params };
  }

  /**
   * Recipient data for the re-check right before handoff: one indexed read by primary key for
   * every member whose message is about to be handed over. Erased members are absent.
   */
  async recipients(memberIds: number[]): Promise<Map<number, RecipientRow>> {
    const found = new Map<number, RecipientRow>();
    if (memberIds.length === 0) return found;
    const res = await execute(
      this.ds,
      `SELECT id, email, first_name, status, source, partner_id FROM members WHERE id IN (${placeholders(memberIds.length)})`,
      memberIds,
    );
    for (const r of res.records) {
      const memberId = Number(r.id);
      found.set(memberId, {
        memberId,
        email: (r.email as string) ?? null,
        firstName: (r.first_name as string) ?? null,
        status: String(r.status),
        source: String(r.source),
        partnerId: (r.partner_id as string) ?? null,
      });
    }
    return found;
  }

  /** Members by status, for /metrics. */
  async countByStatus(): Promise<Record<string, number>> {
    const res = await execute(this.ds, 'SELECT status, COUNT(*) AS n FROM members GROUP BY status');
    return Object.fromEntries(res.records.map((r) => [String(r.status), Number(r.n)]));
  }

  /** Members by status and source (the admin dashboard). */
  async countByStatusAndSource(): Promise<Array<{ status: string; source: string; n: number }>> {
    const res = await execute(
      this.ds,
      'SELECT status, source, COUNT(*) AS n FROM members GROUP BY status, source',
    );
    return res.records.map((r) => ({ status: String(r.status), source: String(r.source), n: Number(r.n) }));
  }

  /**
   * Consent events of these types since `from`, counted per UTC hour (the admin dashboard folds
   * hours into Oslo weeks, so the week boundary is exact on both databases).
   */
  async countConsentEventsByHour(
    types: ConsentEventType[],
    from: Date,
  ): Promise<Array<{ type: string; hour: Date; n: number }>> {
    const res = await execute(
      this.ds,
      `SELECT type, SUBSTR(occurred_at, 1, 13) AS h, COUNT(*) AS n FROM consent_events
       WHERE type IN (${placeholders(types.length)}) AND occurred_at >= ?
       GROUP BY type, SUBSTR(occurred_at, 1, 13)`,
      [...types, toDbTime(from)],
    );
    const out: Array<{ type: string; hour: Date; n: number }> = [];
    for (const r of res.records) {
      const hour = fromDbTime(`${String(r.h)}:00:00.000`);
      if (hour) out.push({ type: String(r.type), hour, n: Number(r.n) });
    }
    return out;
  }

  /** Consent events by type, for /metrics. */
  async countConsentEvents(): Promise<Record<string, number>> {
    const res = await execute(this.ds, 'SELECT type, COUNT(*) AS n FROM consent_events GROUP BY type');
    return Object.fromEntries(res.records.map((r) => [String(r.type), Number(r.n)]));
  }

  /** Row lock on MySQL; SQLite serialises writers anyway. */
  async lockMember(manager: EntityManager, id: number): Promise<Member | null> {
    return (await this.lockMembers(manager, [id])).get(id) ?? null;
  }

  /**
   * Row locks on several members in one statement, taken in id order (InnoDB walks an `IN` list
   * on the primary key in sorted order), so two writers locking overlapping sets cannot deadlock
   * on them. Members not found are missing from the map.
   */
  lockMembers(manager: EntityManager, ids: number[]): Promise<Map<number, Member>> {
    return this.readMembers(manager, ids, true);
  }

  /** Members by id, by raw SQL (MEMBER_COLUMN_OF); `lock`: row locks in id order on MySQL. */
  private async readMembers(
    on: DataSource | EntityManager,
    ids: number[],
    lock: boolean,
  ): Promise<Map<number, Member>> {
    const unique = [...new Set(ids)].sort((a, b) => a - b);
    if (unique.length === 0) return new Map();
    const forUpdate = lock && this.ds.options.type === 'mysql' ? ' FOR UPDATE' : '';
    const res = await execute(
      on,
      `SELECT ${MEMBER_COLUMNS} FROM members WHERE id IN (${placeholders(unique.length)}) ORDER BY id${forUpdate}`,
      unique,
    );
    return new Map(res.records.map((r) => [Number(r.id), memberOfRow(r)]));
  }

  /** The member with this (normalised) address, by raw SQL, as `repo.findOneBy({ email })` would. */
  private async readMemberByEmail(on: DataSource | EntityManager, email: string): Promise<Member | null> {
    const res = await execute(on, `SELECT ${MEMBER_COLUMNS} FROM members WHERE email = ?`, [email]);
    return res.records.length ? memberOfRow(res.records[0]) : null;
  }

  /** One new member's row by raw SQL, every column but the id, as `repo.insert` would; returns the id. */
  private insertMember(manager: EntityManager, member: Member): Promise<number> {
    const row: Record<string, unknown> = {};
    for (const k of Object.keys(MEMBER_COLUMN_OF) as Array<keyof Member>)
      if (k !== 'id') row[MEMBER_COLUMN_OF[k]] = toDbValue(member[k]);
    return insertReturningId(manager, 'members', row);
  }

  /** One member's columns set by raw SQL (MEMBER_COLUMN_OF), as `repo.update({ id }, changes)` would. */
  private async updateMember(manager: EntityManager, id: number, changes: Partial<Member>): Promise<void> {
    const fields = (Object.keys(changes) as Array<keyof Member>).filter((k) => changes[k] !== undefined);
    if (fields.length === 0) return;
    await execute(
      manager,
      `UPDATE members SET ${fields.map((k) => `${MEMBER_COLUMN_OF[k]} = ?`).join(', ')} WHERE id = ?`,
      [...fields.map((k) => toDbValue(changes[k])), id],
    );
  }

  get participantsList(): readonly MemberDataParticipant[] {
    return this.participants;
  }

  // ---- double opt-in ----

  private async composeConfirmation(memberId: number): Promise<OutgoingMail | null> {
    const m = await this.findMember(memberId);
    if (!m || !m.email || m.status !== 'pending') return null;
    const token = await this.memberTokens.issue(memberId, 'confirm', CONFIRM_TTL_MS);
    const values = {
      confirmUrl: `${this.config.publicUrl}/c/${token}`,
      privacyContact: this.config.privacyContact,
    };
    return {
      to: m.email,
      bounceTag: memberMailTag(memberId),
      subject: 'Bekreft medlemskapet ditt i Sothys Kundeklubb',
      html: fillTemplate(readTemplate('mail/confirmation.html'), values),
      text: fillTemplate(readTemplate('mail/confirmation.txt'), values, false),
    };
  }

  /**
   * For the GET page: a usable confirmation link, one already used by a membership that stands
   * (opened again), or neither. Changes nothing.
   */
  async checkConfirmation(token: string): Promise<'valid' | 'already-confirmed' | 'invalid'> {
    if (await this.memberTokens.find(token, 'confirm')) return 'valid';
    return (await this.confirmedBySpentLink(token)) ? 'already-confirmed' : 'invalid';
  }

  /** The link was used (not expired) and its member is still here with a confirmed address. */
  private async confirmedBySpentLink(token: string): Promise<boolean> {
    const memberId = await this.memberTokens.findSpent(token, 'confirm');
    const m = memberId === null ? null : await this.findMember(memberId);
    return !!m && !!m.email && m.confirmedAt !== null;
  }

  async confirm(token: string): Promise<ConfirmOutcome> {
    const outcome = await this.confirmWithin(token);
    if (outcome === 'invalid' && (await this.confirmedBySpentLink(token))) return 'already-active';
    return outcome;
  }

  private confirmWithin(token: string): Promise<ConfirmOutcome> {
    return this.ds.transaction(async (manager) => {
      const memberId = await this.memberTokens.consume(manager, token, 'confirm');
      if (memberId === null) return 'invalid';
      const m = await this.lockMember(manager, memberId);
      if (!m || !m.email) return 'invalid';
      // Restricted (art. 18) while still pending: the confirmation is the person's own consent and
      // is recorded, but the restriction stands; lifting it makes them active, not pending again.
      const restrictedPending = m.status === 'restricted' && m.statusBeforeRestriction === 'pending';
      if (m.status !== 'pending' && !restrictedPending) return 'already-active';
      const now = this.clock();
      await this.updateMember(
        manager,
        m.id,
        restrictedPending
          ? { statusBeforeRestriction: 'active', confirmedAt: now, updatedAt: now }
          : { status: 'active', confirmedAt: now, updatedAt: now },
      );
      const last = await manager
        .getRepository(ConsentEventEntity)
        .findOne({ where: { memberId: m.id, type: 'signup' }, order: { id: 'DESC' } });
      await this.appendEvent(manager, m.id, 'confirmation', {
        source: last?.source ?? m.source,
        sourceVersion: last?.sourceVersion ?? null,
        textVersion: last?.textVersion ?? null,
        textSha256: last?.textSha256 ?? null,
        channel: 'email-link',
      });
      await this.suppression.lift(manager, m.email);
      // Every confirmation link of the member is used up, kept until it expires to answer «already confirmed».
      await this.memberTokens.spendAll(manager, m.id, 'confirm');
      await this.emit(manager, 'member.confirmed', {
        ...m,
        status: restrictedPending ? 'restricted' : 'active',
      });
      this.logger.info({ memberId: m.id }, 'member confirmed');
      return 'confirmed';
    });
  }
}
