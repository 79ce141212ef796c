import { z } from 'zod';
import { singleLine } from '../http/fields';
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
  limit: z.coerce.number().int().min(1).max(500).default(50),
  cursor: z
    .string()
    .regex(/^[0-9]{1,10}$/, { message: 'invalid cursor' })
    .transform(Number)
    .optional(),
});
export type ListQuery = z.infer<typeof listQuerySchema>;
