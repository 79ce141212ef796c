import type { DataSource, EntityManager } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import type { Clock } from '../db/time';
import { AppError, notFound } from '../errors';
import type { OutgoingMail } from '../mail/mailer';
import { memberMailTag } from '../mail/verp';
import type { MailQuota, MailQueue } from '../mail-queue/mail-queue.service';
import type { SignedTokens } from '../tokens/signed-tokens';
import { fillTemplate, readTemplate } from '../templates';
import type { Member } from '../members/member.entity';
import type { MemberTokens } from '../members/member-tokens';
import type { Suppression } from '../members/suppression';
import type { LeaveChannel } from '../members/members.schema';
import {
  presentMember,
  type ConsentEventView,
  type MembersService,
  type MemberView,
} from '../members/members.service';
import { maskEmail } from './mask-email';

/**
 * The data export (art. 15 and 20): the profile, the consent history, and one part per room
 * that holds data about the member (`deliveries` from the delivery engine, `privacyRequests`
 * from the request log, …), keyed by the participant's `name`.
 */
export interface MemberExport {
  exportedAt: string;
  member: MemberView;
  consentEvents: ConsentEventView[];
  deliveries: unknown[];
  [part: string]: unknown;
}

/** Why a member was erased; recorded as the channel of the anonymous 'erasure' event. */
/** `bounce`: a sign-up whose confirmation mail hard-bounced (CONTRACT §9). */
export type EraseReason = 'staff' | 'privacy-link' | 'request' | 'retention' | 'bounce';
export type ExportChannel = 'staff' | 'privacy-link';

export type UnsubscribeView =
  { state: 'invalid' } | { state: 'member'; maskedEmail: string } | { state: 'gone' };

const PRIVACY_LINK_TTL_MS = 24 * 3600 * 1000;
/** A link lasts 24 hours, so nobody needs more than one a day; three allow for a lost mail. */
export const PRIVACY_LINK_QUOTA: MailQuota = { windowMs: 24 * 3600 * 1000, perWindow: 3 };
const RESERVED_PARTS = new Set(['exportedAt', 'member', 'consentEvents']);

/**
 * The person's rights (CONTRACT §6): unsubscribe by signed link, the privacy link, export,
 * erasure with suppression, restriction. Erasure is one transaction over every room that
 * registered a MemberDataParticipant with the members service.
 */
export class PrivacyService {
  private readonly ds: DataSource;
  private readonly config: Config;
  private readonly members: MembersService;
  private readonly suppression: Suppression;
  private readonly mailQueue: MailQueue;
  private readonly tokens: SignedTokens;
  private readonly memberTokens: MemberTokens;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(deps: {
    dataSource: DataSource;
    config: Config;
    members: MembersService;
    suppression: Suppression;
    mailQueue: MailQueue;
    tokens: SignedTokens;
    memberTokens: MemberTokens;
    logger: Logger;
    clock: Clock;
  }) {
    this.ds = deps.dataSource;
    this.config = deps.config;
    this.members = deps.members;
    this.suppression = deps.suppression;
    this.mailQueue = deps.mailQueue;
    this.tokens = deps.tokens;
    this.memberTokens = deps.memberTokens;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.mailQueue.register('privacy-link', (memberId) => this.composePrivacyLink(memberId));
  }

  // ---- export ----

  /** The export document; records an 'export' event (no personal data in it) in the same transaction. */
  async exportMember(memberId: number, channel: ExportChannel): Promise<MemberExport> {
    const doc = await this.ds.transaction(async (manager) => {
      const m = await this.members.findMember(memberId, manager);
      if (!m) throw notFound('member');
      const doc = await this.buildExport(manager, m);
      await this.members.recordEvent(manager, memberId, 'export', channel);
      return doc;
    });
    this.logger.info({ memberId, channel }, 'member data exported');
    return doc;
  }

  private async buildExport(manager: EntityManager, m: Member): Promise<MemberExport> {
    const doc: MemberExport = {
      exportedAt: this.clock().toISOString(),
      member: presentMember(m),
      consentEvents: await this.members.consentHistory(m.id, manager),
      deliveries: [],
    };
    for (const p of this.members.participantsList) {
      if (!p.name || !p.export || RESERVED_PARTS.has(p.name)) continue;
      doc[p.name] = await p.export(manager, m.id);
    }
    return doc;
  }

  // ---- erasure ----

  /**
   * Art. 17: removes the member and every trace of the person in one transaction, keeping only
   * the suppression HMAC (so the address is never mailed again unless it signs up anew) and
   * anonymous evidence (consent events without member id, an 'erasure' event). Idempotent.
   */
  async erase(memberId: number, reason: EraseReason): Promise<{ erased: boolean }> {
    const erased = await this.ds.transaction((manager) => this.eraseIn(manager, memberId, reason));
    if (erased) await this.afterErasure(memberId, reason);
    return { erased };
  }

  /**
   * The erasure itself, inside the caller's transaction. `suppress: false` is for sign-ups that
   * were never confirmed (see RetentionService). Callers run afterErasure() after commit.
   */
  async eraseIn(
    manager: EntityManager,
    memberId: number,
    reason: EraseReason,
    opts: { suppress: boolean } = { suppress: true },
  ): Promise<boolean> {
    const m = await this.members.lockMember(manager, memberId);
    if (!m) return false;
    const now = this.clock();
    if (m.email && opts.suppress) await this.suppression.add(manager, m.email, 'erased', now);
    // A member who already left has no address; rooms that key on it have forgotten it at leave.
    for (const p of this.members.participantsList)
      await p.forget(manager, { id: m.id, email: m.email ?? '' }, 'erase');
    await this.members.recordEvent(manager, null, 'erasure', reason);
    // Last: the members room writes the app-facing event, which holds the event sequence until commit.
    await this.members.deleteMember(manager, m.id, reason);
    return true;
  }

