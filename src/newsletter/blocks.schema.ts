import { z } from 'zod';

/** Newsletter content as marketing writes it (CONTRACT §5). Everything here is later HTML-escaped. */

const CONTROL_CHARACTER = /\p{Cc}/u;
const LINE_BREAK_OR_TAB = /[\n\r\t]/g;

/** One line of text: no line breaks, since titles and the subject may end up in headers and buttons. */
const singleLine = (max: number) =>
  z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => !CONTROL_CHARACTER.test(s), { error: 'must be a single line without control characters' });

/** Plain text with blank-line paragraphs. */
const plainText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => !CONTROL_CHARACTER.test(s.replace(LINE_BREAK_OR_TAB, '')), {
      error: 'must not contain control characters',
    });

/** Absolute http(s) only: anything else (javascript:, data:, relative) is unsafe or broken in a mail client. */
const httpUrl = z
  .string()
  .trim()
  .max(2048, { error: 'must be at most 2048 characters' })
  .refine((s) => !/\s/.test(s), { error: 'must not contain spaces' })
  .pipe(z.url({ protocol: /^https?$/, error: 'must be an absolute http: or https: URL' }));

const link = z.strictObject({
  url: httpUrl,
  label: singleLine(80),
});

const commonFields = {
  title: singleLine(200),
  body: plainText(5000).optional(),
  link: link.optional(),
};

export const activityBlockSchema = z.strictObject({
  type: z.literal('activity'),
  ...commonFields,
  startsAt: z.iso.datetime({
    offset: true,
    error: 'must be an ISO 8601 date-time with offset, e.g. 2026-12-03T18:00:00+01:00',
  }),
  location: singleLine(200).optional(),
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
  code: singleLine(40).optional(),
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
  subject: singleLine(200),
  preheader: z
    .string()
    .trim()
    .max(200, { error: 'must be at most 200 characters' })
    .refine((s) => !CONTROL_CHARACTER.test(s), { error: 'must be a single line without control characters' })
    .optional(),
  blocks: blocksSchema,
});

export type Block = z.infer<typeof blockSchema>;
export type ActivityBlock = z.infer<typeof activityBlockSchema>;
export type NewsBlock = z.infer<typeof newsBlockSchema>;
export type OfferBlock = z.infer<typeof offerBlockSchema>;
export type NewsletterContent = z.infer<typeof newsletterContentSchema>;
