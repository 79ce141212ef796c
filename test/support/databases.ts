import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createConnection } from 'mysql2/promise';

/** A database created for one test file and dropped afterwards, so runs never collide. */
export interface TestDatabase {
  kind: 'sqlite' | 'mysql';
  url: string;
  drop(): Promise<void>;
}

/**
 * The databases every integration suite runs on: SQLite always; MariaDB/MySQL when
 * TEST_MYSQL_URL is set. In CI (CI=true) the MySQL suite is mandatory: a missing variable or an
 * unreachable server fails the run instead of skipping.
 */
export function databaseKinds(): Array<'sqlite' | 'mysql'> {
  if (process.env.TEST_MYSQL_URL) return ['sqlite', 'mysql'];
  if (process.env.CI === 'true') {
    throw new Error('CI=true but TEST_MYSQL_URL is not set: the MariaDB suite must run in CI');
  }
  return ['sqlite'];
}

export async function createTestDatabase(
  kind: 'sqlite' | 'mysql',
  mysqlUrl = process.env.TEST_MYSQL_URL,
): Promise<TestDatabase> {
  const suffix = `${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-test-'));
    return {
      kind,
      url: `sqlite:${path.join(dir, 'test.sqlite')}`,
      drop: async () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }
  const base = new URL(mysqlUrl!);
  const name = `kk_test_${suffix}`;
  const admin = await createConnection({
    host: base.hostname,
    port: Number(base.port || 3306),
    user: decodeURIComponent(base.username),
    password: decodeURIComponent(base.password),
  });
  await admin.query(`CREATE DATABASE \`${name}\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
  await admin.end();
  const url = new URL(base.toString());
  url.pathname = `/${name}`;
  return {
    kind,
    url: url.toString(),
    drop: async () => {
      const c = await createConnection({
        host: base.hostname,
        port: Number(base.port || 3306),
        user: decodeURIComponent(base.username),
        password: decodeURIComponent(base.password),
      });
      await c.query(`DROP DATABASE IF EXISTS \`${name}\``);
      await c.end();
    },
  };
}
