import { audienceFilter, inAudience } from '../../src/members/audience';

describe('audienceFilter', () => {
  it('is every active member when there is no audience or only empty lists', () => {
    expect(audienceFilter(null)).toEqual({ sql: "m.status = 'active'", params: [] });
    expect(audienceFilter({ sources: [], partnerIds: [] }, 'mem')).toEqual({
      sql: "mem.status = 'active'",
      params: [],
    });
  });

  it('narrows by each list given, with one placeholder per distinct value', () => {
    expect(audienceFilter({ sources: ['osme-mobile', 'web', 'web'], partnerIds: ['salong-17'] })).toEqual({
      sql: "m.status = 'active' AND m.source IN (?, ?) AND m.partner_id IN (?)",
      params: ['osme-mobile', 'web', 'salong-17'],
    });
  });

  it('refuses an alias that is not a plain SQL identifier', () => {
    expect(() => audienceFilter(null, 'm; DROP TABLE members')).toThrow(TypeError);
  });
});

describe('inAudience (the same rule, for one member right before handoff)', () => {
  const member = (over: Partial<{ status: string; source: string; partnerId: string | null }> = {}) => ({
    status: 'active',
    source: 'cosmenor-partner',
    partnerId: 'salong-17',
    ...over,
  });

  it('agrees with audienceFilter on every case', () => {
    const audience = { sources: ['cosmenor-partner' as const], partnerIds: ['salong-17'] };
    expect(inAudience(member(), audience)).toBe(true);
    expect(inAudience(member(), null)).toBe(true);
    expect(inAudience(member({ status: 'restricted' }), null)).toBe(false);
    expect(inAudience(member({ source: 'web' }), audience)).toBe(false);
    expect(inAudience(member({ partnerId: 'salong-99' }), audience)).toBe(false);
    expect(inAudience(member({ partnerId: null }), audience)).toBe(false);
    expect(inAudience(member({ partnerId: null }), { sources: ['cosmenor-partner'] })).toBe(true);
  });
});
