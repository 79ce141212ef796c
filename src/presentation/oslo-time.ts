/**
 * Norwegian wall-clock time (Europe/Oslo) for every page and mail. Staff type times in Oslo time
 * while the services take ISO 8601 with an offset (`<input type="datetime-local">` gives
 * `YYYY-MM-DDTHH:MM` with no zone). Texts are assembled from numeric parts and the names below,
 * because ICU's nb-NO patterns vary between versions (separator ":" or ".", "kl." or not).
 */

export const OSLO = 'Europe/Oslo';

/** The one Intl setup: Oslo's calendar date and time of day at an instant, as numbers. */
const partsFormat = new Intl.DateTimeFormat('en-GB', {
  timeZone: OSLO,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
  hourCycle: 'h23',
});

const MONTHS = [
  'januar',
  'februar',
  'mars',
  'april',
  'mai',
  'juni',
  'juli',
  'august',
  'september',
  'oktober',
  'november',
  'desember',
];
/** In the order of Date#getUTCDay (Sunday first). */
const WEEKDAYS = ['søndag', 'mandag', 'tirsdag', 'onsdag', 'torsdag', 'fredag', 'lørdag'];

export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

export function osloWallTime(d: Date): WallTime {
  const p: Record<string, number> = {};
  for (const part of partsFormat.formatToParts(d))
    if (part.type !== 'literal') p[part.type] = Number(part.value);
  return { year: p.year, month: p.month, day: p.day, hour: p.hour, minute: p.minute, second: p.second };
}

/** Minutes Oslo is ahead of UTC at instant `d` (60 in winter, 120 in summer). */
export function osloOffsetMinutes(d: Date): number {
  const w = osloWallTime(d);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(d.getTime() / 1000) * 1000) / 60000);
}

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/;

/**
 * The instant an Oslo wall-clock time denotes, or null when the text is not a real date and time.
 * In the autumn hour that occurs twice the earlier one wins; a time skipped in spring moves forward.
 */
export function osloLocalToDate(local: string): Date | null {
  const m = LOCAL.exec(local.trim());
  if (!m) return null;
  const [year, month, day, hour, minute, second] = m.slice(1).map((s) => Number(s ?? 0));
  const wall = Date.UTC(year, month - 1, day, hour, minute, second);
  const check = new Date(wall);
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return null;
  }
  // The offsets around that day (winter and summer time on a change day); try each, earlier first.
  const offsets = new Set([
    osloOffsetMinutes(new Date(wall - 86400000)),
    osloOffsetMinutes(new Date(wall + 86400000)),
  ]);
  const candidates = [...offsets].map((off) => wall - off * 60000).sort((a, b) => a - b);
  for (const t of candidates) {
    const w = osloWallTime(new Date(t));
    if (Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) === wall) return new Date(t);
  }
  // Skipped in spring (02:30 does not exist): the later candidate lands an hour on.
  return new Date(candidates[candidates.length - 1]);
}

const pad = (n: number, len = 2) => String(Math.abs(n)).padStart(len, '0');

