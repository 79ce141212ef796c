import { z } from 'zod';

/**
 * Text fields every schema shares. Control characters (CR/LF, NUL, ESC, …) and the bidi
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069) are refused: stored, they break header
 * lines and log lines, and make a name display as something other than it is («Kari\u202Eon»).
 */
const UNSAFE_IN_LINE = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
const LINE_BREAK_OR_TAB = /[\n\r\t]/g;

export const SINGLE_LINE_MESSAGE = 'must be a single line without control characters';
export const PLAIN_TEXT_MESSAGE = 'must not contain control characters';

export function isSafeLine(value: string): boolean {
  return !UNSAFE_IN_LINE.test(value);
}

/** One trimmed line of 1..max characters (min 0 allows empty, for optional form fields). */
export function singleLine(max: number, opts: { min?: 0 | 1 } = {}) {
  const trimmed = z.string().trim();
  return (opts.min === 0 ? trimmed : trimmed.min(1, { error: 'must not be empty' }))
    .max(max, { error: `must be at most ${max} characters` })
    .refine(isSafeLine, { error: SINGLE_LINE_MESSAGE });
}

/** Multi-line plain text: line breaks and tabs allowed, other control and bidi characters not. */
export function plainText(max: number) {
  return z
    .string()
    .trim()
    .max(max, { error: `must be at most ${max} characters` })
    .refine((s) => isSafeLine(s.replace(LINE_BREAK_OR_TAB, '')), { error: PLAIN_TEXT_MESSAGE });
}

/** `cursor` of a keyset-paginated list: the id the previous page ended at. */
export const cursorParam = z
  .string()
  .regex(/^[0-9]{1,10}$/, { message: 'invalid cursor' })
  .transform(Number)
  .optional();

/** `limit` of a list, 1..max. */
export const limitParam = (max: number, fallback: number) =>
  z.coerce.number().int().min(1).max(max).default(fallback);
