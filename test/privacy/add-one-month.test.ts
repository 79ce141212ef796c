import { addOneMonth } from '../../src/privacy/add-one-month';

const due = (iso: string) => addOneMonth(new Date(iso)).toISOString();

describe('addOneMonth (the answer deadline of a request)', () => {
  it('is the same day next month, keeping the time', () => {
    expect(due('2026-11-25T10:00:00.000Z')).toBe('2026-12-25T10:00:00.000Z');
    expect(due('2026-03-15T23:59:59.999Z')).toBe('2026-04-15T23:59:59.999Z');
  });

  it('clamps to the last day of a shorter month', () => {
    expect(due('2026-01-31T12:00:00.000Z')).toBe('2026-02-28T12:00:00.000Z');
    expect(due('2026-01-29T12:00:00.000Z')).toBe('2026-02-28T12:00:00.000Z');
    expect(due('2026-03-31T08:00:00.000Z')).toBe('2026-04-30T08:00:00.000Z');
    expect(due('2026-05-31T08:00:00.000Z')).toBe('2026-06-30T08:00:00.000Z');
    expect(due('2026-08-31T08:00:00.000Z')).toBe('2026-09-30T08:00:00.000Z');
  });

  it('knows leap years, including the century rules', () => {
    expect(due('2028-01-31T12:00:00.000Z')).toBe('2028-02-29T12:00:00.000Z');
    expect(due('2028-01-29T12:00:00.000Z')).toBe('2028-02-29T12:00:00.000Z');
    expect(due('2100-01-31T12:00:00.000Z')).toBe('2100-02-28T12:00:00.000Z');
    expect(due('2000-01-30T12:00:00.000Z')).toBe('2000-02-29T12:00:00.000Z');
    expect(due('2028-02-29T12:00:00.000Z')).toBe('2028-03-29T12:00:00.000Z');
  });

  it('crosses the year end', () => {
    expect(due('2026-12-31T23:00:00.000Z')).toBe('2027-01-31T23:00:00.000Z');
    expect(due('2026-12-15T00:00:00.000Z')).toBe('2027-01-15T00:00:00.000Z');
  });

  it('counts in UTC, so the local offset of receivedAt cannot move the day', () => {
    // 1 Feb 00:30 in Oslo is still 31 Jan in UTC.
    expect(due('2026-02-01T00:30:00+01:00')).toBe('2026-02-28T23:30:00.000Z');
  });

  it('does not mutate its argument', () => {
    const d = new Date('2026-01-31T12:00:00.000Z');
    addOneMonth(d);
    expect(d.toISOString()).toBe('2026-01-31T12:00:00.000Z');
  });
});
