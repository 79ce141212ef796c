import { z } from 'zod';
import { AppError, type FieldError } from '../errors';
import { isSafeLine, singleLine } from '../http/fields';
import { zodErrors } from '../http/validate';
import { MSG } from '../presentation/messages';
import { osloLocalToDate } from '../presentation/oslo-time';
import type { ConsentTexts } from '../members/consent-texts';
import type { ImportMemberRow } from '../members/members.service';
import { emailSchema, profileFields } from '../members/members.schema';

/**
 * The columns of an import file and the check of each row (CONTRACT §11), pure: the header maps
 * the known columns (case, spaces, `-` and `_` do not matter: «First name» is firstName) and lists
 * the others, which are ignored; each row is checked with the sign-up's own field rules, and its
 * consent evidence with the consent texts the service knows.
 */

export const IMPORT_COLUMNS = [
  'email',
  'firstName',
  'lastName',
  'phone',
  'partnerId',
  'externalId',
  'consentTextVersion',
  'consentGivenAt',
] as const;
export type ImportColumn = (typeof IMPORT_COLUMNS)[number];

export interface ImportHeader {
  /** The row the header is on (blank rows may come first). */
  row: number;
  index: Partial<Record<ImportColumn, number>>;
  /** Unknown column names, as written (trimmed), in file order. */
  ignored: string[];
}

const fold = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
const BY_FOLDED = new Map<string, ImportColumn>(IMPORT_COLUMNS.map((c) => [fold(c), c]));

const headerProblem = (type: string, detail: string, errors: FieldError[] = []) =>
  new AppError(422, type, 'Unreadable file', detail, errors);

/** The header row → column positions. 422 without an `email` column, or with a column twice. */
export function readHeader(row: number, fields: string[]): ImportHeader {
  const index: Partial<Record<ImportColumn, number>> = {};
  const ignored: string[] = [];
  // A first row holding an address is data, not a header; never echo it.
  if (fields.some((f) => f.includes('@')))
    throw headerProblem(
      'no-header',
      `Row ${row} holds an e-mail address: the file needs a header row first (email;firstName;…)`,
      [{ path: 'email', message: 'the first row must name the columns' }],
    );
  fields.forEach((raw, i) => {
    const name = raw.trim();
    const column = BY_FOLDED.get(fold(name));
    if (column === undefined) {
      if (name !== '') ignored.push(isSafeLine(name) ? name.slice(0, 100) : `(column ${i + 1})`);
      return;
    }
    if (index[column] !== undefined)
      throw headerProblem('duplicate-column', `The header names ${column} twice`, [
        { path: column, message: 'appears twice in the header' },
      ]);
    index[column] = i;
  });
  if (index.email === undefined)
    throw headerProblem('no-email-column', 'The header has no email column', [
      { path: 'email', message: 'the header must have an email column' },
    ]);
  return { row, index, ignored };
}

export const isBlankRow = (fields: string[]) => fields.every((f) => f.trim() === '');

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const ISO_DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
/** `24.12.2025`, `24.12.2025 10:30`, `24.12.2025 kl. 10.30`. */
const NORWEGIAN =
  /^(\d{1,2})\.(\d{1,2})\.(\d{4})(?:[ T]+(?:kl\.?\s*)?(\d{1,2})[:.](\d{2})(?:[:.](\d{2}))?)?$/i;

const pad = (n: string | number) => String(n).padStart(2, '0');

function isRealDate(y: number, m: number, d: number): boolean {
  const t = new Date(Date.UTC(y, m - 1, d));
  return t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 && t.getUTCDate() === d;
}

/**
 * A consent time as spreadsheets write it: ISO (`2025-12-24`, `2025-12-24T10:30:00Z`, with an
 * offset) or Norwegian (`24.12.2025`, with a time or not). Without an offset it is Oslo time; a
 * date alone is its first minute. Null when it is not a real date and time.
 */
export function parseConsentTime(text: string): Date | null {
  // A file repeats its dates: the Oslo offset lookup (Intl) is done once per distinct text.
  const key = text.trim();
  if (TIMES.has(key)) return TIMES.get(key)!;
  if (TIMES.size >= 10_000) TIMES.clear();
  const t = parseTime(key);
  TIMES.set(key, t);
  return t;
}