  async afterErasure(memberId: number, reason: EraseReason): Promise<void> {
    await this.members.settle(memberId);
    this.logger.info({ memberId, reason }, 'member erased');
  }

  // ---- restriction ----

  /**
   * Art. 18: a restricted member is kept but never mailed (the delivery engine sends only to
   * `active`) and sign-ups leave the status alone; lifting returns the status held before.
   */
  async restrict(memberId: number, restricted: boolean): Promise<MemberView> {
    const { member, changed } = await this.ds.transaction((manager) =>
      this.members.restrict(manager, memberId, restricted),
    );
    if (changed) {
      // A newsletter already handed to SMTP cannot be recalled; wait for it so the answer is true.
      await this.members.settle(memberId);
      this.logger.info(
        { memberId, restricted },
        restricted ? 'member restricted' : 'member restriction lifted',
      );
    }
    return presentMember(member);
  }

  // ---- unsubscribe link (/u/) ----

  /** For the GET page: changes nothing. */
  async unsubscribeView(token: string): Promise<UnsubscribeView> {
    const claims = this.tokens.verify(token, 'unsubscribe');
    if (!claims) return { state: 'invalid' };
    const m = await this.members.findMember(claims.memberId);
    if (!m || !m.email) return { state: 'gone' };
    return { state: 'member', maskedEmail: maskEmail(m.email) };
  }

  /** One-click or form unsubscribe. Idempotent: a member already gone is simply "done". */
  async unsubscribe(
    token: string,
    channel: Extract<LeaveChannel, 'link' | 'one-click'>,
  ): Promise<'done' | 'invalid'> {
    const claims = this.tokens.verify(token, 'unsubscribe');
    if (!claims) return 'invalid';
    await this.members.leave(claims.memberId, channel);
    return 'done';
  }

  /**
   * Mails a privacy link to the member's own address, never to anyone else: the unsubscribe
   * token alone (a forwarded newsletter) must not let a stranger read or erase data. At most
   * one such mail waits in the mailQueue per member, and at most PRIVACY_LINK_QUOTA are sent.
   */
  async requestPrivacyLink(token: string): Promise<'sent' | 'limited' | 'unavailable' | 'invalid'> {
    const claims = this.tokens.verify(token, 'unsubscribe');
    if (!claims) return 'invalid';
    const memberId = claims.memberId;
    const outcome = await this.ds.transaction(async (manager) => {
      const m = await this.members.lockMember(manager, memberId);
      // Nothing but the confirmation is mailed to a pending sign-up (CONTRACT §4), nothing to a dead address (§9).
      if (!m || !m.email || m.status === 'pending' || m.status === 'bounced') return 'unavailable' as const;
      const queued = await this.mailQueue.enqueueWithin(
        manager,
        memberId,
        'privacy-link',
        PRIVACY_LINK_QUOTA,
      );
      return queued ? ('sent' as const) : ('limited' as const);
    });
    if (outcome === 'sent') {
      this.mailQueue.kick();
      this.logger.info({ memberId }, 'privacy link requested');
    }
    return outcome;
  }

  private async composePrivacyLink(memberId: number): Promise<OutgoingMail | null> {
    const m = await this.members.findMember(memberId);
    if (!m || !m.email || m.status === 'pending' || m.status === 'bounced') return null;
    const token = await this.memberTokens.issue(memberId, 'privacy', PRIVACY_LINK_TTL_MS);
    const values = {
      privacyUrl: `${this.config.publicUrl}/p/${token}`,
      privacyContact: this.config.privacyContact,
    };
    return {
      to: m.email,
      bounceTag: memberMailTag(memberId),
      subject: 'Opplysningene dine i Sothys Kundeklubb',
      html: fillTemplate(readTemplate('mail/privacy-link.html'), values),
      text: fillTemplate(readTemplate('mail/privacy-link.txt'), values, false),
    };
  }

  // ---- privacy link (/p/) ----

  /** Is this a usable privacy link? Changes nothing (mail scanners fetch links). */
  async checkPrivacyLink(token: string): Promise<boolean> {
    return (await this.memberTokens.find(token, 'privacy')) !== null;
  }

  /** The export shown on /p/; does not consume the token. null when the link is not usable. */
  async exportByPrivacyLink(token: string): Promise<MemberExport | null> {
    const row = await this.memberTokens.find(token, 'privacy');
    if (!row) return null;
    try {
      return await this.exportMember(row.memberId, 'privacy-link');
    } catch (err) {
      if (err instanceof AppError && err.status === 404) return null;
      throw err;
    }
  }

  /** Erasure by the person: consumes the token and erases in one transaction. */
  async eraseByPrivacyLink(token: string): Promise<boolean> {
    const memberId = await this.ds.transaction(async (manager) => {
      const memberId = await this.memberTokens.consume(manager, token, 'privacy');
      if (memberId === null) return null;
      return (await this.eraseIn(manager, memberId, 'privacy-link')) ? memberId : null;
    });
    if (memberId === null) return false;
    await this.afterErasure(memberId, 'privacy-link');
    return true;
  }
}
