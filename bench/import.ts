import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { createApp } from '../src/app';
import type { Container } from '../src/container';
import type { ImportView } from '../src/imports/imports.schema';
import { searchTokens } from '../src/db/search-tokens';
import { toDbTime } from '../src/db/time';
import {
  argInt,
  argValue,
  createBenchDatabase,
  log,
  mb,
  openContainer,
  printResult,
  round,
  runBench,
  serviceEnv,
  sleep,
  tempDir,
} from './support/bench-env';
import { loadAverage, median, spread, turnOrder } from './support/rounds';

/**
 * CSV import (CONTRACT §11): `--rows` (default 100,000) rows, every one with consent evidence, in
 * the Excel-Norwegian shape (`;`, CRLF, a BOM, æøå, dd.mm.yyyy), posted to `POST /v1/imports` of
 * the service's HTTP app (in this process, on a fresh database) and followed by `GET /v1/imports/:id`
 * until it is completed; rows/s from the POST to the end. RSS is sampled every 50 ms from the POST
 * to the end; the figure is the peak over the idle RSS just before (after a warm-up import of
 * 10,000 rows and a full GC, as in a service that has worked), with the peak by quarter of the
 * file to show it flat, and the heap a full GC leaves after the import (retained memory).
 * Checks: the report's counts, and the members, consent events and app events written.
 *
 * Baselines, same run and same database kind, each into a fresh database with the same schema,
 * the rows already in memory, one transaction per batch of the same size:
 * - `bare`: a bare loop of multi-row INSERTs writing the same rows as the import does (the
 *   members, their consent events, their search tokens, two app events each with the counter
 *   bumped): what the import costs beyond its writes (reading, checking, planning, HTTP);
 * - `membersOnly`: the members rows alone, one INSERT per batch: what writing the CSV's rows costs
 *   without the evidence, events and search tokens the service keeps with each member.
 *
 * The import and the two loops take turns for 3 rounds (the order reversed every other round),
 * new addresses each round into each side's own database: medians with their spread, the ratio
 * the median of the rounds' ratios; RSS of the round that grew most.
 *
 *   --rows N   --rounds N   --db sqlite,mariadb (default both)
 */

const SAMPLE_MS = 50;
/** A working service's young generation has grown: the idle RSS is taken after this import and a full GC. */
const WARMUP_ROWS = 10_000;

function fullGc(): void {
  v8.setFlagsFromString('--expose-gc');
  (vm.runInNewContext('gc') as () => void)();
}

const FIRST = ['Åse', 'Bjørn', 'Kåre', 'Sølvi', 'Ærlend', 'Marte', 'Ingrid', 'Per'];
const LAST = ['Ødegård', 'Ærlig', 'Blå', 'Ålesund', 'Lærum', 'Nordmann', 'Haugen', 'Bakke'];

interface Row {
  email: string;
  firstName: string;
  lastName: string;
  phone: string;
  partnerId: string;
}

function rowsOf(prefix: string, n: number): Row[] {
  return Array.from({ length: n }, (_v, i) => ({
    email: `${prefix}.${i}@example.no`,
    firstName: FIRST[i % FIRST.length],
    lastName: LAST[(i * 7) % LAST.length],
    phone: `+479${String(1000000 + i).slice(-7)}`,
    partnerId: `salong-${i % 40}`,
  }));
}

/** The file as Excel in Norwegian writes it. */
function writeCsv(file: string, rows: Row[]): void {
  const fd = fs.openSync(file, 'w');
  fs.writeSync(fd, '\ufeffemail;firstName;lastName;phone;partnerId;consentTextVersion;consentGivenAt\r\n');
  for (let i = 0; i < rows.length; i += 1000) {
    const lines = rows
      .slice(i, i + 1000)
      .map((r, j) => {
        const day = ((i + j) % 28) + 1;
        return `${r.email};${r.firstName};${r.lastName};${r.phone};${r.partnerId};kundeklubb-2024-05;${String(day).padStart(2, '0')}.03.2025\r\n`;
      })
      .join('');
    fs.writeSync(fd, lines);
  }
  fs.closeSync(fd);
}

function request(
  port: number,
  method: string,
  url: string,
  token: string,
  body?: string,
): Promise<{ status: number; json: ImportView }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { authorization: `Bearer ${token}` };
    if (body) {
      headers['content-type'] = 'text/csv';
      headers['content-length'] = fs.statSync(body).size;
    }
    const req = http.request({ host: '127.0.0.1', port, method, path: url, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    if (body) fs.createReadStream(body).pipe(req);
    else req.end();
  });
}