const TIMES = new Map<string, Date | null>();

function parseTime(s: string): Date | null {
  let m = ISO_DATE.exec(s);
  if (m) return osloLocalToDate(`${m[1]}-${m[2]}-${m[3]}T00:00`);
  m = NORWEGIAN.exec(s);
  if (m) {
    const local = `${m[3]}-${pad(m[2])}-${pad(m[1])}T${pad(m[4] ?? 0)}:${m[5] ?? '00'}:${m[6] ?? '00'}`;
    return osloLocalToDate(local);
  }
  m = ISO_DATE_TIME.exec(s);
  if (!m) return null;
  const [y, mo, d, h, mi, sec] = [m[1], m[2], m[3], m[4], m[5], m[6] ?? '0'].map(Number);
  if (!isRealDate(y, mo, d) || h > 23 || mi > 59 || sec > 59) return null;
  const zone = m[8];
  if (!zone) return osloLocalToDate(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${pad(sec)}`);
  const ms = Number((m[7] ?? '0').padEnd(3, '0').slice(0, 3));
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes =
      (zone[0] === '-' ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || 0));
  }
  return new Date(Date.UTC(y, mo - 1, d, h, mi, sec, ms) - offsetMinutes * 60_000);
}

const rowSchema = z.object({
  email: emailSchema,
  firstName: profileFields.firstName.optional(),
  lastName: profileFields.lastName.optional(),
  phone: profileFields.phone.optional(),
  partnerId: profileFields.partnerId.optional(),
  externalId: profileFields.externalId.optional(),
  consentTextVersion: singleLine(50).optional(),
  consentGivenAt: singleLine(50).optional(),
});

export type RowCheck = { ok: true; row: ImportMemberRow } | { ok: false; errors: FieldError[] };

/** Checks one row: the member it makes, or every reason it cannot (each with its column). */
export function checkRow(
  r: { row: number; fields: string[] },
  header: ImportHeader,
  o: { consentTexts: ConsentTexts; now: Date; withoutConsent: 'reject' | 'confirm' },
): RowCheck {
  // An empty cell is an absent value, as an empty form field.
  const values: Partial<Record<ImportColumn, string>> = {};
  for (const column of IMPORT_COLUMNS) {
    const i = header.index[column];
    const v = i === undefined ? undefined : r.fields[i];
    if (v !== undefined && v.trim() !== '') values[column] = v;
  }
  const parsed = rowSchema.safeParse(values);
  if (!parsed.success) return { ok: false, errors: zodErrors(parsed.error) };
  const v = parsed.data;
  const errors: FieldError[] = [];
  let consent: ImportMemberRow['consent'] = null;
  if (v.consentTextVersion !== undefined && !o.consentTexts.get(v.consentTextVersion))
    errors.push({
      path: 'consentTextVersion',
      message: MSG.consentTextVersion(o.consentTexts.versions()).en,
    });
  if (v.consentGivenAt !== undefined) {
    const givenAt = parseConsentTime(v.consentGivenAt);
    if (!givenAt) errors.push({ path: 'consentGivenAt', message: MSG.consentTime.en });
    else if (givenAt.getTime() > o.now.getTime())
      errors.push({ path: 'consentGivenAt', message: MSG.notInFuture.en });
    else if (v.consentTextVersion === undefined)
      errors.push({ path: 'consentTextVersion', message: MSG.consentVersionNeeded.en });
    else consent = { textVersion: v.consentTextVersion, givenAt };
  } else if (v.consentTextVersion !== undefined) {
    errors.push({ path: 'consentGivenAt', message: MSG.consentTimeNeeded.en });
  } else if (o.withoutConsent === 'reject') {
    errors.push({ path: 'consentTextVersion', message: MSG.consentEvidenceMissing.en });
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    row: {
      row: r.row,
      email: v.email,
      firstName: v.firstName ?? null,
      lastName: v.lastName ?? null,
      phone: v.phone ?? null,
      partnerId: v.partnerId ?? null,
      externalId: v.externalId ?? null,
      consent,
    },
  };
}
