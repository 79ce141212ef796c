import { z } from 'zod';
import { cursorParam, limitParam, singleLine } from '../http/fields';
import { SOURCES, MEMBER_STATUSES } from './member.entity';

/** Trimmed, lower-cased: the club's one identity for a person. */
export const emailSchema = z
  .string()
  .trim()
  .toLowerCase()
  .max(254)
  .pipe(z.email({ message: 'must be a valid e-mail address' }));

const name = singleLine(100);
const phone = z
  .string()
  .trim()
  .regex(/^\+?[0-9 ()-]{5,20}$/, { message: 'must be a phone number like +4791234567' })
  .transform((s) => s.replace(/[ ()-]/g, ''));
const ref = singleLine(100);

export const signUpSchema = z.strictObject({
  email: emailSchema,
  firstName: name.optional(),
  lastName: name.optional(),
  phone: phone.optional(),
  source: z.enum(SOURCES),
  sourceVersion: singleLine(30).optional(),
  externalId: ref.optional(),
  partnerId: ref.optional(),
  consent: z.strictObject(
    {
      textVersion: singleLine(50),
      givenAt: z.iso.datetime({ offset: true }).optional(),
    },
    { message: 'consent is required: { textVersion, givenAt? }' },
  ),
});
export type SignUpInput = z.infer<typeof signUpSchema>;

export const rectifySchema = z
  .strictObject({
    firstName: name.nullable().optional(),
    lastName: name.nullable().optional(),
    phone: phone.nullable().optional(),
    partnerId: ref.nullable().optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' });
export type RectifyInput = z.infer<typeof rectifySchema>;

export const leaveSchema = z.strictObject({
  channel: z.enum(['app', 'email-request', 'phone']),
});
export type LeaveChannel = z.infer<typeof leaveSchema>['channel'] | 'link' | 'one-click';

export const listQuerySchema = z.strictObject({
  status: z.enum(MEMBER_STATUSES).optional(),
  source: z.enum(SOURCES).optional(),
  partnerId: ref.optional(),
  email: emailSchema.optional(),
  limit: limitParam(500, 50),
  cursor: cursorParam,
});
export type ListQuery = z.infer<typeof listQuerySchema>;

const isoTime = z.string().describe('ISO 8601 date-time, UTC');

/** A member as the API shows it (CONTRACT §4); a member who left keeps only id, status and times. */
export const memberViewSchema = z.object({
  id: z.number().int(),
  email: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  phone: z.string().nullable(),
  source: z.enum(SOURCES),
  sourceVersion: z.string().nullable(),
  externalId: z.string().nullable(),
  partnerId: z.string().nullable(),
  status: z.enum(MEMBER_STATUSES),
  createdAt: isoTime,
  updatedAt: isoTime,
  confirmedAt: isoTime.nullable(),
  leftAt: isoTime.nullable(),
});
export type MemberView = z.infer<typeof memberViewSchema>;
