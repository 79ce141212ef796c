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

/** The longest each field may be, in characters: the admin form shows the same limits with a counter. */
export const LIMITS = {
  subject: 200,
  preheader: 200,
  title: 200,
  body: 5000,
  location: 200,
  code: 40,
  linkLabel: 80,
  url: 2048,
} as const;

/** One line of text: no line breaks, since titles and the subject may end up in headers and buttons. */
const line = (max: number, opts: { min?: 0 | 1 } = {}) =>
  singleLine(max, opts).refine(noMarker, msg(MSG.reservedMarker));

/** Plain text with blank-line paragraphs. */
const paragraphs = (max: number) => plainText(max).refine(noMarker, msg(MSG.reservedMarker));

/**
 * Absolute https only: javascript:, data: and relative links are unsafe or broken in a mail client,
 * and an http: link or image is shown as insecure (or blocked) by browsers and mail clients.
 */
const httpsUrl = z
  .string(msg(MSG.httpsUrl))
  .trim()
  .max(LIMITS.url, msg(MSG.maxLength(LIMITS.url)))
  .refine((s) => !/\s/.test(s), msg(MSG.noSpaces))
  .refine(noMarker, msg(MSG.reservedMarker))
  .pipe(z.url({ protocol: /^https$/, ...msg(MSG.httpsUrl) }));

const link = strictObject({
  url: httpsUrl,
  label: line(LIMITS.linkLabel),
});

const commonFields = {
  title: line(LIMITS.title),
  body: paragraphs(LIMITS.body).optional(),
  link: link.optional(),
};

export const BLOCK_TYPES = ['activity', 'news', 'offer'] as const;

export const activityBlockSchema = strictObject({
  type: z.literal('activity'),
  ...commonFields,
  startsAt: dateTime(),
  location: line(LIMITS.location).optional(),
  imageUrl: httpsUrl.optional(),
});

export const newsBlockSchema = strictObject({
  type: z.literal('news'),
  ...commonFields,
  imageUrl: httpsUrl.optional(),
});

export const offerBlockSchema = strictObject({
  type: z.literal('offer'),
  ...commonFields,
  code: line(LIMITS.code).optional(),
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
  subject: line(LIMITS.subject),
  preheader: line(LIMITS.preheader, { min: 0 }).optional(),
  blocks: blocksSchema,
});

export type Block = z.infer<typeof blockSchema>;
export type NewsletterContent = z.infer<typeof newsletterContentSchema>;
