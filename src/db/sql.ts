import { DataSource, type EntityManager } from 'typeorm';
import { SqliteDataSource } from './data-source';

/**
 * Runs raw SQL with `?` placeholders on either driver and returns rows and the affected-row
 * count (which TypeORM's plain `query()` loses for SQLite writes). Uses the manager's query
 * runner inside a transaction, otherwise a short-lived one (on SQLite, cached statements
 * under the connection lock).
 */
export async function execute(
  on: DataSource | EntityManager,
  sql: string,
  params: unknown[] = [],
): Promise<{ affected: number; records: Record<string, unknown>[]; insertId?: number }> {
  const manager = on instanceof DataSource ? on.manager : on;
  if (
    !manager.queryRunner &&
    manager.connection instanceof SqliteDataSource &&
    manager.connection.statements
  ) {
    return manager.connection.statements.execute(sql, params);
  }
  const own = manager.queryRunner ? undefined : manager.connection.createQueryRunner();
  const runner = manager.queryRunner ?? own!;
  try {
    const res = await runner.query(sql, params, true);
    const raw = res.raw as { insertId?: number } | undefined;
    return {
      affected: Number(res.affected ?? 0),
      records: (res.records as Record<string, unknown>[]) ?? [],
      // MySQL's OK packet: the AUTO_INCREMENT value made, or what LAST_INSERT_ID(expr) set.
      ...(typeof raw?.insertId === 'number' ? { insertId: raw.insertId } : {}),
    };
  } finally {
    if (own) await own.release();
  }
}

/** `?, ?, ?` for an IN list. */
export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** `INSERT` that skips a row whose key exists: `INSERT IGNORE` on MySQL, `INSERT OR IGNORE` on SQLite. */
export function insertIgnore(on: DataSource | EntityManager): string {
  const ds = on instanceof DataSource ? on : on.connection;
  return ds.options.type === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
}