/** POSTs the file and polls until the import ends; the report and the seconds it took. */
async function runImport(
  port: number,
  token: string,
  file: string,
): Promise<{ report: ImportView; seconds: number }> {
  const t0 = performance.now();
  const started = await request(port, 'POST', '/v1/imports', token, file);
  if (started.status !== 201)
    throw new Error(`import not started: ${started.status} ${JSON.stringify(started.json)}`);
  for (;;) {
    const r = await request(port, 'GET', `/v1/imports/${started.json.id}`, token);
    if (r.json.status !== 'running') return { report: r.json, seconds: (performance.now() - t0) / 1000 };
    await sleep(100);
  }
}

async function count(c: Container, sql: string): Promise<number> {
  return Number((await c.dataSource.query(sql))[0].n);
}

const values = (rows: number, one: string) => Array.from({ length: rows }, () => one).join(', ');

/** A bare loop of batched INSERTs: every row the import writes for the members, or the members alone. */
async function bareLoop(
  c: Container,
  rows: Row[],
  batchSize: number,
  writes: 'same' | 'members-only',
): Promise<number> {
  const now = toDbTime(new Date());
  const t0 = performance.now();
  for (let i = 0; i < rows.length; i += batchSize) {
    const chunk = rows.slice(i, i + batchSize);
    await c.dataSource.transaction(async (m) => {
      await m.query(
        `INSERT INTO members (email, first_name, last_name, phone, source, partner_id, status, created_at, updated_at, confirmed_at)
         VALUES ${values(chunk.length, "(?, ?, ?, ?, 'import', ?, 'active', ?, ?, ?)")}`,
        chunk.flatMap((r) => [r.email, r.firstName, r.lastName, r.phone, r.partnerId, now, now, now]),
      );
      if (writes === 'members-only') return;
      const ids: Array<{ id: number; email: string }> = await m.query(
        `SELECT id, email FROM members WHERE email IN (${values(chunk.length, '?')})`,
        chunk.map((r) => r.email),
      );
      await m.query(
        `INSERT INTO consent_events (member_id, type, occurred_at, source, text_version, text_sha256, given_at, file_sha256, file_row)
         VALUES ${values(ids.length, "(?, 'imported', ?, 'import', 'kundeklubb-2024-05', ?, ?, ?, ?)")}`,
        ids.flatMap((r, j) => [r.id, now, 'a'.repeat(64), now, 'b'.repeat(64), i + j + 2]),
      );
      const byEmail = new Map(chunk.map((r) => [r.email, r]));
      const tokens = ids.flatMap((r) => searchTokens(byEmail.get(r.email)!).map((t) => [t, r.id]));
      for (let k = 0; k < tokens.length; k += 4000) {
        const part = tokens.slice(k, k + 4000);
        await m.query(
          `INSERT INTO member_search_tokens (token, member_id) VALUES ${values(part.length, '(?, ?)')}`,
          part.flat(),
        );
      }
      await m.query('UPDATE event_sequence SET value = value + ? WHERE id = 1', [2 * ids.length]);
      const [seq] = await m.query('SELECT value FROM event_sequence WHERE id = 1');
      const first = Number(seq.value) - 2 * ids.length + 1;
      await m.query(
        `INSERT INTO member_events (sequence, type, member_id, external_id, source, status, channel, occurred_at)
         VALUES ${values(2 * ids.length, "(?, ?, ?, NULL, 'import', 'active', NULL, ?)")}`,
        ids.flatMap((r, j) => [
          first + 2 * j,
          'member.created',
          r.id,
          now,
          first + 2 * j + 1,
          'member.confirmed',
          r.id,
          now,
        ]),
      );
    });
  }
  return (performance.now() - t0) / 1000;
}

/** A fresh database of the kind, migrated, for one baseline; dropped by the caller. */
async function baselineDb(kind: 'sqlite' | 'mysql', label: string, cleanup: Array<() => Promise<void>>) {
  const db = await createBenchDatabase(kind);
  const c = await openContainer(serviceEnv(db.url, tempDir(`import-bare-${label}`), { LOG_LEVEL: 'warn' }));
  cleanup.push(async () => {
    await c.close();
    await db.drop();
  });
  return c;
}

interface ImportRound {
  seconds: number;
  answeredMs: number;
  idleRss: number;
  peakRss: number;
  byQuarter: number[];
  atPeak: NodeJS.MemoryUsage;
  idleUsage: NodeJS.MemoryUsage;
  heapRetained: number;
}

