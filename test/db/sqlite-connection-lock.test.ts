import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { QueryFailedError, type DataSource } from 'typeorm';
import { isDuplicateKeyError } from '../../src/db/errors';
import { createDataSource } from '../../src/db/data-source';
import Database from 'better-sqlite3';
import { execute, placeholders } from '../../src/db/sql';
import { SqliteConnectionLock, SqliteStatements } from '../../src/db/sqlite-connection-lock';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('SQLite: one connection shared by concurrent work', () => {
  let dir: string;
  let ds: DataSource;

  beforeEach(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-lock-'));
    ds = createDataSource(`sqlite:${path.join(dir, 'db.sqlite')}`, []);
    await ds.initialize();
    await ds.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
  });

  afterEach(async () => {
    await ds.destroy();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const values = async () =>
    ((await ds.query('SELECT v FROM t ORDER BY id')) as Array<{ v: string }>).map((r) => r.v);

  it('a rolled-back transaction does not undo a statement or a transaction that ran meanwhile', async () => {
    const failing = ds
      .transaction(async (m) => {
        await execute(m, `INSERT INTO t (v) VALUES ('doomed')`);
        await sleep(50); // a real await: other work gets the event loop
        throw new Error('rolled back');
      })
      .catch((err: Error) => err.message);
    await sleep(10);
    const standalone = execute(ds, `INSERT INTO t (v) VALUES ('standalone')`);
    const other = ds.transaction(async (m) => {
      await execute(m, `INSERT INTO t (v) VALUES ('other')`);
    });
    await Promise.all([failing, standalone, other]);
    await expect(failing).resolves.toBe('rolled back');
    expect(await values()).toEqual(['standalone', 'other']);
  });

  it('statements outside a transaction wait for it, then see its commit', async () => {
    const order: string[] = [];
    const tx = ds.transaction(async (m) => {
      await execute(m, `INSERT INTO t (v) VALUES ('in-tx')`);
      await sleep(30);
      order.push('tx done');
    });
    await sleep(5);
    const read = ds.query('SELECT COUNT(*) AS n FROM t').then((rows: Array<{ n: number }>) => {
      order.push(`read ${rows[0].n}`);
    });
    await Promise.all([tx, read]);
    expect(order).toEqual(['tx done', 'read 1']);
  });

  it('standalone statements report driver errors as TypeORM does (unique violations stay recognisable)', async () => {
    await ds.query('CREATE UNIQUE INDEX t_v ON t (v)');
    await execute(ds, `INSERT INTO t (v) VALUES (?)`, ['once']);
    const err = await execute(ds, `INSERT INTO t (v) VALUES (?)`, ['once']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QueryFailedError);
    expect(isDuplicateKeyError(err)).toBe(true);
    // The connection is free again afterwards.
    expect((await execute(ds, 'SELECT COUNT(*) AS n FROM t')).records).toEqual([{ n: 1 }]);
  });

  it('nested transactions on the manager still work as savepoints', async () => {
    await ds.transaction(async (m) => {
      await execute(m, `INSERT INTO t (v) VALUES ('outer')`);
      await m
        .transaction(async (inner) => {
          await execute(inner, `INSERT INTO t (v) VALUES ('inner')`);
          throw new Error('inner fails');
        })
        .catch(() => undefined);
    });
    expect(await values()).toEqual(['outer']);
  });

  it('a statement that waits for its own transaction fails clearly instead of hanging', async () => {
    await ds.destroy();
    ds = createDataSource(`sqlite:${path.join(dir, 'db2.sqlite')}`, [], 100);
    await ds.initialize();
    await ds.query('CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL)');
    await expect(
      ds.transaction(async () => {
        await ds.query(`INSERT INTO t (v) VALUES ('outside')`);
      }),
    ).rejects.toThrow(/still busy after 100 ms/);
    await expect(
      ds.transaction(async () => {
        await execute(ds, `INSERT INTO t (v) VALUES ('outside')`);
      }),
    ).rejects.toThrow(/still busy after 100 ms/);
    expect(await values()).toEqual([]);
  });
});

describe('SQLite: several processes on one file (API and `kundeklubb worker`)', () => {
  it('read-then-write transactions in two processes never fail with SQLITE_BUSY and lose no update', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-procs-'));
    const file = path.join(dir, 'db.sqlite');
    const ds = createDataSource(`sqlite:${file}`, []);
    await ds.initialize();
    await ds.query('CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)');
    await ds.query('INSERT INTO counter (id, n) VALUES (1, 0)');
    await ds.destroy();
    const script = path.join(__dirname, '..', 'support', 'sqlite-contender.ts');
    const run = () =>
      new Promise<{ ok: number; busy: number; other: number }>((resolve, reject) =>
        execFile(process.execPath, ['--import', 'tsx', script, file, '1500'], (err, stdout) =>
          err ? reject(err) : resolve(JSON.parse(stdout)),
        ),
      );
    try {
      const results = await Promise.all([run(), run()]);
      // A deferred BEGIN failed about 2 % of these at once (the read snapshot went stale).
      expect(results.map((r) => r.busy + r.other)).toEqual([0, 0]);
      expect(results.every((r) => r.ok > 50)).toBe(true);
      const check = createDataSource(`sqlite:${file}`, []);
      await check.initialize();
      const [{ n }] = (await check.query('SELECT n FROM counter')) as Array<{ n: number }>;
      await check.destroy();
      expect(n).toBe(results[0].ok + results[1].ok);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 30_000);
});

describe('SqliteStatements: prepared statements kept for the hot paths only', () => {
  it('prepares a short statement once; an IN list of more than 16 ids on each call, so its many lengths are never kept', async () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE t (id INTEGER PRIMARY KEY)');
    const insert = db.prepare('INSERT INTO t (id) VALUES (?)');
    for (let id = 1; id <= 100; id++) insert.run(id);
    const prepared = new Map<string, number>();
    const statements = new SqliteStatements(
      {
        prepare: (sql: string) => {
          prepared.set(sql, (prepared.get(sql) ?? 0) + 1);
          return db.prepare(sql);
        },
      },
      new SqliteConnectionLock(1000),
    );
    const count = async (ids: number[]) =>
      Number(
        (
          await statements.execute(
            `SELECT COUNT(*) AS n FROM t WHERE id IN (${placeholders(ids.length)})`,
            ids,
          )
        ).records[0].n,
      );
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i + 1);
    for (let turn = 0; turn < 3; turn++) {
      expect((await statements.execute('SELECT id FROM t WHERE id = ?', [7])).records).toEqual([{ id: 7 }]);
      expect(await count(ids(16))).toBe(16);
      for (let n = 17; n <= 60; n++) expect(await count(ids(n))).toBe(n);
    }
    expect(prepared.get('SELECT id FROM t WHERE id = ?')).toBe(1);
    expect(prepared.get(`SELECT COUNT(*) AS n FROM t WHERE id IN (${placeholders(16)})`)).toBe(1);
    for (let n = 17; n <= 60; n++)
      expect(prepared.get(`SELECT COUNT(*) AS n FROM t WHERE id IN (${placeholders(n)})`)).toBe(3);
    db.close();
  });

  it("the page cache is SQLite's own 2 MB, not the 16 MB better-sqlite3 builds with", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-cache-'));
    const ds = createDataSource(`sqlite:${path.join(dir, 'db.sqlite')}`, []);
    await ds.initialize();
    try {
      expect(await ds.query('PRAGMA cache_size')).toEqual([{ cache_size: -2000 }]);
      await ds.transaction(async (m) =>
        expect(await m.query('PRAGMA cache_size')).toEqual([{ cache_size: -2000 }]),
      );
    } finally {
      await ds.destroy();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('SqliteConnectionLock', () => {
  it('hands the connection over in arrival order', async () => {
    const lock = new SqliteConnectionLock(1000);
    const order: number[] = [];
    await Promise.all(
      [1, 2, 3].map((n) =>
        lock.run(async () => {
          await sleep(5 * (4 - n));
          order.push(n);
        }),
      ),
    );
    expect(order).toEqual([1, 2, 3]);
  });
});
