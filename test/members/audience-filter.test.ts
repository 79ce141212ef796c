import { audienceFilter } from '../../src/members/audience';

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
