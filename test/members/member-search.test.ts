import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import { prng } from '../support/prng';
import { execute } from '../../src/db/sql';
import { foldForSearch, searchTokens, searchWords } from '../../src/db/search-tokens';
import { searchMemberIds } from '../../src/members/member-search';
import { memberSearchQuerySchema, type MemberSearchQuery } from '../../src/members/members.schema';

/**
 * The search's every path (one statement; several conditions read whole or checked by id, with the
 * count cap; the join when every condition is broad) against the plain reading of the rule: each
 * word starts a word of the member's names or address, and the filters hold. The bounds are made
 * small so a few hundred members take every path; the results must be the same with any bounds.
 */

const FIRST = ['Kari', 'Åse', 'Ola', 'Anne-Marie', 'Kåre', 'Per'];
const LAST = ['Nordmann', 'Ødegård', 'Odegaard', 'Ærlig', 'Bakke', 'Bakken', 'Aasen'];
const STATUSES = ['active', 'restricted', 'pending'];
const SOURCES = ['web', 'osme-mobile'];
const QUERIES = [
  'kari',
  'odeg',
  'ødegaard nordm',
  'ba',
  'bakke kari',
  'a',
  'ase',
  'an ka',
  'zz',
  'x.no',
  'p ba',
];

interface Person {
  id: number;
  email: string;
  firstName: string;
  lastName: string;
  status: string;
  source: string;
}

describe.each(databaseKinds())('member search paths on %s', (kind) => {
  let t: TestApp;
  const people: Person[] = [];

  beforeAll(async () => {
    t = await startTestApp(kind);
    const rnd = prng(5);
    const pick = <T>(list: T[]) => list[Math.floor(rnd() * list.length)];
    const now = '2026-11-20 10:00:00.000';
    for (let i = 0; i < 300; i++) {
      const p = {
        firstName: pick(FIRST),
        lastName: pick(LAST),
        status: pick(STATUSES),
        source: pick(SOURCES),
        email: '',
        id: 0,
      };
      p.email = `${foldForSearch(p.firstName)}.${foldForSearch(p.lastName)}${i}@${pick(['a.no', 'bx.no'])}`;
      await t.c.dataSource.query(
        `INSERT INTO members (email, first_name, last_name, source, status, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?)`,
        [p.email, p.firstName, p.lastName, p.source, p.status, now, now],
      );
      const [{ id }] = (await t.c.dataSource.query('SELECT id FROM members WHERE email = ?', [
        p.email,
      ])) as Array<{ id: number }>;
      p.id = Number(id);
      await t.c.dataSource.transaction((m) => t.c.members.indexForSearch(m, p));
      people.push(p);
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  /** The rule, read plainly. */
  function expected(q: MemberSearchQuery): number[] {
    const words = searchWords(q.q ?? '');
    return people
      .filter((p) => words.every((w) => searchTokens(p).some((token) => token.startsWith(w))))
      .filter((p) => (!q.status || p.status === q.status) && (!q.source || p.source === q.source))
      .map((p) => p.id)
      .sort((a, b) => a - b);
  }

  it('finds exactly the members the rule finds, page by page, on every path and with any bounds', async () => {
    const paths = new Set<string>();
    const run = async (sql: string, params: unknown[]) => {
      if (sql.includes(' IN (')) paths.add('checked by id');
      else if (sql.includes('member_search_tokens t0')) paths.add('join');
      else if (sql.startsWith('SELECT member_id AS id FROM member_search_tokens')) paths.add('read whole');
      else if (sql.includes('GROUP BY')) paths.add('one statement');
      return (await execute(t.c.dataSource, sql, params)).records;
    };
    const boundsList = [
      undefined,
      { countCap: 5, readWholeMax: 120, idsPerCheck: 7 },
      { countCap: 5, readWholeMax: 40, idsPerCheck: 3 },
      { countCap: 1, readWholeMax: 3, idsPerCheck: 2 },
    ];
    let searches = 0;
    for (const bounds of boundsList)
      for (const text of QUERIES)
        for (const status of [undefined, 'restricted', 'active'])
          for (const source of [undefined, 'web']) {
            const raw: Record<string, string> = { q: text, limit: '4' };
            if (status) raw.status = status;
            if (source) raw.source = source;
            const parsed = memberSearchQuerySchema.safeParse(raw);
            if (!parsed.success) {
              // Only a search without a two-letter word is refused.
              expect(searchWords(text).every((w) => w.length < 2)).toBe(true);
              continue;
            }
            const want = expected(parsed.data);
            const cap = bounds?.countCap ?? 10_000;
            const got: number[] = [];
            let cursor: number | undefined;
            for (let page = 0; page < 100; page++) {
              const r = await searchMemberIds(run, { ...parsed.data, cursor }, bounds);
              // Exact up to the cap; past it, exact or «more than the cap».
              if (want.length <= cap) expect([raw, r.total]).toEqual([raw, want.length]);
              else expect([want.length, cap + 1]).toContain(r.total);
              got.push(...r.ids.slice(0, 4));
              if (r.ids.length <= 4) break;
              cursor = r.ids[3];
            }
            expect([bounds, raw, got]).toEqual([bounds, raw, want]);
            searches++;
          }
    expect(searches).toBeGreaterThan(200);
    expect([...paths].sort()).toEqual(['checked by id', 'join', 'one statement', 'read whole']);
  });
});
