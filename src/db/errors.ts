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
