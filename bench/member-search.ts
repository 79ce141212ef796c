import { performance } from 'node:perf_hooks';
import type { DataSource } from 'typeorm';
import { parseQuery } from '../src/http/validate';
import { foldForSearch, searchTokens } from '../src/db/search-tokens';
import { searchMemberIds } from '../src/members/member-search';
import { memberSearchQuerySchema } from '../src/members/members.schema';
import {
  argInt,
  argValue,
  createBenchDatabase,
  log,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  tempDir,
} from './support/bench-env';
import { median } from './support/rounds';

/**
 * The admin's member search (issue #14 point 5) on MariaDB with `--members` members (1,000,000):
 * members with Norwegian names and addresses and their search tokens go in by multi-row INSERTs
 * (committed every 50,000 members), then each search runs through MembersService.search (count and
 * first page, as the admin page does) `--runs` times after one warm-up; the median is reported
 * with the plan MariaDB chose (EXPLAIN of the page and count statements: the driving word must be
 * a `range` on the token key, never a scan of members). Not part of `npm run bench`: about 6 minutes.
 */

const FIRST = [
  'Anne',
  'Inger',
  'Kari',
  'Marit',
  'Ingrid',
  'Liv',
  'Eva',
  'Berit',
  'Astrid',
  'Bjørg',
  'Hilde',
  'Anna',
  'Solveig',
  'Marianne',
  'Randi',
  'Ida',
  'Nina',
  'Maria',
  'Elisabeth',
  'Kristin',
  'Jan',
  'Per',
  'Bjørn',
  'Ole',
  'Lars',
  'Kjell',
  'Knut',
  'Arne',
  'Svein',
  'Thomas',
  'Hans',
  'Geir',
  'Tor',
  'Morten',
  'Terje',
  'Odd',
  'Erik',
  'Martin',
  'Andreas',
  'Jon',
  'Åse',
  'Kåre',
  'Øystein',
  'Ståle',
  'Pål',
  'Dag',
  'Siri',
  'Tone',
  'Hege',
  'Line',
];
const LAST = [
  'Hansen',
  'Johansen',
  'Olsen',
  'Larsen',
  'Andersen',
  'Pedersen',
  'Nilsen',
  'Kristiansen',
  'Jensen',
  'Karlsen',
  'Johnsen',
  'Pettersen',
  'Eriksen',
  'Berg',
  'Haugen',
  'Hagen',
  'Johannessen',
  'Andreassen',
  'Jacobsen',
  'Dahl',
  'Jørgensen',
  'Halvorsen',
  'Henriksen',
  'Lund',
  'Sørensen',
  'Jakobsen',
  'Moen',
  'Gundersen',
  'Iversen',
  'Strand',
  'Solberg',
  'Svendsen',
  'Eide',
  'Knutsen',
  'Martinsen',
  'Paulsen',
  'Bakken',
  'Kristoffersen',
  'Mathisen',
  'Lie',
  'Amundsen',
  'Nguyen',
  'Rasmussen',
  'Ali',
  'Lunde',
  'Solheim',
  'Berntsen',
  'Nygård',
  'Bakke',
  'Ødegård',
  'Ødegaard',
  'Aasen',
  'Bråten',
  'Sæther',
  'Østby',
  'Kvåle',
  'Årdal',
  'Holm',
  'Ahmed',
  'Fredriksen',
];
const DOMAINS = [
  'gmail.com',
  'online.no',
  'hotmail.com',
  'outlook.com',
  'icloud.com',
  'yahoo.no',
  'live.no',
  'getmail.no',
  'frisurfing.no',
  'salong.no',
];

const MEMBERS_PER_STATEMENT = 1000;
const MEMBERS_PER_TRANSACTION = 50_000;
const TOKENS_PER_STATEMENT = 2000;

