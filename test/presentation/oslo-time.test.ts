import {
  formatActivityTime,
  formatDate,
  formatLong,
  formatShort,
  formatValidUntil,
  isoWeekNumber,
  localInputToIso,
  osloLocalToDate,
  osloWeekStart,
  toLocalInput,
  toOsloIso,
} from '../../src/presentation/oslo-time';

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

describe('formatActivityTime', () => {
  it('formats in Oslo time with weekday, day, month and kl. HH.MM', () => {
    // 3 December 2026 is a Thursday.
    expect(formatActivityTime('2026-12-03T18:00:00+01:00')).toBe('torsdag 3. desember kl. 18.00');
  });

  it('converts other offsets to Oslo time', () => {
    expect(formatActivityTime('2026-12-03T17:00:00Z')).toBe('torsdag 3. desember kl. 18.00');
    expect(formatActivityTime('2026-07-01T22:05:00Z')).toBe('torsdag 2. juli kl. 00.05');
  });

  it('uses summer time after the spring change (2026-03-29 01:00 UTC)', () => {
    expect(formatActivityTime('2026-03-29T00:30:00Z')).toBe('søndag 29. mars kl. 01.30');
    expect(formatActivityTime('2026-03-29T01:30:00Z')).toBe('søndag 29. mars kl. 03.30');
  });

  it('uses winter time after the autumn change (2026-10-25 01:00 UTC)', () => {
    expect(formatActivityTime('2026-10-25T00:30:00Z')).toBe('søndag 25. oktober kl. 02.30');
    expect(formatActivityTime('2026-10-25T01:30:00Z')).toBe('søndag 25. oktober kl. 02.30');
    expect(formatActivityTime('2026-10-25T02:00:00Z')).toBe('søndag 25. oktober kl. 03.00');
  });

  it('rejects something that is not a date-time', () => {
    expect(() => formatActivityTime('neste torsdag')).toThrow(RangeError);
  });
});

describe('formatValidUntil', () => {
  it('formats a calendar date as day and month', () => {
    expect(formatValidUntil('2026-12-24')).toBe('24. desember');
    expect(formatValidUntil('2027-01-01')).toBe('1. januar');
    expect(formatValidUntil('2026-03-29')).toBe('29. mars');
  });

  it('rejects other formats', () => {
    expect(() => formatValidUntil('24.12.2026')).toThrow(RangeError);
  });
});

describe('dates and times as staff and members read them', () => {
  it('writes the time of day as «kl. 18.00» in Oslo time, summer and winter', () => {
    expect(formatShort('2026-11-25T10:00:00.000Z')).toBe('25.11.2026 kl. 11.00');
    expect(formatShort('2026-07-01T22:30:00.000Z')).toBe('02.07.2026 kl. 00.30');
    expect(formatShort(new Date('2026-12-03T17:00:00Z'))).toBe('03.12.2026 kl. 18.00');
    expect(formatLong('2026-12-03T17:00:00Z')).toBe('3. desember 2026 kl. 18.00');
    expect(formatDate('2026-12-31T23:30:00Z')).toBe('1. januar 2027');
  });

  it('shows text that is not a date-time as it is', () => {
    expect(formatShort('2026-13-45T99:99')).toBe('2026-13-45T99:99');
    expect(formatLong(new Date(Number.NaN))).toBe('');
  });
});
