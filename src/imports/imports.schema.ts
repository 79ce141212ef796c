import { z } from 'zod';
import { oneOf, strictObject } from '../http/fields';
import { MSG, msg } from '../presentation/messages';

export const IMPORT_STATUSES = ['running', 'completed', 'failed', 'interrupted'] as const;
export type ImportStatus = (typeof IMPORT_STATUSES)[number];
export const WITHOUT_CONSENT = ['reject', 'confirm'] as const;
export type WithoutConsent = (typeof WITHOUT_CONSENT)[number];

/** `POST /v1/imports?dryRun=&withoutConsent=` (CONTRACT §11). */
export const importQuerySchema = strictObject({
  dryRun: z
    .enum(['true', 'false'], msg(MSG.boolean))
    .default('false')
    .transform((v) => v === 'true'),
  withoutConsent: oneOf(WITHOUT_CONSENT).default('reject'),
});
export type ImportQuery = z.infer<typeof importQuerySchema>;

const count = z.number().int();

/** The report of an import (CONTRACT §11), the same while it runs and after; a dry run's has no id. */
export const importViewSchema = z.object({
  id: z.number().int().nullable(),
  status: z.enum(IMPORT_STATUSES),
  dryRun: z.boolean(),
  withoutConsent: z.enum(WITHOUT_CONSENT),
  /** Data rows read so far (blank rows and the header not counted). */
  rows: count,
  created: count.describe('new active members, with consent evidence'),
  pending: count.describe('new pending members, sent the confirmation mail (withoutConsent=confirm)'),
  unchanged: count.describe('already members: never changed'),
  skipped: z.object({
    suppressed: count,
    unsubscribed: count,
    restricted: count,
    bounced: count,
    invalid: count.describe(
      'rows with an error (listed), and rows without consent evidence when withoutConsent=reject',
    ),
    duplicate: count.describe('the address again in the same file: the first row wins'),
  }),
  errors: z
    .array(z.object({ row: z.number().int(), path: z.string(), message: z.string() }))
    .describe('the first 100 row errors; `row` counts every row of the file, the header being row 1'),
  ignoredColumns: z.array(z.string()).describe('header columns the import does not know, ignored'),
  sha256: z.string(),
  size: count.describe('bytes'),
  progress: z.number().describe('share of the file read, 0 to 1'),
  failure: z.string().nullable().describe('why a failed or interrupted import stopped'),
  createdAt: z.string().describe('ISO 8601 date-time, UTC'),
  finishedAt: z.string().nullable(),
});
export type ImportView = z.infer<typeof importViewSchema>;
export type ImportCounts = Pick<ImportView, 'rows' | 'created' | 'pending' | 'unchanged' | 'skipped'>;

export const emptyCounts = (): ImportCounts => ({
  rows: 0,
  created: 0,
  pending: 0,
  unchanged: 0,
  skipped: { suppressed: 0, unsubscribed: 0, restricted: 0, bounced: 0, invalid: 0, duplicate: 0 },
});