/** One import of `rows` through the HTTP app, RSS sampled; throws unless every row became a member. */
async function measureImport(
  c: Container,
  port: number,
  token: string,
  file: string,
  n: number,
  label: string,
): Promise<ImportRound> {
  fullGc();
  await sleep(500);
  const idleUsage = process.memoryUsage();
  const membersBefore = await count(c, 'SELECT COUNT(*) AS n FROM members');
  const eventsBefore = await c.events.lastSequence();
  let peakRss = idleUsage.rss;
  let atPeak = idleUsage;
  const byQuarter = [0, 0, 0, 0].map(() => idleUsage.rss);
  let quarter = 0;
  const sampler = setInterval(() => {
    const usage = process.memoryUsage();
    if (usage.rss > peakRss) {
      peakRss = usage.rss;
      atPeak = usage;
    }
    byQuarter[quarter] = Math.max(byQuarter[quarter], usage.rss);
  }, SAMPLE_MS);
  const t0 = performance.now();
  const started = await request(port, 'POST', '/v1/imports', token, file);
  if (started.status !== 201) throw new Error(`import not started: ${started.status}`);
  const answeredMs = performance.now() - t0;
  let report: ImportView;
  for (;;) {
    report = (await request(port, 'GET', `/v1/imports/${started.json.id}`, token)).json;
    quarter = Math.min(3, Math.floor(report.progress * 4));
    if (report.status !== 'running') break;
    await sleep(100);
  }
  const seconds = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  fullGc();
  const heapRetained = process.memoryUsage().heapUsed - idleUsage.heapUsed;

  const members = (await count(c, 'SELECT COUNT(*) AS n FROM members')) - membersBefore;
  const consentEvents = await count(
    c,
    `SELECT COUNT(*) AS n FROM consent_events WHERE file_sha256 = '${report.sha256}'`,
  );
  const events = (await c.events.lastSequence()) - eventsBefore;
  if (
    report.status !== 'completed' ||
    report.created !== n ||
    members !== n ||
    consentEvents !== n ||
    events !== 2 * n
  )
    throw new Error(
      `${label}: expected ${n} created: report ${JSON.stringify({ ...report, errors: report.errors.slice(0, 3) })}, members ${members}, consent events ${consentEvents}, events ${events}`,
    );
  return {
    seconds,
    answeredMs,
    idleRss: idleUsage.rss,
    peakRss,
    byQuarter,
    atPeak,
    idleUsage,
    heapRetained,
  };
}

/**
 * The import and the two bare loops take turns for `rounds` rounds (the order reversed every other
 * round), each round with new addresses into each side's own database; medians and spread.
 */
