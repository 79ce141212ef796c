import { z } from 'zod';
import { limitParam, plainText, singleLine } from '../http/fields';
import { emailSchema } from '../members/members.schema';
import { REQUEST_TYPES } from './privacy-request.entity';

export const restrictSchema = z.strictObject({
  restricted: z.boolean(),
});

const note = plainText(2000).min(1, { error: 'must not be empty' });

export const createRequestSchema = z.strictObject({
  type: z.enum(REQUEST_TYPES),
  email: emailSchema,
  receivedAt: z.iso.datetime({ offset: true }),
  /** How it arrived: `email`, `phone`, `letter`, … (free text, short). */
  channel: z
    .string()
    .trim()
    .min(1)
    .max(30)
    .regex(/^[a-z0-9-]+$/, { message: 'must be a short word like email, phone or letter' }),
  note: note.optional(),
});
export type CreateRequestInput = z.infer<typeof createRequestSchema>;

export const updateRequestSchema = z
  .strictObject({
    status: z.literal('done').optional(),
    note: note.nullable().optional(),
    outcome: singleLine(200).nullable().optional(),
    /** Closing an erasure request with `erase: true` erases the member with that address. */
    erase: z.literal(true).optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to change' })
  .refine((v) => !v.erase || v.status === 'done', {
    message: 'erase: true needs status "done"',
    path: ['erase'],
  });
export type UpdateRequestInput = z.infer<typeof updateRequestSchema>;

export const listRequestsQuerySchema = z.strictObject({
  open: z
    .enum(['true', 'false'])
    .transform((v) => v === 'true')
    .optional(),
  limit: limitParam(500, 100),
});
export type ListRequestsQuery = z.infer<typeof listRequestsQuerySchema>;
