import { z } from 'zod';
import { dateTime, plainText, singleLine, strictObject } from '../http/fields';
import { MSG, msg } from '../presentation/messages';

/** Newsletter content as marketing writes it (CONTRACT §5). Everything here is later HTML-escaped. */

/**
 * The renderer's per-recipient slots look like `%%KK_<nonce>_UNSUB%%`. The renderer only fills
 * its own nonce, but campaign text that imitates a slot is refused outright, so no field can
 * smuggle one in (a reviewer would see it literally, members would not).
 */
const RESERVED_MARKER = /%%KK_/i;
const noMarker = (s: string) => !RESERVED_MARKER.test(s);

/** One line of text: no line breaks, since titles and the subject may end up in headers and buttons. */
const line = (max: number, opts: { min?: 0 | 1 } = {}) =>
  singleLine(max, opts).refine(noMarker, msg(MSG.reservedMarker));

/** Plain text with blank-line paragraphs. */
const paragraphs = (max: number) => plainText(max).refine(noMarker, msg(MSG.reservedMarker));

/** Absolute http(s) only: anything else (javascript:, data:, relative) is unsafe or broken in a mail client. */
const httpUrl = z
  .string(msg(MSG.httpUrl))
  .trim()
  .max(2048, msg(MSG.maxLength(2048)))
  .refine((s) => !/\s/.test(s), msg(MSG.noSpaces))
  .refine(noMarker, msg(MSG.reservedMarker))
  .pipe(z.url({ protocol: /^https?$/, ...msg(MSG.httpUrl) }));

const link = strictObject({
  url: httpUrl,
  label: line(80),
});

const commonFields = {
  title: line(200),
  body: paragraphs(5000).optional(),
  link: link.optional(),
};

export const BLOCK_TYPES = ['activity', 'news', 'offer'] as const;

export const activityBlockSchema = strictObject({
  type: z.literal('activity'),
  ...commonFields,
  startsAt: dateTime(),
  location: line(200).optional(),
  imageUrl: httpUrl.optional(),
});

export const newsBlockSchema = strictObject({
  type: z.literal('news'),
  ...commonFields,
  imageUrl: httpUrl.optional(),
});

export const offerBlockSchema = strictObject({
  type: z.literal('offer'),
  ...commonFields,
  code: line(40).optional(),
  validUntil: z.iso.date(msg(MSG.date)).optional(),
});

/** A block's `type` is checked here, so the literals above never fail on their own. */
export const blockSchema = z.discriminatedUnion(
  'type',
  [activityBlockSchema, newsBlockSchema, offerBlockSchema],
  msg(MSG.oneOf(BLOCK_TYPES)),
);

const MAX_BLOCKS = 30;
export const blocksSchema = z
  .array(blockSchema, msg(MSG.list))
  .min(1, msg(MSG.blocksMin))
  .max(MAX_BLOCKS, msg(MSG.blocksMax(MAX_BLOCKS)));

export const newsletterContentSchema = strictObject({
  subject: line(200),
  preheader: line(200, { min: 0 }).optional(),
  blocks: blocksSchema,
});

export type Block = z.infer<typeof blockSchema>;
export type NewsletterContent = z.infer<typeof newsletterContentSchema>;
