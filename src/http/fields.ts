import { z } from 'zod';
import { MSG, msg, type Message } from '../presentation/messages';

/**
 * Fields every schema shares, each failing with a message from the catalogue. Control characters
 * (CR/LF, NUL, ESC, …) and the bidi overrides and isolates (U+202A–U+202E, U+2066–U+2069) are
 * refused: stored, they break header lines and log lines, and make a name display as something
 * other than it is («Kari\u202Eon»).
 */
const UNSAFE_IN_LINE = /[\p{Cc}\u202A-\u202E\u2066-\u2069]/u;
const LINE_BREAK_OR_TAB = /[\n\r\t]/g;

export function isSafeLine(value: string): boolean {
  return !UNSAFE_IN_LINE.test(value);
}

/** A trimmed string of at most `max` characters. */
const text = (max: number) =>
  z
    .string(msg(MSG.text))
    .trim()
    .max(max, msg(MSG.maxLength(max)));

/** One trimmed line of 1..max characters (min 0 allows empty, for optional form fields). */
export function singleLine(max: number, opts: { min?: 0 | 1 } = {}) {
  const line = opts.min === 0 ? text(max) : text(max).min(1, msg(MSG.required));
  return line.refine(isSafeLine, msg(MSG.singleLine));
}

/** Multi-line plain text: line breaks and tabs allowed, other control and bidi characters not. */
export function plainText(max: number) {
  return text(max).refine((s) => isSafeLine(s.replace(LINE_BREAK_OR_TAB, '')), msg(MSG.plainText));
}

/** One of `values` (a code list), which the message names. */
export const oneOf = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, msg(MSG.oneOf(values)));

/** ISO 8601 date-time with an offset, e.g. `2026-12-03T18:00:00+01:00`. */
export const dateTime = () => z.iso.datetime({ offset: true, ...msg(MSG.dateTime) });

/**
 * An object that refuses unknown fields and names them (the text the API's validator gives them;
 * not in the catalogue, since the names are the client's). Anything not an object gets `m`.
 */
export const strictObject = <T extends z.core.$ZodLooseShape>(shape: T, m: Message = MSG.object) =>
  z.strictObject(shape, {
    error: (issue) =>
      issue.code === 'unrecognized_keys' ? `unknown field(s): ${issue.keys.join(', ')}` : m.en,
  });

/** `cursor` of a keyset-paginated list: the id the previous page ended at. */
export const cursorParam = z
  .string(msg(MSG.cursor))
  .regex(/^[0-9]{1,10}$/, msg(MSG.cursor))
  .transform(Number)
  .optional();

/** `limit` of a list, 1..max. */
export const limitParam = (max: number, fallback: number) => {
  const wholeNumber = msg(MSG.wholeNumber(1, max));
  return z.coerce
    .number(wholeNumber)
    .int(wholeNumber)
    .min(1, wholeNumber)
    .max(max, wholeNumber)
    .default(fallback);
};
