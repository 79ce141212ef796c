import { QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';

/**
 * SQLite has one connection per process and TypeORM's better-sqlite3 driver shares one query
 * runner for everything. Left alone, two concurrent `transaction()` calls nest as savepoints of
 * one transaction and any statement issued meanwhile joins it: one rollback (a sign-up retry,
 * say) silently undoes an unsubscribe or a recorded delivery that had already "committed".
 *
 * This turns the connection into a FIFO lock. A transaction runs on its own query runner over
 * the same connection and holds the lock from BEGIN to COMMIT/ROLLBACK; a statement outside a
 * transaction waits its turn. Inside a transaction, use the manager it hands you: a statement
 * on the data source itself would wait for the transaction that is waiting for it, so such a
 * wait ends with an error after `timeoutMs` instead of hanging (as SQLITE_BUSY would).
 */
export class SqliteConnectionLock {
  private busy = false;
  private readonly waiters: Array<{ go: () => void }> = [];

  constructor(private readonly timeoutMs: number) {}

  /** Resolves when the caller holds the connection; call `release()` exactly once afterwards. */
  acquire(): Promise<void> | undefined {
    if (!this.busy) {
      this.busy = true;
      return undefined; // the fast path allocates nothing
    }
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        go: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(
          new Error(
            `SQLite connection still busy after ${this.timeoutMs} ms (is a statement waiting for its own transaction?)`,
          ),
        );
      }, this.timeoutMs);
      this.waiters.push(waiter);
    });
  }

  release(): void {
    const next = this.waiters.shift();
    if (next) next.go();
    else this.busy = false;
  }

  async run<T>(fn: () => Promise<T>): Promise<T> {
    await this.acquire();
    try {
      return await fn();
    } finally {
      this.release();
    }
  }
}

type TransactionFn = EntityManager['transaction'];

interface Statement {
  reader: boolean;
  all(...params: unknown[]): Record<string, unknown>[];
  run(...params: unknown[]): { changes: number };
}

/**
 * Standalone statements (not in a transaction) straight on the connection with cached prepared
 * statements: the delivery worker's per-message reads skip TypeORM's per-query machinery
 * (logger, subscribers, result wrapping), which cost more than the SQLite lookup itself.
 * It takes the same lock, and errors are TypeORM's QueryFailedError like everywhere else.
 */
export class SqliteStatements {
  private readonly cache = new Map<string, Statement>();

  constructor(
    private readonly connection: { prepare(sql: string): Statement },
    private readonly lock: SqliteConnectionLock,
    private readonly cacheSize = 200,
  ) {}

  async execute(
    sql: string,
    params: unknown[],
  ): Promise<{ affected: number; records: Record<string, unknown>[] }> {
    const waiting = this.lock.acquire();
    if (waiting) await waiting;
    try {
      const bound = params.map((p) => (typeof p === 'boolean' ? (p ? 1 : 0) : p));
      const stmt = this.statement(sql, bound.length);
      if (stmt.reader) return { affected: 0, records: stmt.all(...bound) };
      return { affected: stmt.run(...bound).changes, records: [] };
    } catch (err) {
      throw new QueryFailedError(sql, params, err as Error);
    } finally {
      this.lock.release();
    }
  }

  /** `placeholders`: how many `?` the text has (the statement's parameter count). */
  private statement(sql: string, placeholders: number): Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.connection.prepare(sql);
      // A long IN list or multi-row VALUES has as many texts as lengths: each prepared statement
      // holds its compiled program in native memory until V8 collects it, so caching them all
      // made a long send's RSS creep by megabytes. Those are prepared per call (once per batch);
      // the short, hot statements stay cached.
      if (placeholders > MAX_CACHED_PLACEHOLDERS) return stmt;
      this.cache.set(sql, stmt);
      if (this.cache.size > this.cacheSize) this.cache.delete(this.cache.keys().next().value!);
    }
    return stmt;
  }
}

/** Statements with more `?` than this are not cached (see SqliteStatements.statement). */
const MAX_CACHED_PLACEHOLDERS = 16;

/** Installs the lock on an initialised better-sqlite3 DataSource; returns the fast path for standalone statements. */
export function lockSqliteConnection(ds: DataSource, timeoutMs = 10_000): SqliteStatements {
  const lock = new SqliteConnectionLock(timeoutMs);
  // The driver's one shared runner: every statement outside a transaction goes through it.
  const shared = ds.createQueryRunner();
  const query = shared.query.bind(shared) as QueryRunner['query'];
  shared.query = ((...args: Parameters<QueryRunner['query']>) =>
    lock.run(() => query(...args))) as QueryRunner['query'];

  // Transactions get their own runner (same connection, own transaction state).
  const RunnerClass = shared.constructor as new (driver: DataSource['driver']) => QueryRunner;
  const txRunner = new RunnerClass(ds.driver);
  Object.assign(txRunner, { manager: ds.createEntityManager(txRunner) });
  // BEGIN IMMEDIATE: take the write lock at the start (waiting up to the busy timeout). TypeORM's
  // deferred BEGIN upgrades a read to a write mid-transaction, which fails at once with SQLITE_BUSY
  // when another process (e.g. `kundeklubb worker` beside the API) wrote in between: measured,
  // 2 % of read-then-write transactions failed with two processes on one file.
  const txQuery = txRunner.query.bind(txRunner) as QueryRunner['query'];
  txRunner.query = ((sql: string, ...rest: unknown[]) =>
    (txQuery as (...a: unknown[]) => Promise<unknown>)(
      sql === 'BEGIN TRANSACTION' ? 'BEGIN IMMEDIATE TRANSACTION' : sql,
      ...rest,
    )) as QueryRunner['query'];
  const transaction = ((...args: unknown[]) =>
    lock.run(() =>
      (txRunner.manager.transaction as (...a: unknown[]) => Promise<unknown>)(...args),
    )) as TransactionFn;
  ds.manager.transaction = transaction;
  const connection = (
    ds.driver as unknown as { databaseConnection: ConstructorParameters<typeof SqliteStatements>[0] }
  ).databaseConnection;
  return new SqliteStatements(connection, lock);
}