/** `2026-12-03T18:00:00+01:00`: the offset Oslo has at that instant. */
export function toOsloIso(d: Date): string {
  const w = osloWallTime(d);
  const off = osloOffsetMinutes(d);
  const sign = off < 0 ? '-' : '+';
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}:${pad(w.second)}${sign}${pad(Math.trunc(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`;
}

/** datetime-local text (Oslo) → ISO with offset; text that is not a date-time comes back unchanged, for the validator to name. */
export function localInputToIso(local: string): string {
  const d = osloLocalToDate(local);
  return d ? toOsloIso(d) : local;
}

/** An instant or ISO text as Oslo wall-clock time; null when it is not a date-time. */
function wallTimeOf(value: Date | string): WallTime | null {
  const d = value instanceof Date ? value : new Date(value);
  return Number.isNaN(d.getTime()) ? null : osloWallTime(d);
}

/** An instant (or ISO text) → the `YYYY-MM-DDTHH:MM` a datetime-local input shows in Oslo time; '' when unreadable. */
export function toLocalInput(value: Date | string | null | undefined): string {
  if (!value) return '';
  const w = wallTimeOf(value);
  if (!w) return typeof value === 'string' ? value : '';
  return `${w.year}-${pad(w.month)}-${pad(w.day)}T${pad(w.hour)}:${pad(w.minute)}`;
}

/** «kl. 18.00»: the one way a time of day is written. */
const clockText = (w: WallTime) => `kl. ${pad(w.hour)}.${pad(w.minute)}`;
/** «3. desember» */
const dayMonthText = (w: Pick<WallTime, 'day' | 'month'>) => `${w.day}. ${MONTHS[w.month - 1]}`;
const weekdayText = (w: WallTime) => WEEKDAYS[new Date(Date.UTC(w.year, w.month - 1, w.day)).getUTCDay()];

/** Formats in Oslo time; text that is not a date-time is shown as it is. */
const inOslo =
  (text: (w: WallTime) => string) =>
  (value: Date | string): string => {
    const w = wallTimeOf(value);
    if (w) return text(w);
    return typeof value === 'string' ? value : '';
  };

/** «kl. 18.00» */
export const formatClock = inOslo(clockText);

/** «03.12.2026 kl. 18.00» */
export const formatShort = inOslo((w) => `${pad(w.day)}.${pad(w.month)}.${w.year} ${clockText(w)}`);

/** «3. desember 2026 kl. 18.00» */
export const formatLong = inOslo((w) => `${dayMonthText(w)} ${w.year} ${clockText(w)}`);

/** «3. desember 2026» */
export const formatDate = inOslo((w) => `${dayMonthText(w)} ${w.year}`);

/** « 2027» when `year` is not Oslo's year at `now`; nothing without a `now` to compare with. */
const yearUnlessCurrent = (year: number, now: Date | undefined) =>
  now && osloWallTime(now).year !== year ? ` ${year}` : '';

/**
 * `2026-12-03T18:00:00+01:00` → «torsdag 3. desember kl. 18.00», in Oslo time whatever the offset
 * given; with `now`, a date in another year says so («mandag 15. januar 2025 kl. 18.00»).
 */
export function formatActivityTime(iso: string, now?: Date): string {
  const w = wallTimeOf(iso);
  if (!w) throw new RangeError(`Not a date-time: ${iso}`);
  return `${weekdayText(w)} ${dayMonthText(w)}${yearUnlessCurrent(w.year, now)} ${clockText(w)}`;
}

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * `2026-12-24` → «24. desember» (with `now` in another year: «24. desember 2025»). A calendar date
 * has no time zone, so no offset can move it.
 */
export function formatValidUntil(isoDate: string, now?: Date): string {
  const match = CALENDAR_DATE.exec(isoDate);
  const [year, month, day] = (match ?? []).slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  if (!match || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day)
    throw new RangeError(`Not a YYYY-MM-DD date: ${isoDate}`);
  return `${dayMonthText({ month, day })}${yearUnlessCurrent(year, now)}`;
}

/** Oslo's calendar date at `d` as `YYYY-MM-DD` (what `<input type="date">` holds). */
export function osloDateText(d: Date): string {
  const w = osloWallTime(d);
  return `${w.year}-${pad(w.month)}-${pad(w.day)}`;
}

/** Monday 00:00 Oslo time of the ISO week containing `d`, as its Oslo calendar date (UTC midnight of that date). */
export function osloWeekStart(d: Date): Date {
  const w = osloWallTime(d);
  const day = new Date(Date.UTC(w.year, w.month - 1, w.day));
  const weekday = (day.getUTCDay() + 6) % 7; // Monday = 0
  return new Date(day.getTime() - weekday * 86400000);
}

/** ISO 8601 week number of a calendar date given as UTC midnight. */
export function isoWeekNumber(date: Date): number {
  const d = new Date(date.getTime());
  d.setUTCDate(d.getUTCDate() + 3 - ((d.getUTCDay() + 6) % 7)); // Thursday of this week
  const firstThursday = new Date(Date.UTC(d.getUTCFullYear(), 0, 4));
  return (
    1 +
    Math.round(
      (d.getTime() - firstThursday.getTime()) / 86400000 / 7 -
        (3 - ((firstThursday.getUTCDay() + 6) % 7)) / 7,
    )
  );
}
