import { DataSource, type DataSourceOptions } from 'typeorm';
import { createDataSource, migrate } from '../../src/db/data-source';
import { migrations } from '../../src/db/migrations';
import { Clicks1764072900000 } from '../../src/db/migrations/1764072900000-clicks';
import { databaseKinds, createTestDatabase, type TestDatabase } from '../support/databases';

/** Campaigns made before the clicks migration get a web-version id of their own, and no link list. */
describe.each(databaseKinds())('the clicks migration on %s', (kind) => {
  let db: TestDatabase;
  afterEach(async () => {
    await db?.drop();
  });

  it('gives every existing campaign a random public id and leaves its (unnumbered) links alone', async () => {
    db = await createTestDatabase(kind);
    // The schema as it was: every migration before this one.
    const old = new DataSource({
      ...createDataSource(db.url, []).options,
      migrations: migrations.slice(0, migrations.indexOf(Clicks1764072900000)),
    } as DataSourceOptions);
    await old.initialize();
    await old.runMigrations({ transaction: 'each' });
    const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
    for (const name of ['Mai', 'Juni'])
      await old.query(
        `INSERT INTO campaigns (name, subject, blocks_json, status, total, created_at, updated_at) VALUES (?, 'Emne', '[]', 'sent', 0, ?, ?)`,
        [name, now, now],
      );
    await old.destroy();

    const ds = createDataSource(db.url, []);
    await ds.initialize();
    expect(await migrate(ds)).toContain('Clicks1764072900000');
    const rows: Array<{ public_id: string; links_json: string | null }> = await ds.query(
      'SELECT public_id, links_json FROM campaigns ORDER BY id',
    );
    expect(rows).toHaveLength(2);
    for (const r of rows) {
      expect(r.public_id).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(r.links_json).toBeNull();
    }
    expect(rows[0].public_id).not.toBe(rows[1].public_id);
    expect(await ds.query('SELECT * FROM click_counts')).toEqual([]);
    await ds.destroy();
  });
});
