import { DataSource, QueryFailedError, type EntityManager, type QueryRunner } from 'typeorm';
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
    if (manager.connection.options.type === 'mysql') return await mysqlExecute(runner, sql, params);
    const res = await runner.query(sql, params, true);
    return {
      affected: Number(res.affected ?? 0),
      records: (res.records as Record<string, unknown>[]) ?? [],
    };
  } finally {
    if (own) await own.release();
  }
}

/** The callback API of the mysql2 connection a TypeORM MySQL query runner holds. */
interface MysqlCallbackConnection {
  query(sql: string, values: unknown[], cb: (err: Error | null, raw: unknown) => void): void;
}

/**
 * A statement on the query runner's own mysql2 connection (taken from the pool, or the
 * transaction's), without TypeORM's per-statement wrapping: its `query()` builds a promise
 * wrapper of the connection and an Error for the stack on every call, and broadcasts events this
 * service does not listen to, which is a measurable part of the service's own CPU on the hot
 * paths (issue 20). Failures are QueryFailedError as from TypeORM (the driver's error inside).
 */
async function mysqlExecute(
  runner: QueryRunner,
  sql: string,
  params: unknown[],
): Promise<{ affected: number; records: Record<string, unknown>[]; insertId?: number }> {
  if (runner.isReleased) throw new Error('query runner already released');
  const connection = (await runner.connect()) as MysqlCallbackConnection;
  const raw = await new Promise<unknown>((resolve, reject) =>
    connection.query(sql, params, (err, result) =>
      err ? reject(new QueryFailedError(sql, params, err)) : resolve(result),
    ),
  );
  if (Array.isArray(raw)) return { affected: 0, records: raw as Record<string, unknown>[] };
  const header = raw as { affectedRows?: number; insertId?: number };
  return {
    affected: Number(header.affectedRows ?? 0),
    records: [],
    // MySQL's OK packet: the AUTO_INCREMENT value made, or what LAST_INSERT_ID(expr) set.
    ...(typeof header.insertId === 'number' ? { insertId: header.insertId } : {}),
  };
}

/**
 * One row into a table with an AUTO_INCREMENT / INTEGER PRIMARY KEY `id`, by raw SQL: `row` maps
 * column names to values; returns the id made (MySQL's OK packet, SQLite's `RETURNING`, which MySQL
 * lacks).
 */
export async function insertReturningId(
  manager: EntityManager,
  table: string,
  row: Record<string, unknown>,
): Promise<number> {
  const columns = Object.keys(row);
  const mysql = manager.connection.options.type === 'mysql';
  const res = await execute(
    manager,
    `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${placeholders(columns.length)})${mysql ? '' : ' RETURNING id'}`,
    Object.values(row),
  );
  const id = mysql ? res.insertId : Number(res.records[0]?.id);
  if (!id) throw new Error(`${table}: the insert made no id`);
  return id;
}

/** `?, ?, ?` for an IN list. */
export const placeholders = (n: number) => Array.from({ length: n }, () => '?').join(', ');

/** `INSERT` that skips a row whose key exists: `INSERT IGNORE` on MySQL, `INSERT OR IGNORE` on SQLite. */
export function insertIgnore(on: DataSource | EntityManager): string {
  const ds = on instanceof DataSource ? on : on.connection;
  return ds.options.type === 'mysql' ? 'INSERT IGNORE' : 'INSERT OR IGNORE';
}
