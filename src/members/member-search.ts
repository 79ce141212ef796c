import { prefixRange, searchWords } from '../db/search-tokens';
import { placeholders } from '../db/sql';
import type { MemberSearchQuery } from './members.schema';

/** A search counts its hits up to here and says «more than» beyond, where counting would cost. */
export const SEARCH_COUNT_CAP = 10_000;
/** A condition whose index range holds at most this many rows is read whole and intersected here. */
const READ_WHOLE_MAX = 250_000;
const IDS_PER_CHECK = 1000;

/** Runs one statement (`?` placeholders) and gives its rows. */
export type RunSql = (sql: string, params: unknown[]) => Promise<Array<Record<string, unknown>>>;

/** One thing a hit must satisfy, as SQL over the ids that satisfy it. */
interface Condition {
  /** Every id that satisfies it (duplicates allowed). */
  ids: { sql: string; params: unknown[] };
  /** The ids among `?…` that satisfy it; `{in}` is replaced by the placeholders. */
  check: (n: number) => { sql: string; params: unknown[] };
}

/**
 * The admin's member search (MembersService.search): the ids of one page (one more than the limit,
 * after the cursor, by id) and the number of hits. Every condition is an index range, never a
 * scan of members: each word the range of member_search_tokens it starts (db/search-tokens.ts), the
 * filters the members indexes.
 * - One word alone, or filters alone: one statement, the database's plan (by its estimates: the
 *   token range, or the member index read in id order until the page is full); hits counted up to
 *   SEARCH_COUNT_CAP.
 * - Several conditions: each one's range is counted (bounded), the smallest is read whole, and the
 *   others are intersected with it: read whole when small (sequential index reads instead of a
 *   lookup per row), else checked for the ids found so far. The count is exact, except past the
 *   cap after a broad condition.
 */
export async function searchMemberIds(
  run: RunSql,
  q: MemberSearchQuery,
  /** The bounds, smaller in tests so that every path runs on a few members. */
  bounds: { countCap: number; readWholeMax: number; idsPerCheck: number } = {
    countCap: SEARCH_COUNT_CAP,
    readWholeMax: READ_WHOLE_MAX,
    idsPerCheck: IDS_PER_CHECK,
  },
): Promise<{ ids: number[]; total: number | null }> {
  const { countCap, readWholeMax, idsPerCheck } = bounds;
  const words = searchWords(q.q ?? '');
  const filters = (
    [
      ['m.status = ?', q.status],
      ['m.source = ?', q.source],
      ['m.partner_id = ?', q.partnerId],
      ['m.email = ?', q.email],
    ] as Array<[string, unknown]>
  ).filter(([, v]) => v !== undefined);
  const filterSql = filters.map(([sql]) => sql).join(' AND ');
  const filterParams = filters.map(([, v]) => v);
  const limit = Math.floor(q.limit) + 1;

  if (words.length === 0 || (words.length === 1 && filters.length === 0)) {
    const [from, id, where, params] =
      words.length === 0
        ? ['members m', 'm.id', filterSql, filterParams]
        : ['member_search_tokens t', 't.member_id', 't.token >= ? AND t.token < ?', prefixRange(words[0])];
    const cond = where ? ` WHERE ${where}` : '';
    const after = q.cursor ? `${cond ? `${cond} AND` : ' WHERE'} ${id} > ?` : cond;
    const total =
      words.length > 0 || filters.length > 0
        ? Number(
            (
              await run(
                `SELECT COUNT(*) AS n FROM (SELECT DISTINCT ${id} AS id FROM ${from}${cond} LIMIT ${countCap + 1}) hits`,
                params,
              )
            )[0]?.n ?? 0,
          )
        : null;
    const rows = await run(
      `SELECT ${id} AS id FROM ${from}${after} GROUP BY ${id} ORDER BY ${id} LIMIT ${limit}`,
      q.cursor ? [...params, q.cursor] : params,
    );
    return { ids: rows.map((r) => Number(r.id)), total };
  }

  const conditions: Condition[] = words.map((w) => {
    const range = prefixRange(w);
    return {
      ids: {
        sql: 'SELECT member_id AS id FROM member_search_tokens WHERE token >= ? AND token < ?',
        params: range,
      },
      check: (n) => ({
        sql: `SELECT member_id AS id FROM member_search_tokens WHERE member_id IN (${placeholders(n)}) AND token >= ? AND token < ?`,
        params: range,
      }),
    };
  });
  if (filters.length > 0)
    conditions.push({
      ids: { sql: `SELECT m.id AS id FROM members m WHERE ${filterSql}`, params: filterParams },
      check: (n) => ({
        sql: `SELECT m.id AS id FROM members m WHERE m.id IN (${placeholders(n)}) AND ${filterSql}`,
        params: filterParams,
      }),
    });
  const sized: Array<{ c: Condition; size: number }> = [];
  for (const c of conditions) {
    const counted = await run(
      `SELECT COUNT(*) AS n FROM (${c.ids.sql} LIMIT ${readWholeMax + 1}) c`,
      c.ids.params,
    );
    sized.push({ c, size: Number(counted[0]?.n ?? 0) });
  }
  sized.sort((a, b) => a.size - b.size);
  if (sized[0].size > readWholeMax) return searchByJoin(run, q, words, filters, countCap);

  const idsOf = async (stmt: { sql: string; params: unknown[] }) =>
    new Set((await run(stmt.sql, stmt.params)).map((r) => Number(r.id)));
  const after = q.cursor ?? 0;
  let hits = await idsOf(sized[0].c.ids);
  let capped = false;
  const rest = sized.slice(1);
  for (const [i, { c, size }] of rest.entries()) {
    if (hits.size === 0) break;
    if (size <= readWholeMax) {
      const other = await idsOf(c.ids);
      hits = new Set([...hits].filter((id) => other.has(id)));
      continue;
    }
    // A broad condition (status active, say) is checked for the hits so far, lowest ids first; the
    // last one stops once the page is full and the count past the cap, as the one-statement path.
    const list = [...hits].sort((a, b) => a - b);
    const kept = new Set<number>();
    let onPage = 0;
    for (let j = 0; j < list.length; j += idsPerCheck) {
      if (i === rest.length - 1 && kept.size > countCap && onPage >= limit) {
        capped = true;
        break;
      }
      const batch = list.slice(j, j + idsPerCheck);
      const stmt = c.check(batch.length);
      for (const r of await run(stmt.sql, [...batch, ...stmt.params])) {
        const id = Number(r.id);
        if (!kept.has(id) && id > after) onPage++;
        kept.add(id);
      }
    }
    hits = kept;
  }
  const sorted = [...hits].sort((a, b) => a - b);
  return {
    ids: sorted.filter((id) => id > after).slice(0, limit),
    total: capped ? countCap + 1 : sorted.length,
  };
}

