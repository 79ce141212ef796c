import fs from 'node:fs';
import path from 'node:path';
import { DataSource, type DataSourceOptions, type EntitySchema } from 'typeorm';
import { migrations } from './migrations';
import { lockSqliteConnection, type SqliteStatements } from './sqlite-connection-lock';
import { isConnectionError } from './errors';

export type DbKind = 'sqlite' | 'mysql';

export function dbKindOf(url: string): DbKind {
  return url.startsWith('mysql://') ? 'mysql' : 'sqlite';
}

/**
 * One DataSource per process. Schema comes only from migrations; synchronize is never on.
 * Entities are passed in by the composition root so this room does not import the others.
 */
export function createDataSource(
  databaseUrl: string,
  entities: EntitySchema<unknown>[],
  /** How long a statement waits for SQLite's one connection before failing (see sqlite-connection-lock.ts). */
  sqliteLockTimeoutMs = 10_000,
): DataSource {
  const common = { entities, migrations, synchronize: false, migrationsRun: false, logging: false } as const;
  let options: DataSourceOptions;
  if (dbKindOf(databaseUrl) === 'mysql') {
    options = {
      ...common,
      type: 'mysql',
      url: databaseUrl,
      timezone: 'Z',
      charset: 'utf8mb4_unicode_ci',
      supportBigNumbers: true,
      bigNumberStrings: false,
      extra: { connectionLimit: 10 },
      // mysql2's `trace` captures a stack trace on every query (~15 µs of the worker's per-message
      // budget); failures are wrapped in QueryFailedError with the SQL, which says where.
      trace: false,
    };
  } else {
    const file = databaseUrl.slice('sqlite:'.length);
    if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    options = {
      ...common,
      type: 'better-sqlite3',
      database: file,
      enableWAL: file !== ':memory:',
      // Several processes (API + worker) may share the file: wait for locks instead of failing.
      timeout: 10000,
      prepareDatabase: (db: { pragma(s: string): unknown }) => {
        db.pragma('foreign_keys = ON');
        db.pragma('synchronous = NORMAL');
        db.pragma(`cache_size = ${SQLITE_CACHE_SIZE}`);
      },
    };
  }
  return options.type === 'better-sqlite3'
    ? new SqliteDataSource(options, sqliteLockTimeoutMs)
    : new DataSource(options);
}

/**
 * SQLite's page cache, in KiB when negative: SQLite's own default (2 MB). better-sqlite3 builds
 * with 16 MB, which a long send fills page by page as it walks a growing ledger (the worker's RSS
 * crept by quarter of a 300,000-member send); pages beyond it come from the kernel's file cache.
 */
const SQLITE_CACHE_SIZE = -2000;

/** SQLite's one connection is shared by the whole process: see sqlite-connection-lock.ts. */
export class SqliteDataSource extends DataSource {
  /** Set once initialised: standalone statements under the connection lock. */
  statements: SqliteStatements | null = null;

  constructor(
    options: DataSourceOptions,
    private readonly lockTimeoutMs: number,
  ) {
    super(options);
  }

  override async initialize(): Promise<this> {
    await super.initialize();
    this.statements = lockSqliteConnection(this, this.lockTimeoutMs);
    return this;
  }
}

/** Brings the schema up to date; safe to call from several processes at once on MySQL (it locks). */
export async function migrate(ds: DataSource): Promise<string[]> {
  const kind = ds.options.type === 'mysql' ? 'mysql' : 'sqlite';
  if (kind === 'mysql') {
    const [row] = await ds.query(`SELECT GET_LOCK('kundeklubb_migrate', 60) AS l`);
    if (Number(row.l) !== 1) throw new Error('could not take the migration lock');
    try {
      return (await ds.runMigrations({ transaction: 'each' })).map((m) => m.name);
    } finally {
      await ds.query(`SELECT RELEASE_LOCK('kundeklubb_migrate')`);
    }
  }
  return (await ds.runMigrations({ transaction: 'each' })).map((m) => m.name);
}

/**
 * Opens the data source and brings the schema up to date, waiting while the database is away (a
 * server still starting, or restarting): connection errors are retried after a growing pause
 * (1 s, doubling to 30 s), each reported through `onWait`. Anything else (a refused login, an
 * unknown database, a failing migration) is thrown at once.
 */
export async function openDatabase(
  ds: DataSource,
  onWait: (err: unknown, attempt: number, retryInMs: number) => void,
): Promise<string[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      if (!ds.isInitialized) await ds.initialize();
      return await migrate(ds);
    } catch (err) {
      if (!isConnectionError(err)) throw err;
      const retryInMs = Math.min(30_000, 1000 * 2 ** (attempt - 1));
      onWait(err, attempt, retryInMs);
      await new Promise((r) => setTimeout(r, retryInMs));
    }
  }
}
