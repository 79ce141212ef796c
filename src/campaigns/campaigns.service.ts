import crypto from 'node:crypto';
import { In, type DataSource, type EntityManager, type Repository } from 'typeorm';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { toDbTime, type Clock } from '../db/time';
import { pageById } from '../db/pagination';
import { AppError, conflict, notFound } from '../errors';
import { MailError, type Mailer } from '../mail/mailer';
import { normalizeAudience, type Audience } from '../members/audience';
import type { MembersService } from '../members/members.service';
import type { Block, NewsletterContent } from '../newsletter/blocks.schema';
import {
  compileNewsletter,
  fillNewsletter,
  newsletterLinks,
  NewsletterRenderError,
  renderWebVersion,
  type Brand,
  type CompiledNewsletter,
  type LinkTargets,
  type NewsletterLink,
} from '../newsletter/renderer';
import type { ClickCounts } from '../clicks/click-counts';
import type { ClickStat } from '../clicks/clicks.schema';
import type { LinkSource } from '../clicks/link-source';
import { TEST_UNSUBSCRIBE_TOKEN, type TestLinks } from '../clicks/test-links';
import { CampaignEntity, type Campaign, type CampaignStatus } from './campaign.entity';
import {
  MAX_NAME_LENGTH,
  type CreateCampaignInput,
  type ListCampaignsQuery,
  type PatchCampaignInput,
} from './campaigns.schema';

export type { Audience };

export interface CampaignView {
  id: number;
  status: CampaignStatus;
  name: string;
  subject: string;
  preheader: string | null;
  /** null = every active member. */
  audience: Audience | null;
  blocks: Block[];
  createdAt: string;
  updatedAt: string;
  scheduledAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** While draft or scheduled: active members matching the audience now. Once sending began: the number enqueued. */
  recipients: number | null;
}

/** The sample member of previews and test mail, so both greet «Hei Kari,». */
export const PREVIEW_FIRST_NAME = 'Kari';
const iso = (d: Date | null) => (d ? d.toISOString() : null);

function contentOf(c: Pick<Campaign, 'subject' | 'preheader' | 'blocksJson'>): NewsletterContent {
  return {
    subject: c.subject,
    preheader: c.preheader ?? undefined,
    blocks: JSON.parse(c.blocksJson) as Block[],
  };
}

function storedRender(c: Campaign): CompiledNewsletter | null {
  if (c.compiledHtml === null || c.compiledText === null || c.compiledNonce === null) return null;
  return Object.freeze({
    subject: c.subject,
    html: c.compiledHtml,
    text: c.compiledText,
    nonce: c.compiledNonce,
  });
}

/** The web version's id: 128 random bits, so it cannot be guessed from the campaign id. */
const newPublicId = () => crypto.randomBytes(16).toString('base64url');
const PUBLIC_ID = /^[A-Za-z0-9_-]{22}$/;
const WEB_VERSION_STATUSES: CampaignStatus[] = ['sending', 'paused', 'sent'];

