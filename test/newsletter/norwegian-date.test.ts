import { formatActivityTime, formatValidUntil } from '../../src/newsletter/norwegian-date';

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
