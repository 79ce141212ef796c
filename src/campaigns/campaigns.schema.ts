import { z } from 'zod';
import { cursorParam, dateTime, limitParam, oneOf, singleLine, strictObject } from '../http/fields';
import { MSG, msg } from '../presentation/messages';
import { SOURCES } from '../members/member.entity';
import { emailSchema } from '../members/members.schema';
import { blocksSchema, newsletterContentSchema } from '../newsletter/blocks.schema';
import { clickStatSchema } from '../clicks/clicks.schema';
import { CAMPAIGN_STATUSES, PAUSED_REASONS } from './campaign.entity';

/** A campaign's internal name (the admin form counts down to it). */
export const MAX_NAME_LENGTH = 200;
const name = singleLine(MAX_NAME_LENGTH);
// The same rules the renderer applies, so a body that passes here also compiles.
const subject = newsletterContentSchema.shape.subject;
const preheader = newsletterContentSchema.shape.preheader.unwrap();
const partnerId = singleLine(100);

const MAX_PARTNER_IDS = 500;
const partnerIds = z
  .array(partnerId, msg(MSG.list))
  .max(MAX_PARTNER_IDS, msg(MSG.partnerIdsMax(MAX_PARTNER_IDS)));
const sourceList = z.array(oneOf(SOURCES), msg(MSG.list));
const sources = sourceList.max(SOURCES.length * 2, msg(MSG.sourcesMax(SOURCES.length * 2)));

/** Each given list narrows the audience; an empty or absent list does not filter. */
export const audienceSchema = strictObject({
  sources: sources.optional(),
  partnerIds: partnerIds.optional(),
});

export const createCampaignSchema = strictObject({
  name,
  subject,
  preheader: preheader.optional(),
  audience: audienceSchema.nullable().optional(),
  blocks: blocksSchema,
});
export type CreateCampaignInput = z.infer<typeof createCampaignSchema>;

/** `null` clears the preheader, or resets the audience to every active member. */
export const patchCampaignSchema = strictObject({
  name: name.optional(),
  subject: subject.optional(),
  preheader: preheader.nullable().optional(),
  audience: audienceSchema.nullable().optional(),
  blocks: blocksSchema.optional(),
}).refine((v) => Object.keys(v).length > 0, msg(MSG.nothingToChange));
export type PatchCampaignInput = z.infer<typeof patchCampaignSchema>;

export const listCampaignsQuerySchema = strictObject({
  status: oneOf(CAMPAIGN_STATUSES).optional(),
  limit: limitParam(200, 50),
  cursor: cursorParam,
});
export type ListCampaignsQuery = z.infer<typeof listCampaignsQuerySchema>;

/** `?sources=a,b&partnerIds=x,y` (or the keys repeated). */
const commaList = z.union([z.string(), z.array(z.string())], msg(MSG.commaList)).transform((v) =>
  (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);
export const audienceCountQuerySchema = strictObject({
  sources: commaList.pipe(sourceList).optional(),
  partnerIds: commaList.pipe(partnerIds).optional(),
});

export const audienceCountBodySchema = strictObject({
  audience: audienceSchema.nullable().optional(),
});

const MAX_TEST_ADDRESSES = 10;
export const testSendSchema = strictObject({
  to: z
    .array(emailSchema, msg(MSG.list))
    .min(1, msg(MSG.addressesMin))
    .max(MAX_TEST_ADDRESSES, msg(MSG.addressesMax(MAX_TEST_ADDRESSES))),
});

export const previewQuerySchema = strictObject({
  format: oneOf(['html', 'text']).default('html'),
});

export const sendSchema = strictObject({
  scheduledAt: dateTime().optional(),
});

const count = z.number().int().min(0);

/** `GET /v1/campaigns/:id/stats` (CONTRACT §5): the ledger's counts beside the campaign's status. */
export const campaignStatsSchema = z.object({
  status: z.enum(CAMPAIGN_STATUSES),
  total: count,
  /** Still to go: waiting or held by a worker right now. */
  queued: count,
  sent: count,
  failed: count,
  /** Left the club or was restricted before their turn. */
  skipped: count,
  /** Part of `queued` that a worker holds right now. */
  sending: count,
  /** Messages that hard-bounced (CONTRACT §9). */
  bounced: count,
  /** Recipients who reported the newsletter as spam. */
  complained: count,
  /** Why it is paused: by hand, or by the guardrail; null unless paused. */
  pausedReason: z.enum(PAUSED_REASONS).nullable(),
  /** Clicks per link, no person in them (CONTRACT §12); empty before sending began. */
  clicks: z.array(clickStatSchema),
});
export type CampaignStats = z.infer<typeof campaignStatsSchema>;
