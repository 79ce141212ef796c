import { z } from 'zod';
import { limitParam, oneOf, singleLine, strictObject } from '../http/fields';
import { MSG, msg } from '../presentation/messages';
import { EVENT_TYPES } from './event-log';

/** `after` of the feed: the sequence the previous page ended at (0 = from the start). */
export const feedQuerySchema = strictObject({
  after: z
    .string(msg(MSG.cursor))
    .regex(/^[0-9]{1,15}$/, msg(MSG.cursor))
    .transform(Number)
    .default(0),
  limit: limitParam(1000, 100),
});
export type FeedQuery = z.infer<typeof feedQuerySchema>;

/** Absolute http(s) only; https is required in production (checked by the service, which knows). */
const endpointUrl = z
  .string(msg(MSG.httpUrl))
  .trim()
  .max(2000, msg(MSG.maxLength(2000)))
  .refine((s) => !/\s/.test(s), msg(MSG.noSpaces))
  .pipe(z.url({ protocol: /^https?$/, ...msg(MSG.httpUrl) }));

const eventList = z
  .array(oneOf(EVENT_TYPES), msg(MSG.list))
  .min(1, msg(MSG.eventsMin))
  .max(EVENT_TYPES.length, msg(MSG.eventsMax(EVENT_TYPES.length)));

export const createWebhookSchema = strictObject({
  url: endpointUrl,
  events: eventList,
  sources: z
    .array(singleLine(30), msg(MSG.list))
    .min(1, msg(MSG.list))
    .max(20, msg(MSG.sourcesMax(20)))
    .optional(),
});
export type CreateWebhookInput = z.infer<typeof createWebhookSchema>;
