import { z } from 'zod';
import { cursorParam, dateTime, limitParam, oneOf, singleLine, strictObject } from '../http/fields';
import { MSG, msg } from '../presentation/messages';
import { SEARCH_WORD_MIN, searchWords } from '../db/search-tokens';
import { SIGNUP_SOURCES, SOURCES, MEMBER_STATUSES } from './member.entity';

/** Trimmed, lower-cased: the club's one identity for a person. */
export const emailSchema = z
  .string(msg(MSG.email))
  .trim()
  .toLowerCase()
  .max(254, msg(MSG.email))
  .pipe(z.email(msg(MSG.email)));

const name = singleLine(100);
const phone = z
  .string(msg(MSG.phone))
  .trim()
  .regex(/^\+?[0-9 ()-]{5,20}$/, msg(MSG.phone))
  .transform((s) => s.replace(/[ ()-]/g, ''));
const ref = singleLine(100);

export const signUpSchema = strictObject({
  email: emailSchema,
  firstName: name.optional(),
  lastName: name.optional(),
  phone: phone.optional(),
  source: oneOf(SIGNUP_SOURCES),
  sourceVersion: singleLine(30).optional(),
  externalId: ref.optional(),
  partnerId: ref.optional(),
  consent: strictObject(
    {
      textVersion: singleLine(50),
      givenAt: dateTime().optional(),
    },
    MSG.consentRequired,
  ),
});
export type SignUpInput = z.infer<typeof signUpSchema>;

/** The profile fields one by one, as a sign-up checks them: an import checks its rows with them (CONTRACT §11). */
export const profileFields = { firstName: name, lastName: name, phone, partnerId: ref, externalId: ref };

export const rectifySchema = strictObject({
  /** A new address: the member is `pending` until it is confirmed (CONTRACT §4); corrects a `bounced` member. */
  email: emailSchema.optional(),
  firstName: name.nullable().optional(),
  lastName: name.nullable().optional(),
  phone: phone.nullable().optional(),
  partnerId: ref.nullable().optional(),
}).refine((v) => Object.keys(v).length > 0, msg(MSG.nothingToChange));
export type RectifyInput = z.infer<typeof rectifySchema>;

export const leaveSchema = strictObject({ channel: oneOf(['app', 'email-request', 'phone']) });
/** `complaint`: the recipient reported a newsletter as spam (CONTRACT §9), handled as leaving. */
export type LeaveChannel = z.infer<typeof leaveSchema>['channel'] | 'link' | 'one-click' | 'complaint';

export const listQuerySchema = strictObject({
  status: oneOf(MEMBER_STATUSES).optional(),
  source: oneOf(SOURCES).optional(),
  partnerId: ref.optional(),
  email: emailSchema.optional(),
  limit: limitParam(500, 50),
  cursor: cursorParam,
});
export type ListQuery = z.infer<typeof listQuerySchema>;

/**
 * The admin's member search: the list's filters and `q`, words matched against the start of the
 * words of a name or address (MembersService.search). Not an API parameter (CONTRACT §4).
 */
export const memberSearchQuerySchema = strictObject({
  ...listQuerySchema.shape,
  q: singleLine(200, { min: 0 })
    .refine(
      (q) => q === '' || searchWords(q).some((w) => [...w].length >= SEARCH_WORD_MIN),
      msg(MSG.searchWordMin(SEARCH_WORD_MIN)),
    )
    .optional(),
});
export type MemberSearchQuery = z.infer<typeof memberSearchQuerySchema>;

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