/** mulberry32: the same members every run. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ascii = (s: string) => foldForSearch(s).replace(/[^a-z]/g, '');

function person(i: number, rnd: () => number) {
  const pick = <T>(list: T[]) => list[Math.floor(rnd() * list.length)];
  const firstName = pick(FIRST);
  const lastName = pick(LAST);
  return {
    id: i + 1,
    firstName,
    lastName,
    email: `${ascii(firstName)}.${ascii(lastName)}${i}@${pick(DOMAINS)}`,
    status: rnd() < 0.01 ? 'restricted' : 'active',
  };
}

async function fill(ds: DataSource, n: number): Promise<{ seconds: number; tokens: number }> {
  const started = performance.now();
  const rnd = prng(14);
  const now = '2026-11-20 10:00:00.000';
  let tokens = 0;
  const qr = ds.createQueryRunner();
  try {
    for (let tx = 0; tx < n; tx += MEMBERS_PER_TRANSACTION) {
      await qr.startTransaction();
      for (
        let start = tx;
        start < Math.min(n, tx + MEMBERS_PER_TRANSACTION);
        start += MEMBERS_PER_STATEMENT
      ) {
        const people = [];
        for (let i = start; i < Math.min(n, start + MEMBERS_PER_STATEMENT); i++) people.push(person(i, rnd));
        await qr.query(
          `INSERT INTO members (id, email, first_name, last_name, source, status, created_at, updated_at, confirmed_at)
           VALUES ${people.map(() => "(?, ?, ?, ?, 'osme-mobile', ?, ?, ?, ?)").join(', ')}`,
          people.flatMap((p) => [p.id, p.email, p.firstName, p.lastName, p.status, now, now, now]),
        );
        const pairs = people.flatMap((p) => searchTokens(p).map((t) => [t, p.id]));
        tokens += pairs.length;
        for (let i = 0; i < pairs.length; i += TOKENS_PER_STATEMENT) {
          const chunk = pairs.slice(i, i + TOKENS_PER_STATEMENT);
          await qr.query(
            `INSERT INTO member_search_tokens (token, member_id) VALUES ${chunk.map(() => '(?, ?)').join(', ')}`,
            chunk.flat(),
          );
        }
      }
      await qr.commitTransaction();
      log(
        `  ${Math.min(n, tx + MEMBERS_PER_TRANSACTION)} members, ${tokens} tokens, ${round((performance.now() - started) / 1000)} s`,
      );
    }
  } finally {
    await qr.release();
  }
  return { seconds: round((performance.now() - started) / 1000), tokens };
}

interface PlanRow {
  table: string;
  type: string;
  key: string | null;
  rows: number;
  Extra: string | null;
}

runBench(async () => {
  const n = argInt('members', 1_000_000);
  const runs = argInt('runs', 5);
  // --keep 1: leave the database for a look with the mysql client (its name goes to stderr).
  const keep = argInt('keep', 2) === 1;
  // --reuse URL: a database kept by an earlier run (--keep 1), searched again without filling it.
  const reuse = argValue('reuse', '');
  const db = reuse ? { url: reuse, drop: async () => undefined } : await createBenchDatabase('mysql');
  const c = await openContainer(serviceEnv(db.url, tempDir('search')));
  try {
    log(reuse ? `searching ${reuse}` : `filling ${n} members on MariaDB`);
    const filled = reuse ? { seconds: null, tokens: null } : await fill(c.dataSource, n);
    await c.dataSource.query('ANALYZE TABLE members, member_search_tokens');
    const sizes: Array<{ name: string; mb: string }> = await c.dataSource.query(
      `SELECT table_name AS name, ROUND((data_length + index_length) / 1048576) AS mb
       FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name IN ('members', 'member_search_tokens')`,
    );
    // One member's own address, whole and in part, as staff would type it from a letter.
    const [known] = (await c.dataSource.query('SELECT email FROM members WHERE id = ?', [
      Math.floor(n * 0.7777),
    ])) as Array<{ email: string }>;
    const part = known.email.slice(0, known.email.indexOf('@') - 2);
    const searches: Array<[string, Record<string, string>]> = [
      ['common last name, «odegard» (Ødegård and Ødegaard)', { q: 'odegard' }],
      ['first and part of last name, «kari ødeg»', { q: 'kari ødeg' }],
      [`part of one address, «${part}»`, { q: part }],
      ['a whole address', { q: known.email }],
      ['two letters, «an»', { q: 'an' }],
      ['last name and a status, «sæther», restricted', { q: 'sæther', status: 'restricted' }],
      ['common last name and a broad status, «odegard», active', { q: 'odegard', status: 'active' }],
      ['two broad words, «an ka»', { q: 'an ka' }],
      ['status only, restricted', { status: 'restricted' }],
    ];
    for (const [what, raw] of searches) {
      const q = parseQuery(memberSearchQuerySchema, { limit: '25', ...raw });
      const ms: number[] = [];
      let result = await c.members.search(q);
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        result = await c.members.search(q);
        ms.push(performance.now() - t0);
      }
      // The statements the search ran, each with MariaDB's plan: table:access:key:rows.
      const statements: Array<{ sql: string; params: unknown[] }> = [];
      await searchMemberIds(async (sql, params) => {
        statements.push({ sql, params });
        return c.dataSource.query(sql, params);
      }, q);
      const plans: string[] = [];
      for (const st of statements.filter((x) => !/ IN \(/.test(x.sql))) {
        const rows = (await c.dataSource.query(`EXPLAIN ${st.sql}`, st.params)) as PlanRow[];
        plans.push(
          rows
            .filter((r) => !r.table.startsWith('<'))
            .map((r) => `${r.table}:${r.type}:${r.key ?? '-'}:${r.rows}`)
            .join(' + '),
        );
      }
      const checks = statements.filter((x) => / IN \(/.test(x.sql)).length;
      printResult({
        bench: 'member-search',
        members: n,
        search: what,
        query: raw,
        medianMs: round(median(ms), 1),
        maxMs: round(Math.max(...ms), 1),
        hits: result.total,
        shown: result.items.length,
        statements: statements.length,
        plans,
        ...(checks ? { idChecks: checks } : {}),
      });
    }
    printResult({
      bench: 'member-search-fill',
      members: n,
      tokens: filled.tokens,
      fillSeconds: filled.seconds,
      tableMb: Object.fromEntries(sizes.map((s) => [s.name, Number(s.mb)])),
    });
  } finally {
    await c.close();
    if (keep) log(`kept ${db.url}`);
    else await db.drop();
  }
});
