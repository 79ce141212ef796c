/**
 * Norwegian (bokmål) dates for newsletters. Parts are assembled by hand because ICU's
 * nb-NO pattern varies between versions (separator ":" vs ".", "kl." or not).
 */

const activityFormat = new Intl.DateTimeFormat('nb-NO', {
  timeZone: 'Europe/Oslo',
  weekday: 'long',
  day: 'numeric',
  month: 'long',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

// A calendar date has no time zone: format it at UTC noon so no offset can move it to another day.
const calendarDateFormat = new Intl.DateTimeFormat('nb-NO', {
  timeZone: 'UTC',
  day: 'numeric',
  month: 'long',
});

const CALENDAR_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

type PartName = 'weekday' | 'day' | 'month' | 'hour' | 'minute';

function partsOf(format: Intl.DateTimeFormat, date: Date): Record<PartName, string> {
  const parts = { weekday: '', day: '', month: '', hour: '', minute: '' };
  for (const part of format.formatToParts(date)) {
    if (part.type in parts) parts[part.type as PartName] = part.value.toLocaleLowerCase('nb-NO');
  }
  return parts;
}

/** `2026-12-03T18:00:00+01:00` → «torsdag 3. desember kl. 18.00», in Oslo time whatever the offset given. */
export function formatActivityTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) throw new RangeError(`Not a date-time: ${iso}`);
  const p = partsOf(activityFormat, date);
  return `${p.weekday} ${p.day}. ${p.month} kl. ${p.hour}.${p.minute}`;
}

/** `2026-12-24` → «24. desember». */
export function formatValidUntil(isoDate: string): string {
  const match = CALENDAR_DATE.exec(isoDate);
  if (!match) throw new RangeError(`Not a YYYY-MM-DD date: ${isoDate}`);
  const [year, month, day] = match.slice(1).map(Number);
  const p = partsOf(calendarDateFormat, new Date(Date.UTC(year, month - 1, day, 12)));
  return `${p.day}. ${p.month}`;
}