/** «Kopi av Desember», within the 200 characters a name may have. */
const COPY_PREFIX = 'Kopi av ';
const copyName = (name: string) =>
  `${COPY_PREFIX}${name}`.slice(0, MAX_NAME_LENGTH).replace(/[\uD800-\uDBFF]$/, '');

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Newsletters: authoring, audience, preview, test send, the frozen render the delivery engine
 * sends, and its links (the clicks room's LinkSource) and web version.
 */
export class CampaignsService implements LinkSource {
  private readonly ds: DataSource;
  private readonly config: Config;
  private readonly mailer: Mailer;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly members: MembersService;
  private readonly clicks: ClickCounts;
  private readonly testLinks: TestLinks;
  private readonly brand: Brand;
  /** Frozen renders by campaign id: they never change once sending began (only drafts are edited). */
  private readonly compiledCache = new Map<number, CompiledNewsletter>();
  /** Frozen link lists and web versions, by campaign id: as unchanging as the render. */
  private readonly linksCache = new Map<number, NewsletterLink[]>();
  private readonly webVersionCache = new Map<number, string>();

  constructor(deps: {
    dataSource: DataSource;
    config: Config;
    mailer: Mailer;
    logger: Logger;
    clock: Clock;
    members: MembersService;
    clicks: ClickCounts;
    testLinks: TestLinks;
  }) {
    this.ds = deps.dataSource;
    this.members = deps.members;
    this.clicks = deps.clicks;
    this.testLinks = deps.testLinks;
    this.config = deps.config;
    this.mailer = deps.mailer;
    this.logger = deps.logger;
    this.clock = deps.clock;
    this.brand = { publicUrl: deps.config.publicUrl, privacyContact: deps.config.privacyContact };
  }

  /** Stands in for the per-member `/u/{token}` in previews and test mail; its page says so and unsubscribes nobody. */
  get previewUnsubscribeUrl(): string {
    return `${this.config.publicUrl}/u/${TEST_UNSUBSCRIBE_TOKEN}`;
  }

  private repo(manager?: EntityManager): Repository<Campaign> {
    return (manager ?? this.ds.manager).getRepository(CampaignEntity);
  }

  // ---- reading ----

  async findById(id: number, manager?: EntityManager): Promise<Campaign | null> {
    return this.repo(manager).findOneBy({ id });
  }

  private async require(id: number): Promise<Campaign> {
    const c = await this.findById(id);
    if (!c) throw notFound('campaign');
    return c;
  }

  audienceOf(c: Campaign): Audience | null {
    return c.audienceJson ? (JSON.parse(c.audienceJson) as Audience) : null;
  }

  present(c: Campaign, recipients?: number): CampaignView {
    const live = c.status === 'draft' || c.status === 'scheduled';
    return {
      id: c.id,
      status: c.status,
      name: c.name,
      subject: c.subject,
      preheader: c.preheader,
      audience: this.audienceOf(c),
      blocks: JSON.parse(c.blocksJson) as Block[],
      createdAt: c.createdAt.toISOString(),
      updatedAt: c.updatedAt.toISOString(),
      scheduledAt: iso(c.scheduledAt),
      startedAt: iso(c.startedAt),
      finishedAt: iso(c.finishedAt),
      recipients: recipients ?? (live ? null : c.total),
    };
  }

  /** Active members the audience reaches right now. */
  audienceCount(audience: Audience | null): Promise<number> {
    return this.members.countAudience(normalizeAudience(audience));
  }

  private async view(c: Campaign): Promise<CampaignView> {
    const live = c.status === 'draft' || c.status === 'scheduled';
    return this.present(c, live ? await this.audienceCount(this.audienceOf(c)) : undefined);
  }

  async get(id: number): Promise<CampaignView> {
    return this.view(await this.require(id));
  }

  /** Newest first. */
  async list(q: ListCampaignsQuery): Promise<{ items: CampaignView[]; nextCursor: string | null }> {
    const qb = this.repo().createQueryBuilder('c');
    if (q.status) qb.andWhere('c.status = :status', { status: q.status });
    const page = await pageById(qb, q, 'DESC');
    // Campaigns often share an audience: count each distinct one once.
    const counts = new Map<string, Promise<number>>();
    const items = await Promise.all(
      page.items.map(async (c) => {
        if (c.status !== 'draft' && c.status !== 'scheduled') return this.present(c);
        const key = c.audienceJson ?? '';
        if (!counts.has(key)) counts.set(key, this.audienceCount(this.audienceOf(c)));
        return this.present(c, await counts.get(key));
      }),
    );
    return { items, nextCursor: page.nextCursor };
  }

  // ---- authoring ----

  /** Compiles to validate too: MJML problems are 422 with block paths, before anything is stored. */
  private async compileContent(
    content: NewsletterContent,
    targets?: LinkTargets,
  ): Promise<CompiledNewsletter> {
    try {
      return await compileNewsletter(content, this.brand, targets, this.clock());
    } catch (err) {
      if (err instanceof NewsletterRenderError) {
        throw new AppError(
          422,
          'validation',
          'Validation failed',
          'The newsletter cannot be rendered',
          err.errors,
        );
      }
      throw err;
    }
  }

  async create(input: CreateCampaignInput): Promise<CampaignView> {
    const preheader = input.preheader || null;
    await this.compileContent({
      subject: input.subject,
      preheader: preheader ?? undefined,
      blocks: input.blocks,
    });
    const audience = normalizeAudience(input.audience);
    const now = this.clock();
    const row: Omit<Campaign, 'id'> = {
      name: input.name,
      subject: input.subject,
      preheader,
      audienceJson: audience ? JSON.stringify(audience) : null,
      blocksJson: JSON.stringify(input.blocks),
      status: 'draft',
      scheduledAt: null,
      startedAt: null,
      finishedAt: null,
      compiledHtml: null,
      compiledText: null,
      compiledNonce: null,
      total: 0,
      pausedReason: null,
      resumedAt: null,
      publicId: newPublicId(),
      linksJson: null,
      createdAt: now,
      updatedAt: now,
    };
    const res = await this.repo().insert(row);
    const campaign: Campaign = { id: Number(res.identifiers[0].id), ...row };
    this.logger.info({ campaignId: campaign.id }, 'campaign created');
    return this.view(campaign);
  }

  /**
   * A new draft with the content and audience of campaign `id` (in any status), named as a copy;
   * the subject stays as it was, since it is what members see.
   */
  async copy(id: number): Promise<CampaignView> {
    const c = await this.require(id);
    return this.create({
      name: copyName(c.name),
      subject: c.subject,
      preheader: c.preheader ?? undefined,
      audience: this.audienceOf(c),
      blocks: JSON.parse(c.blocksJson) as Block[],
    });
  }

  /**
   * Drafts only. Compiles outside any transaction, then writes only if nobody changed or sent the
   * campaign meanwhile (updated_at as version), so a send that started in between is never overwritten.
   */
  async update(id: number, patch: PatchCampaignInput): Promise<CampaignView> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const c = await this.require(id);
      if (c.status !== 'draft') throw conflict(`the campaign is ${c.status}; only a draft can be changed`);
      const changes: Partial<Campaign> = {};
      if (patch.name !== undefined) changes.name = patch.name;
      if (patch.subject !== undefined) changes.subject = patch.subject;
      if (patch.preheader !== undefined) changes.preheader = patch.preheader || null;
      if (patch.audience !== undefined) {
        const audience = normalizeAudience(patch.audience);
        changes.audienceJson = audience ? JSON.stringify(audience) : null;
      }
      if (patch.blocks !== undefined) changes.blocksJson = JSON.stringify(patch.blocks);
      const next: Campaign = { ...c, ...changes };
      await this.compileContent(contentOf(next));
      // Strictly later than the version read, so the next writer's check cannot match a stale read.
      changes.updatedAt = new Date(Math.max(this.clock().getTime(), c.updatedAt.getTime() + 1));
      changes.compiledHtml = null;
      changes.compiledText = null;
      changes.compiledNonce = null;
      const res = await this.repo()
        .createQueryBuilder()
        .update(CampaignEntity)
        .set(changes)
        .where('id = :id', { id })
        .andWhere('status = :draft', { draft: 'draft' })
        .andWhere('updated_at = :version', { version: toDbTime(c.updatedAt) })
        .execute();
      if (res.affected === 1) {
        this.compiledCache.delete(id);
        this.logger.info({ campaignId: id, fields: Object.keys(patch) }, 'campaign changed');
        return this.view({ ...next, ...changes });
      }
    }
    throw conflict('the campaign was changed by someone else meanwhile; try again');
  }

  // ---- rendering ----

  /** Every link of a campaign's mail goes through `/r/{id}/{n}`; «Vis i nettleser» to `/n/{publicId}`. */
  private targetsOf(c: Pick<Campaign, 'id' | 'publicId'>): LinkTargets {
    return {
      href: (link) => `${this.config.publicUrl}/r/${c.id}/${link.n}`,
      webVersionUrl: `${this.config.publicUrl}/n/${c.publicId ?? 'forhandsvisning'}`,
    };
  }

  /**
   * A filled preview or test mail with its click links marked as a test (`?test=`): not counted,
   * and working for a draft too. Done on the filled text, so members' fill is untouched.
   */
  private markAsTest<T extends { html: string; text: string }>(id: number, filled: T): T {
    const link = new RegExp(`${escapeRegExp(`${this.config.publicUrl}/r/${id}/`)}\\d+`, 'g');
    const marker = this.testLinks.marker(id);
    const mark = (s: string) => s.replace(link, (url) => `${url}?test=${marker}`);
    return { ...filled, html: mark(filled.html), text: mark(filled.text) };
  }

  /** What members get: the frozen render once there is one, else a compile of the draft. */
  private async renderOf(c: Campaign): Promise<CompiledNewsletter> {
    return storedRender(c) ?? this.compileContent(contentOf(c), this.targetsOf(c));
  }

  async preview(id: number, format: 'html' | 'text'): Promise<string> {
    const c = await this.require(id);
    const filled = fillNewsletter(await this.renderOf(c), {
      firstName: PREVIEW_FIRST_NAME,
      unsubscribeUrl: this.previewUnsubscribeUrl,
    });
    const marked = this.markAsTest(c.id, filled);
    return format === 'text' ? marked.text : marked.html;
  }

  /**
   * Renders content that is not stored (the admin editor's live preview of unsaved edits) exactly as
   * `preview` renders a draft: same compile, same checks (422 with paths), same sample recipient.
   */
  async previewContent(content: NewsletterContent, format: 'html' | 'text' = 'html'): Promise<string> {
    const filled = fillNewsletter(await this.compileContent(content), {
      firstName: PREVIEW_FIRST_NAME,
      unsubscribeUrl: this.previewUnsubscribeUrl,
    });
    return format === 'text' ? filled.text : filled.html;
  }

  /**
   * Sends the newsletter now to the listed addresses only, as members would get it (same headers)
   * but marked as a test. No member, no ledger row. A refused mail → 502 with the reason.
   */
  async sendTest(id: number, to: string[]): Promise<{ sent: number }> {
    const c = await this.require(id);
    const filled = this.markAsTest(
      c.id,
      fillNewsletter(await this.renderOf(c), {
        firstName: PREVIEW_FIRST_NAME,
        unsubscribeUrl: this.previewUnsubscribeUrl,
      }),
    );
    const recipients = [...new Set(to)];
    let sent = 0;
    for (const address of recipients) {
      try {
        await this.mailer.send({
          to: address,
          subject: `[TEST] ${filled.subject}`,
          html: filled.html,
          text: filled.text,
          listUnsubscribeUrl: this.previewUnsubscribeUrl,
          headers: { 'X-Kundeklubb-Test': 'yes' },
        });
        sent++;
      } catch (err) {
        if (!(err instanceof MailError)) throw err;
        this.logger.warn(
          { campaignId: id, sent, kind: err.kind, code: err.code, responseCode: err.responseCode },
          'test newsletter refused',
        );
        throw new AppError(
          502,
          'mail-failed',
          'Mail not sent',
          `The test mail could not be sent (${sent} of ${recipients.length} sent): ${err.message}`,
        );
      }
    }
    this.logger.info({ campaignId: id, sent }, 'test newsletter sent');
    return { sent };
  }

  // ---- for the delivery engine ----

  /** Conditional status change: only from one of `from`; true when this call made it. */
  async setStatus(
    manager: EntityManager,
    id: number,
    from: CampaignStatus[],
    to: CampaignStatus,
    extra: Partial<Campaign> = {},
  ): Promise<boolean> {
    if (from.length === 0) return false;
    const res = await manager
      .createQueryBuilder()
      .update(CampaignEntity)
      .set({ updatedAt: this.clock(), ...extra, status: to })
      .where('id = :id', { id })
      .andWhere('status IN (:...from)', { from })
      .execute();
    return res.affected === 1;
  }

  /**
   * Renders the campaign once and stores it on the row, so every worker sends the same bytes.
   * Idempotent: a campaign already frozen keeps (and returns) its stored render.
   */
  async freezeForSending(manager: EntityManager, id: number): Promise<CompiledNewsletter> {
    const c = await this.findById(id, manager);
    if (!c) throw notFound('campaign');
    const stored = storedRender(c);
    if (stored) return stored;
    const content = contentOf(c);
    const compiled = await this.compileContent(content, this.targetsOf(c));
    const links = newsletterLinks(content);
    const res = await manager
      .createQueryBuilder()
      .update(CampaignEntity)
      .set({
        compiledHtml: compiled.html,
        compiledText: compiled.text,
        compiledNonce: compiled.nonce,
        linksJson: JSON.stringify(links),
      })
      .where('id = :id', { id })
      .andWhere('compiled_html IS NULL')
      .execute();
    if (res.affected === 1) {
      await this.clicks.prepare(
        manager,
        id,
        links.map((l) => l.n),
      );
      return compiled;
    }
    // Another worker froze it first: use theirs.
    const winner = await this.findById(id, manager);
    const theirs = winner && storedRender(winner);
    if (!theirs) throw new Error(`campaign ${id} could not be frozen`);
    return theirs;
  }

  /** Subjects of these campaigns, in the caller's transaction (a member's export lists what they got). */
  async subjectsOf(manager: EntityManager, ids: number[]): Promise<Map<number, string>> {
    if (ids.length === 0) return new Map();
    const rows = await this.repo(manager).find({
      where: { id: In(ids) },
      select: { id: true, subject: true },
    });
    return new Map(rows.map((c) => [c.id, c.subject]));
  }

  /** The frozen render, read once per process and campaign. Throws if the campaign was never frozen. */
  async loadCompiled(id: number): Promise<CompiledNewsletter> {
    const cached = this.compiledCache.get(id);
    if (cached) return cached;
    const c = await this.findById(id);
    if (!c) throw notFound('campaign');
    const stored = storedRender(c);
    if (!stored) throw new Error(`campaign ${id} has no frozen render; call freezeForSending first`);
    this.compiledCache.set(id, stored);
    return stored;
  }

  // ---- links and the web version (CONTRACT §12) ----

  private async linkRow(id: number) {
    return this.repo().findOne({
      where: { id },
      select: { id: true, status: true, linksJson: true, blocksJson: true },
    });
  }

  /** The frozen link list, read once per process and campaign; null before sending began. */
  private async frozenLinks(id: number): Promise<NewsletterLink[] | null> {
    const cached = this.linksCache.get(id);
    if (cached) return cached;
    const row = await this.linkRow(id);
    if (!row?.linksJson) return null;
    const links = JSON.parse(row.linksJson) as NewsletterLink[];
    this.linksCache.set(id, links);
    return links;
  }

  async sentLinkUrl(id: number, n: number): Promise<string | null> {
    return (await this.frozenLinks(id))?.find((l) => l.n === n)?.url ?? null;
  }

  /** A draft's links as they are now (a test mail's links follow the draft's edits). */
  async testLinkUrl(id: number, n: number): Promise<string | null> {
    const frozen = await this.frozenLinks(id);
    if (frozen) return frozen.find((l) => l.n === n)?.url ?? null;
    const row = await this.linkRow(id);
    if (!row) return null;
    const blocks = JSON.parse(row.blocksJson) as Block[];
    return newsletterLinks({ blocks }).find((l) => l.n === n)?.url ?? null;
  }

  /** The stats' `clicks`: each frozen link with its count (null below the threshold); none before sending. */
  async clickStats(id: number): Promise<ClickStat[]> {
    const links = await this.frozenLinks(id);
    if (!links) return [];
    return this.clicks.report(
      id,
      links.map(({ n, url, label, blockType }) => ({ n, url, label, blockType })),
    );
  }

  /**
   * `/n/{publicId}`: the newsletter as sent, the same page for everyone (made once per campaign),
   * only while the campaign is sending, paused or sent; null otherwise.
   */
  async webVersion(publicId: string): Promise<string | null> {
    if (!PUBLIC_ID.test(publicId)) return null;
    const c = await this.repo().findOne({ where: { publicId }, select: { id: true, status: true } });
    if (!c || !WEB_VERSION_STATUSES.includes(c.status)) return null;
    const cached = this.webVersionCache.get(c.id);
    if (cached) return cached;
    const page = renderWebVersion(await this.loadCompiled(c.id));
    this.webVersionCache.set(c.id, page);
    return page;
  }
}
