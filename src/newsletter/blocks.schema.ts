import { z } from 'zod';
import { plainText, singleLine } from '../http/fields';

/** Newsletter content as marketing writes it (CONTRACT §5). Everything here is later HTML-escaped. */

/**
 * The renderer's per-recipient slots look like `%%KK_<nonce>_UNSUB%%`. The renderer only fills
 * its own nonce, but campaign text that imitates a slot is refused outright, so no field can
 * smuggle one in (a reviewer would see it literally, members would not).
 */
const RESERVED_MARKER = /%%KK_/i;
export const RESERVED_MARKER_MESSAGE = 'must not contain the reserved text %%KK_';
const noMarker = (s: string) => !RESERVED_MARKER.test(s);

/** One line of text: no line breaks, since titles and the subject may end up in headers and buttons. */
const line = (max: number, opts: { min?: 0 | 1 } = {}) =>
  singleLine(max, opts).refine(noMarker, { error: RESERVED_MARKER_MESSAGE });

/** Plain text with blank-line paragraphs. */
const paragraphs = (max: number) => plainText(max).refine(noMarker, { error: RESERVED_MARKER_MESSAGE });

/** Absolute http(s) only: anything else (javascript:, data:, relative) is unsafe or broken in a mail client. */
const httpUrl = z
  .string()
  .trim()
  .max(2048, { error: 'must be at most 2048 characters' })
  .refine((s) => !/\s/.test(s), { error: 'must not contain spaces' })
  .refine(noMarker, { error: RESERVED_MARKER_MESSAGE })
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an absolute http: or https: URL' }));

const link = z.strictObject({
  url: httpUrl,
  label: line(80),
});

const commonFields = {
  title: line(200),
  body: paragraphs(5000).optional(),
  link: link.optional(),
};

export const activityBlockSchema = z.strictObject({
  type: z.literal('activity'),
  ...commonFields,
  startsAt: z.iso.datetime({
    offset: true,
    error: 'must be an ISO 8601 date-time with offset, e.g. 2026-12-03T18:00:00+01:00',
  }),
  location: line(200).optional(),
  imageUrl: httpUrl.optional(),
});

export const newsBlockSchema = z.strictObject({
  type: z.literal('news'),
  ...commonFields,
  imageUrl: httpUrl.optional(),
});

export const offerBlockSchema = z.strictObject({
  type: z.literal('offer'),
  ...commonFields,
  code: line(40).optional(),
  validUntil: z.iso.date({ error: 'must be a real date as YYYY-MM-DD, e.g. 2026-12-24' }).optional(),
});

export const blockSchema = z.discriminatedUnion(
  'type',
  [activityBlockSchema, newsBlockSchema, offerBlockSchema],
  {
    error: 'must be one of activity, news, offer',
  },
);

export const blocksSchema = z
  .array(blockSchema)
  .min(1, { error: 'must have at least 1 block' })
  .max(30, { error: 'must have at most 30 blocks' });

export const newsletterContentSchema = z.strictObject({
  subject: line(200),
  preheader: line(200, { min: 0 }).optional(),
  blocks: blocksSchema,
});

export type Block = z.infer<typeof blockSchema>;
export type NewsletterContent = z.infer<typeof newsletterContentSchema>;
