/** The driver's error code, whether TypeORM wrapped the error (QueryFailedError) or not. */
function driverErrorCode(err: unknown): string {
  const e = err as { code?: string; driverError?: { code?: string } };
  return e?.driverError?.code ?? e?.code ?? '';
}

/** True for a unique/primary-key violation on either driver. */
export function isDuplicateKeyError(err: unknown): boolean {
  const code = driverErrorCode(err);
  return (
    code === 'ER_DUP_ENTRY' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY'
  );
}

/** InnoDB chose this transaction as a deadlock victim (or gave up waiting): it can simply run again. */
export function isDeadlockError(err: unknown): boolean {
  const code = driverErrorCode(err);
  return code === 'ER_LOCK_DEADLOCK' || code === 'ER_LOCK_WAIT_TIMEOUT';
}

/** A racing writer won (InnoDB deadlock victim, or SQLite busy): a sign-up retries and finds it. */
export function isLockConflict(err: unknown): boolean {
  const code = driverErrorCode(err);
  return code === 'ER_LOCK_DEADLOCK' || code === 'SQLITE_BUSY';
}

/**
 * Runs a short transaction again when InnoDB resolves a deadlock by rolling it back, as MySQL
 * advises ("try restarting transaction"). Only for transactions that are safe to repeat.
 */
export async function retryOnDeadlock<T>(run: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await run();
    } catch (err) {
      if (attempt >= attempts || !isDeadlockError(err)) throw err;
      await new Promise((r) => setTimeout(r, 5 * attempt + Math.random() * 10));
    }
  }
}

/** Driver codes meaning the database server cannot be reached or the connection to it broke. */
const CONNECTION_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'PROTOCOL_CONNECTION_LOST',
  'PROTOCOL_SEQUENCE_TIMEOUT',
  'ER_SERVER_SHUTDOWN',
  'ER_CONNECTION_KILLED',
  'ER_CON_COUNT_ERROR',
  'CR_SERVER_GONE_ERROR',
  'CR_SERVER_LOST',
  'CR_CONNECTION_ERROR',
]);

const NOT_AN_OUTAGE = new Set(['ER_ACCESS_DENIED_ERROR', 'ER_DBACCESS_DENIED_ERROR', 'ER_BAD_DB_ERROR']);

/**
 * The database is away (restarting, unreachable, connection cut), as opposed to a statement that
 * failed on its own: the caller should wait and try again, and HTTP answers 503. mysql2 marks
 * errors that end its connection `fatal`; a closed pool only says so in its message.
 */
export function isConnectionError(err: unknown): boolean {
  const e = err as {
    fatal?: unknown;
    driverError?: { fatal?: unknown; message?: unknown };
    message?: unknown;
  };
  const code = driverErrorCode(err);
  if (CONNECTION_CODES.has(code)) return true;
  // A refused login or an unknown database is configuration, not an outage: no waiting fixes it.
  if (NOT_AN_OUTAGE.has(code)) return false;
  if (e?.fatal === true || e?.driverError?.fatal === true) return true;
  const message = String(e?.driverError?.message ?? e?.message ?? '');
  return /^Pool is closed|in closed state|Connection lost/.test(message);
}
