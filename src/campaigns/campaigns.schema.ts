import { z } from 'zod';
import { cursorParam, limitParam, singleLine } from '../http/fields';
import { SOURCES } from '../members/member.entity';
import { emailSchema } from '../members/members.schema';
import { blocksSchema, newsletterContentSchema } from '../newsletter/blocks.schema';
import { CAMPAIGN_STATUSES } from './campaign.entity';

const name = singleLine(200);
// The same rules the renderer applies, so a body that passes here also compiles.
const subject = newsletterContentSchema.shape.subject;
const preheader = newsletterContentSchema.shape.preheader.unwrap();
const partnerId = singleLine(100);

/** Each given list narrows the audience; an empty or absent list does not filter. */
export const audienceSchema = z.strictObject({
  sources: z
    .array(z.enum(SOURCES))
    .max(SOURCES.length * 2)
    .optional(),
  partnerIds: z.array(partnerId).max(500, { error: 'must have at most 500 partner ids' }).optional(),
});

export const createCampaignSchema = z.strictObject({
  name,
  subject,
  preheader: preheader.optional(),
  audience: audienceSchema.nullable().optional(),
  blocks: blocksSchema,
});
export type CreateCampaignInput = z.infer<typeof createCampaignSchema>;

/** `null` clears the preheader, or resets the audience to every active member. */
export const patchCampaignSchema = z
  .strictObject({
    name: name.optional(),
    subject: subject.optional(),
    preheader: preheader.nullable().optional(),
    audience: audienceSchema.nullable().optional(),
    blocks: blocksSchema.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });
export type PatchCampaignInput = z.infer<typeof patchCampaignSchema>;

export const listCampaignsQuerySchema = z.strictObject({
  status: z.enum(CAMPAIGN_STATUSES).optional(),
  limit: limitParam(200, 50),
  cursor: cursorParam,
});
export type ListCampaignsQuery = z.infer<typeof listCampaignsQuerySchema>;

/** `?sources=a,b&partnerIds=x,y` (or the keys repeated). */
const commaList = z.union([z.string(), z.array(z.string())]).transform((v) =>
  (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean),
);
export const audienceCountQuerySchema = z.strictObject({
  sources: commaList.pipe(z.array(z.enum(SOURCES))).optional(),
  partnerIds: commaList.pipe(z.array(partnerId).max(500)).optional(),
});

export const audienceCountBodySchema = z.strictObject({
  audience: audienceSchema.nullable().optional(),
});

export const testSendSchema = z.strictObject({
  to: z
    .array(emailSchema)
    .min(1, { error: 'must list at least 1 address' })
    .max(10, { error: 'must list at most 10 addresses' }),
});

export const previewQuerySchema = z.strictObject({
  format: z.enum(['html', 'text']).default('html'),
});

export const sendSchema = z.strictObject({
  scheduledAt: z.iso
    .datetime({ offset: true, message: 'must be an ISO 8601 date-time with offset' })
    .optional(),
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
});
export type CampaignStats = z.infer<typeof campaignStatsSchema>;
