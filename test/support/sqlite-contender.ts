/**
 * Child process for the SQLite multi-process test: for `ms` milliseconds, runs read-then-write
 * transactions (read a counter, wait a moment, write it back plus one) on the given file, as an
 * API process and a worker process sharing one SQLite file do. Prints `{ ok, busy, other }`.
 */
import { createDataSource } from '../../src/db/data-source';
import { execute } from '../../src/db/sql';

async function main(): Promise<void> {
  const [file, ms] = [process.argv[2], Number(process.argv[3])];
  const ds = createDataSource(`sqlite:${file}`, []);
  await ds.initialize();
  const counts = { ok: 0, busy: 0, other: 0 };
  const end = Date.now() + ms;
  while (Date.now() < end) {
    try {
      await ds.transaction(async (m) => {
        const r = await execute(m, 'SELECT n FROM counter WHERE id = 1');
        await new Promise((res) => setTimeout(res, 1));
        await execute(m, 'UPDATE counter SET n = ? WHERE id = 1', [Number(r.records[0].n) + 1]);
      });
      counts.ok++;
    } catch (err) {
      const code = (err as { driverError?: { code?: string } }).driverError?.code ?? '';
      if (code.startsWith('SQLITE_BUSY')) counts.busy++;
      else counts.other++;
    }
    await new Promise((res) => setTimeout(res, 2));
  }
  await ds.destroy();
  process.stdout.write(JSON.stringify(counts));
}

void main();
