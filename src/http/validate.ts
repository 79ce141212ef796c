import type { RequestHandler } from 'express';
import { z } from 'zod';
import { AppError, type FieldError } from '../errors';

export function zodErrors(error: z.ZodError): FieldError[] {
  return error.issues.map((i) => ({
    path: i.path.map(String).join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${i.keys.join(', ')}` : i.message,
  }));
}

/**
 * Validates a body with a strict zod schema. Unknown fields (and a wrong JSON shape) are 400;
 * values that are well-formed but unacceptable are 422, per CONTRACT §3-4.
 */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const errors = zodErrors(result.error);
  const structural = result.error.issues.some(
    (i) => i.code === 'unrecognized_keys' || (i.code === 'invalid_type' && i.path.length === 0),
  );
  if (structural)
    throw new AppError(
      400,
      'bad-request',
      'Bad request',
      'The body has unknown fields or the wrong shape',
      errors,
    );
  throw new AppError(422, 'validation', 'Validation failed', 'Some fields are invalid', errors);
}

export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  const result = schema.safeParse(query ?? {});
  if (result.success) return result.data;
  throw new AppError(
    400,
    'bad-query',
    'Bad query',
    'Some query parameters are invalid',
    zodErrors(result.error),
  );
}

/** Route params that are numeric ids; anything else is a 404, not a 500. */
export function idParam(value: string | string[] | undefined, what: string): number {
  const s = Array.isArray(value) ? value[0] : value;
  if (!s || !/^[1-9][0-9]{0,9}$/.test(s) || Number(s) > 2147483647)
    throw new AppError(404, 'not-found', 'Not found', `${what} not found`);
  return Number(s);
}

export function handler(fn: (...args: Parameters<RequestHandler>) => Promise<unknown>): RequestHandler {
  return (req, res, next) => {
    fn(req, res, next).catch(next);
  };
}