async function benchOn(kind: 'sqlite' | 'mysql', n: number, rounds: number, dir: string): Promise<void> {
  const label = kind === 'mysql' ? 'mariadb' : 'sqlite';
  const db = await createBenchDatabase(kind);
  const dataDir = tempDir(`import-${label}`);
  const cleanup: Array<() => Promise<void>> = [];
  let c: Container | undefined;
  let server: http.Server | undefined;
  const loadBefore = loadAverage();
  try {
    c = await openContainer(serviceEnv(db.url, dataDir, { LOG_LEVEL: 'warn' }));
    const service = c;
    const batchSize = service.config.imports.batchSize;
    const token = await service.clients.create('bench-admin', ['admin']);
    const app = createApp(service);
    server = await new Promise<http.Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (server.address() as AddressInfo).port;
    const bare = await baselineDb(kind, label, cleanup);
    const membersOnly = await baselineDb(kind, `${label}-members`, cleanup);

    const warmFile = path.join(dir, `warm-${label}.csv`);
    writeCsv(warmFile, rowsOf(`varm-${label}`, WARMUP_ROWS));
    const warm = await runImport(port, token, warmFile);
    if (warm.report.created !== WARMUP_ROWS) throw new Error(`warm-up: ${JSON.stringify(warm.report)}`);
    await bareLoop(bare, rowsOf(`varm-${label}`, WARMUP_ROWS), batchSize, 'same');
    await bareLoop(membersOnly, rowsOf(`varm-${label}`, WARMUP_ROWS), batchSize, 'members-only');

    const imports: ImportRound[] = [];
    const bareSeconds: number[] = [];
    const membersOnlySeconds: number[] = [];
    let fileBytes = 0;
    for (let r = 0; r < rounds; r++) {
      const rows = rowsOf(`import-${label}-r${r}`, n);
      const file = path.join(dir, `import-${label}-r${r}.csv`);
      writeCsv(file, rows);
      fileBytes = fs.statSync(file).size;
      for (const side of turnOrder(['import', 'bare', 'members-only'] as const, r)) {
        if (side === 'import') {
          const m = await measureImport(service, port, token, file, n, label);
          imports.push(m);
          log(
            `${label} round ${r + 1}: import ${Math.round(n / m.seconds)} rows/s, RSS +${mb(m.peakRss - m.idleRss)} MB`,
          );
        } else if (side === 'bare') {
          bareSeconds.push(await bareLoop(bare, rows, batchSize, 'same'));
          log(
            `${label} round ${r + 1}: bare loop ${Math.round(n / bareSeconds[bareSeconds.length - 1])} rows/s`,
          );
        } else {
          membersOnlySeconds.push(await bareLoop(membersOnly, rows, batchSize, 'members-only'));
        }
      }
      fs.rmSync(file, { force: true });
    }
    const rate = (seconds: number[]) =>
      spread(
        seconds.map((sec) => n / sec),
        0,
      );
    const importRate = rate(imports.map((m) => m.seconds));
    const bareRate = rate(bareSeconds);
    const membersOnlyRate = rate(membersOnlySeconds);
    // Each round's ratio to the baseline measured beside it, then their median.
    const ratios = imports.map((m, i) => bareSeconds[i] / m.seconds);
    const ratiosMembersOnly = imports.map((m, i) => membersOnlySeconds[i] / m.seconds);
    const worst = imports.reduce((a, b) => (b.peakRss - b.idleRss > a.peakRss - a.idleRss ? b : a));
    printResult({
      bench: 'import',
      db: label,
      rows: n,
      rounds,
      batchSize,
      fileMb: mb(fileBytes),
      rowsPerSecond: importRate.median,
      rowsPerSecondMin: importRate.min,
      rowsPerSecondMax: importRate.max,
      answeredMs: Math.round(median(imports.map((m) => m.answeredMs))),
      bareRowsPerSecond: bareRate.median,
      bareRowsPerSecondMin: bareRate.min,
      bareRowsPerSecondMax: bareRate.max,
      ratio: round(median(ratios), 2),
      ratioMin: round(Math.min(...ratios), 2),
      ratioMax: round(Math.max(...ratios), 2),
      membersOnlyRowsPerSecond: membersOnlyRate.median,
      ratioMembersOnly: round(median(ratiosMembersOnly), 2),
      // The round whose RSS grew most: its peak over the idle RSS just before it, by quarter of the file.
      rssIdleMb: mb(worst.idleRss),
      rssPeakMb: mb(worst.peakRss),
      rssGrowthMb: mb(worst.peakRss - worst.idleRss),
      rssGrowthByRoundMb: imports.map((m) => mb(m.peakRss - m.idleRss)),
      rssPeakByQuarterMb: worst.byQuarter.map(mb),
      // Where the peak's memory was (V8's heap used and reserved, buffers outside it), and what a full GC after the import leaves over idle.
      atPeakMb: {
        heapUsed: mb(worst.atPeak.heapUsed),
        heapTotal: mb(worst.atPeak.heapTotal),
        external: mb(worst.atPeak.external),
      },
      idleMb: {
        heapUsed: mb(worst.idleUsage.heapUsed),
        heapTotal: mb(worst.idleUsage.heapTotal),
        external: mb(worst.idleUsage.external),
      },
      heapRetainedMb: mb(Math.max(...imports.map((m) => m.heapRetained))),
      goal: { rowsPerSecond: 5000, ratio: 0.5, rssGrowthMb: 50 },
      loadAverage: { before: loadBefore, after: loadAverage() },
    });
  } finally {
    if (server) await new Promise<void>((r) => server!.close(() => r()));
    await c?.close();
    await db.drop();
    for (const f of cleanup) await f();
  }
}

async function main(): Promise<void> {
  const n = argInt('rows', 100_000);
  const rounds = argInt('rounds', 3);
  const kinds = argValue('db', 'sqlite,mariadb')
    .split(',')
    .map((k) => (k === 'mariadb' ? 'mysql' : k)) as Array<'sqlite' | 'mysql'>;
  const dir = tempDir('import-files');
  try {
    for (const kind of kinds) await benchOn(kind, n, rounds, dir);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

runBench(main);
