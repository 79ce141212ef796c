import { z } from 'zod';
import { BLOCK_TYPES } from '../newsletter/blocks.schema';

/**
 * The fewest clicks a link shows as a number. Below it `count` is null, so that with a small
 * audience no one person's click can be read off (CONTRACT §12).
 */
export const MIN_REPORTED_CLICKS = 10;

/** One link of a campaign in its stats: `GET /v1/campaigns/:id/stats` → `clicks[]`. */
export const clickStatSchema = z.object({
  /** The link's place in the campaign, from 1, as in `/r/{campaignId}/{n}`. */
  n: z.number().int().min(1),
  url: z.string(),
  label: z.string(),
  blockType: z.enum(BLOCK_TYPES),
  /** Clicks, or null when fewer than MIN_REPORTED_CLICKS. */
  count: z.number().int().min(MIN_REPORTED_CLICKS).nullable(),
});
export type ClickStat = z.infer<typeof clickStatSchema>;