/**
 * Every condition is broad (each word starts more than READ_WHOLE_MAX tokens, say «an ka»): one
 * statement, the first word's range joined with the others per member, hits counted up to the cap.
 */
async function searchByJoin(
  run: RunSql,
  q: MemberSearchQuery,
  words: string[],
  filters: Array<[string, unknown]>,
  countCap: number,
): Promise<{ ids: number[]; total: number | null }> {
  const joins = words
    .slice(1)
    .map(
      (_w, i) =>
        ` JOIN member_search_tokens t${i + 1} ON t${i + 1}.member_id = t0.member_id AND t${i + 1}.token >= ? AND t${i + 1}.token < ?`,
    );
  const params: unknown[] = words.slice(1).flatMap((w) => prefixRange(w));
  if (filters.length > 0) joins.push(' JOIN members m ON m.id = t0.member_id');
  params.push(...prefixRange(words[0]), ...filters.map(([, v]) => v));
  const cond = ` WHERE ${['t0.token >= ? AND t0.token < ?', ...filters.map(([sql]) => sql)].join(' AND ')}`;
  const from = `member_search_tokens t0${joins.join('')}`;
  const total = Number(
    (
      await run(
        `SELECT COUNT(*) AS n FROM (SELECT DISTINCT t0.member_id AS id FROM ${from}${cond} LIMIT ${countCap + 1}) hits`,
        params,
      )
    )[0]?.n ?? 0,
  );
  const rows = await run(
    `SELECT t0.member_id AS id FROM ${from}${cond}${q.cursor ? ' AND t0.member_id > ?' : ''} GROUP BY t0.member_id ORDER BY t0.member_id LIMIT ${Math.floor(q.limit) + 1}`,
    q.cursor ? [...params, q.cursor] : params,
  );
  return { ids: rows.map((r) => Number(r.id)), total };
}
