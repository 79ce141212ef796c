import type { ObjectLiteral, SelectQueryBuilder } from 'typeorm';

export interface Page<T> {
  items: T[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

/**
 * Keyset pagination by id: `limit` rows after the cursor in the given order (one row more is read
 * to know whether another page follows). Stable under inserts, unlike OFFSET.
 */
export async function pageById<T extends ObjectLiteral & { id: number }>(
  qb: SelectQueryBuilder<T>,
  q: { limit: number; cursor?: number },
  order: 'ASC' | 'DESC',
): Promise<Page<T>> {
  const alias = qb.alias;
  qb.orderBy(`${alias}.id`, order).take(q.limit + 1);
  if (q.cursor) qb.andWhere(`${alias}.id ${order === 'ASC' ? '>' : '<'} :cursor`, { cursor: q.cursor });
  const rows = await qb.getMany();
  const items = rows.slice(0, q.limit);
  return { items, nextCursor: rows.length > q.limit ? String(items[items.length - 1].id) : null };
}
