import { QueryFailedError } from 'typeorm';
import {
  isConnectionError,
  isDeadlockError,
  isDuplicateKeyError,
  retryOnDeadlock,
} from '../../src/db/errors';

const driverError = (code: string) => Object.assign(new Error(code), { code });
const failed = (code: string) => new QueryFailedError('UPDATE deliveries …', [], driverError(code));

describe('database error helpers', () => {
  it('recognise deadlocks and duplicate keys, wrapped by TypeORM or not', () => {
    expect(isDeadlockError(failed('ER_LOCK_DEADLOCK'))).toBe(true);
    expect(isDeadlockError(driverError('ER_LOCK_WAIT_TIMEOUT'))).toBe(true);
    expect(isDeadlockError(failed('ER_DUP_ENTRY'))).toBe(false);
    expect(isDuplicateKeyError(failed('SQLITE_CONSTRAINT_UNIQUE'))).toBe(true);
  });

  it('runs a transaction again when it was the deadlock victim, and returns its result', async () => {
    let calls = 0;
    const result = await retryOnDeadlock(async () => {
      calls++;
      if (calls < 3) throw failed('ER_LOCK_DEADLOCK');
      return 'recorded';
    });
    expect(result).toBe('recorded');
    expect(calls).toBe(3);
  });

  it('gives up after the last attempt, and never retries other errors', async () => {
    let calls = 0;
    await expect(
      retryOnDeadlock(async () => {
        calls++;
        throw failed('ER_LOCK_DEADLOCK');
      }, 2),
    ).rejects.toBeInstanceOf(QueryFailedError);
    expect(calls).toBe(2);
    calls = 0;
    await expect(
      retryOnDeadlock(async () => {
        calls++;
        throw failed('ER_DUP_ENTRY');
      }),
    ).rejects.toThrow();
    expect(calls).toBe(1);
  });

  it('tell a database that is away (503, wait and retry) from a statement that failed or a bad configuration', () => {
    const fatal = (message: string, code?: string) =>
      Object.assign(new Error(message), { code, fatal: true });
    expect(isConnectionError(driverError('ECONNREFUSED'))).toBe(true);
    expect(isConnectionError(failed('PROTOCOL_CONNECTION_LOST'))).toBe(true);
    expect(isConnectionError(failed('ER_SERVER_SHUTDOWN'))).toBe(true);
    expect(isConnectionError(fatal("Can't add new command when connection is in closed state"))).toBe(true);
    expect(isConnectionError(new Error('Pool is closed.'))).toBe(true);
    expect(isConnectionError(failed('ER_DUP_ENTRY'))).toBe(false);
    expect(isConnectionError(failed('ER_LOCK_DEADLOCK'))).toBe(false);
    expect(isConnectionError(fatal('Access denied for user', 'ER_ACCESS_DENIED_ERROR'))).toBe(false);
    expect(isConnectionError(fatal("Unknown database 'kk'", 'ER_BAD_DB_ERROR'))).toBe(false);
    expect(isConnectionError(new Error('SQLITE_BUSY: database is locked'))).toBe(false);
    expect(isConnectionError(undefined)).toBe(false);
  });
});
