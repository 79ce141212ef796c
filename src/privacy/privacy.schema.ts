import { z } from 'zod';
import { dateTime, limitParam, oneOf, plainText, singleLine, strictObject } from '../http/fields';
import { MSG, msg } from '../presentation/messages';
import { emailSchema } from '../members/members.schema';
import { REQUEST_OUTCOMES, REQUEST_TYPES } from './privacy-request.entity';

export const restrictSchema = strictObject({
  restricted: z.boolean(msg(MSG.boolean)),
});

const note = plainText(2000).min(1, msg(MSG.required));

export const createRequestSchema = strictObject({
  type: oneOf(REQUEST_TYPES),
  email: emailSchema,
  receivedAt: dateTime(),
  /** How it arrived: `email`, `phone`, `letter`, … (free text, short). */
  channel: z
    .string(msg(MSG.channel))
    .trim()
    .min(1, msg(MSG.required))
    .max(30, msg(MSG.maxLength(30)))
    .regex(/^[a-z0-9-]+$/, msg(MSG.channel)),
  note: note.optional(),
});
export type CreateRequestInput = z.infer<typeof createRequestSchema>;

export const updateRequestSchema = strictObject({
  status: z.literal('done', msg(MSG.literal('done'))).optional(),
  note: note.nullable().optional(),
  outcome: singleLine(200).nullable().optional(),
  /** Closing an erasure request with `erase: true` erases the member with that address. */
  erase: z.literal(true, msg(MSG.literal(true))).optional(),
})
  .refine((v) => Object.keys(v).length > 0, msg(MSG.nothingToChange))
  .refine((v) => !v.erase || v.status === 'done', { ...msg(MSG.eraseNeedsDone), path: ['erase'] });
export type UpdateRequestInput = z.infer<typeof updateRequestSchema>;

/** Closing a request in the admin: the outcome is required, one of the codes staff choose from. */
export const closeRequestSchema = strictObject({
  status: z.literal('done', msg(MSG.literal('done'))),
  outcome: z.enum(REQUEST_OUTCOMES, msg(MSG.outcome)),
  note: note.optional(),
});

export const listRequestsQuerySchema = strictObject({
  open: oneOf(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: limitParam(500, 100),
});
export type ListRequestsQuery = z.infer<typeof listRequestsQuerySchema>;
