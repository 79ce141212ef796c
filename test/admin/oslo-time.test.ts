import {
  isoWeekNumber,
  localInputToIso,
  osloLocalToDate,
  osloWeekStart,
  toLocalInput,
  toOsloIso,
} from '../../src/admin/oslo-time';

describe('Oslo wall-clock time for the forms', () => {
  it('turns a datetime-local value into ISO 8601 with the offset Oslo has that day', () => {
    expect(localInputToIso('2026-12-03T18:00')).toBe('2026-12-03T18:00:00+01:00');
    expect(localInputToIso('2027-06-10T18:30')).toBe('2027-06-10T18:30:00+02:00');
    expect(localInputToIso('2026-12-03T18:00:30')).toBe('2026-12-03T18:00:30+01:00');
  });

  it('handles the changes to and from summer time', () => {
    // 29 March 2026 02:00 → 03:00: 02:30 does not exist and moves an hour on.
    expect(localInputToIso('2026-03-29T01:59')).toBe('2026-03-29T01:59:00+01:00');
    expect(localInputToIso('2026-03-29T02:30')).toBe('2026-03-29T03:30:00+02:00');
    // 25 October 2026 03:00 → 02:00: 02:30 happens twice; the first one is meant.
    expect(localInputToIso('2026-10-25T02:30')).toBe('2026-10-25T02:30:00+02:00');
    expect(localInputToIso('2026-10-25T03:30')).toBe('2026-10-25T03:30:00+01:00');
  });

  it('leaves text that is not a real date-time for the validator to name', () => {
    expect(localInputToIso('2026-02-30T10:00')).toBe('2026-02-30T10:00');
    expect(localInputToIso('i morgen')).toBe('i morgen');
    expect(osloLocalToDate('2026-12-03T24:00')).toBeNull();
  });

  it('shows a stored instant as Oslo wall-clock time, whatever offset it was written with', () => {
    expect(toLocalInput('2026-12-03T18:00:00+01:00')).toBe('2026-12-03T18:00');
    expect(toLocalInput('2026-12-03T17:00:00Z')).toBe('2026-12-03T18:00');
    expect(toLocalInput('2027-06-10T16:30:00Z')).toBe('2027-06-10T18:30');
    expect(toLocalInput(null)).toBe('');
    expect(toOsloIso(new Date('2027-06-10T16:30:00Z'))).toBe('2027-06-10T18:30:00+02:00');
  });

  it('finds the Oslo week: Sunday 23:30 UTC in winter is already Monday in Oslo', () => {
    expect(osloWeekStart(new Date('2026-11-29T22:30:00Z')).toISOString().slice(0, 10)).toBe('2026-11-23');
    expect(osloWeekStart(new Date('2026-11-29T23:30:00Z')).toISOString().slice(0, 10)).toBe('2026-11-30');
    expect(isoWeekNumber(new Date(Date.UTC(2026, 10, 30)))).toBe(49);
    expect(isoWeekNumber(new Date(Date.UTC(2027, 0, 1)))).toBe(53);
    expect(isoWeekNumber(new Date(Date.UTC(2027, 0, 4)))).toBe(1);
  });
});
