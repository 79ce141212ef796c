import { fork, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import type { DataSource } from 'typeorm';
import { loadConfig } from '../../src/config';
import { buildContainer, type Container } from '../../src/container';
import { migrate } from '../../src/db/data-source';
import { createLogger } from '../../src/logger';
import { createTestDatabase, type TestDatabase } from '../../test/support/databases';

/** Shared plumbing for the benches: databases, a container, bulk members, child processes, output. */

export const ROOT = path.resolve(__dirname, '..', '..');
export const BENCH_PUBLIC_URL = 'https://klubb.cosmenor.test';
export const BENCH_TOKEN_KEYS = 'bench1:bench-secret-0123456789abcdef0123456789abcdef';
export const DEFAULT_MYSQL_URL = 'mysql://root@127.0.0.1:3306/test';

/** A database created for this run and dropped at the end (MariaDB when kind is `mysql`). */
export async function createBenchDatabase(kind: 'sqlite' | 'mysql'): Promise<TestDatabase> {
  process.env.TEST_MYSQL_URL ??= DEFAULT_MYSQL_URL;
  return createTestDatabase(kind);
}

/** The service's environment for a bench: production mode, no mail unless SMTP_URL is given. */
export function serviceEnv(
  databaseUrl: string,
  dataDir: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    SMTP_URL: `file:${path.join(dataDir, 'outbox')}`,
    PUBLIC_URL: BENCH_PUBLIC_URL,
    TOKEN_KEYS: BENCH_TOKEN_KEYS,
    DATA_DIR: dataDir,
    DOUBLE_OPT_IN: 'false',
    LOG_LEVEL: 'warn',
    ...extra,
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `kk-bench-${prefix}-`));
}

/** A container on a migrated database, logging to stderr so stdout keeps only the JSON result. */
export async function openContainer(env: Record<string, string>): Promise<Container> {
  const config = loadConfig(env);
  const c = buildContainer(config, { logger: createLogger(config.logLevel, process.stderr as never) });
  await c.dataSource.initialize();
  await migrate(c.dataSource);
  return c;
}

/**
 * Active members straight into the table: multi-row INSERTs, committed every 50,000 rows, so a
 * million members take seconds, not minutes. Addresses are `${prefix}${i}@example.no`.
 */
export async function bulkInsertActiveMembers(ds: DataSource, n: number, prefix: string): Promise<void> {
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const rowsPerStatement = 1000;
  const rowsPerTransaction = 50_000;
  const qr = ds.createQueryRunner();
  try {
    for (let txStart = 0; txStart < n; txStart += rowsPerTransaction) {
      await qr.startTransaction();
      try {
        const txEnd = Math.min(n, txStart + rowsPerTransaction);
        for (let start = txStart; start < txEnd; start += rowsPerStatement) {
          const end = Math.min(txEnd, start + rowsPerStatement);
          const values: string[] = [];
          const params: unknown[] = [];
          for (let i = start; i < end; i++) {
            values.push(`(?, ?, 'osme-mobile', 'active', ?, ?, ?)`);
            params.push(`${prefix}${i}@example.no`, `Navn${i}`, now, now, now);
          }
          await qr.query(
            `INSERT INTO members (email, first_name, source, status, created_at, updated_at, confirmed_at) VALUES ${values.join(', ')}`,
            params,
          );
        }
        await qr.commitTransaction();
      } catch (err) {
        await qr.rollbackTransaction();
        throw err;
      }
    }
  } finally {
    await qr.release();
  }
}

/** A newsletter like the ones marketing sends: three blocks, every block type. */
export const benchCampaign = (name: string) => ({
  name,
  subject: 'Julekalender hos Sothys',
  preheader: 'Tre nyheter og et tilbud',
  blocks: [
    {
      type: 'activity' as const,
      title: 'Hudpleiekveld i Oslo',
      body: 'Bli med på en kveld om hudpleie for vinterhud.\nVi viser nye produkter og gir råd.\n\nTa gjerne med en venn.',
      startsAt: '2026-12-03T18:00:00+01:00',
      location: 'Karl Johans gate 1, Oslo',
      imageUrl: 'https://sothys.no/bilder/oslo.jpg',
      link: { url: 'https://sothys.no/kveld?utm_source=nyhetsbrev', label: 'Meld deg på' },
    },
    {
      type: 'news' as const,
      title: 'Nytt serum',
      body: 'Hydra er her. Et serum for tørr vinterhud.',
      imageUrl: 'https://sothys.no/bilder/serum.jpg',
      link: { url: 'https://sothys.no/hydra?utm_source=nyhetsbrev', label: 'Les mer' },
    },
    {
      type: 'offer' as const,
      title: '20 % på ansiktskremer',
      body: 'Gjelder i appen ut desember.',
      code: 'JUL20',
      validUntil: '2026-12-24',
      link: { url: 'https://sothys.no/tilbud?utm_source=nyhetsbrev', label: 'Handle i appen' },
    },
  ],
});

/** Polls the campaign row (a primary-key read, never a count over the ledger) until it has `status`. */
export async function waitForCampaignStatus(
  c: Container,
  id: number,
  status: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows: Array<{ status: string }> = await c.dataSource.query(
      'SELECT status FROM campaigns WHERE id = ?',
      [id],
    );
    if (rows[0]?.status === status) return;
    if (Date.now() > deadline)
      throw new Error(`campaign ${id} not ${status} within ${timeoutMs} ms (is ${rows[0]?.status})`);
    await sleep(20);
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export const round = (n: number, digits = 1) => Number(n.toFixed(digits));

export const mb = (bytes: number) => round(bytes / 1024 / 1024, 1);

/** The one JSON line a bench prints on stdout (everything else goes to stderr). */
export function printResult(result: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(result) + '\n');
}

export function log(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** `--name value` from argv, or the default. */
export function argValue(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

export function argInt(name: string, fallback: number): number {
  const v = Number(argValue(name, String(fallback)).replace(/_/g, ''));
  if (!Number.isInteger(v) || v <= 0) throw new Error(`--${name} must be a positive whole number`);
  return v;
}

/**
 * Forks a TypeScript entry point (through tsx) with the given environment. Its stdout (pino JSON
 * lines) is read here and only warnings and errors are passed on to stderr. BENCH_CPU_PROF=DIR
 * adds `--cpu-prof` so the child writes a profile there on exit.
 */
export function forkTs(script: string, env: Record<string, string>, args: string[] = []): ChildProcess {
  const execArgv = ['--import', 'tsx'];
  if (process.env.BENCH_CPU_PROF) execArgv.push('--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF}`);
  const child = fork(script, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? os.tmpdir(), ...env },
    execArgv,
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  if (child.stdout) passOnWarnings(child.stdout);
  return child;
}

/**
 * The Dockerfile's `ENV NODE_OPTIONS=` (the heap flags `npm start` uses too): the one place the
 * benches take the service's runtime flags from, so they follow the image.
 */
export function imageNodeOptions(): string {
  const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
  const line = /^ENV NODE_OPTIONS=(.*)$/m.exec(dockerfile);
  if (!line) throw new Error('the Dockerfile sets no NODE_OPTIONS');
  return line[1].trim().replace(/^"(.*)"$/, '$1');
}

/** imageNodeOptions() as command-line flags. */
export const heapFlags = (): string[] => imageNodeOptions().split(/\s+/);

/**
 * `node bin/kundeklubb.js <command>` (e.g. `worker`) from the sources, exactly as operators run it,
 * with the heap flags the Dockerfile sets; its log lines of warn and above are passed on to stderr.
 */
export function spawnKundeklubb(command: string, env: Record<string, string>): ChildProcess {
  const child = spawn(process.execPath, [...heapFlags(), path.join(ROOT, 'bin', 'kundeklubb.js'), command], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      KUNDEKLUBB_FROM_SOURCE: '1',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (child.stdout) passOnWarnings(child.stdout);
  return child;
}

/** Passes on pino lines of level warn (40) and above, and anything that is not JSON. */
export function passOnWarnings(stream: NodeJS.ReadableStream): void {
  const lines = readline.createInterface({ input: stream });
  lines.on('line', (line) => {
    // pino lines start with their level: most are info, skipped without parsing them (this
    // process is the load generator; parsing every line of the service would slow its side).
    const level = /^\{"level":(\d+),/.exec(line);
    if (level) {
      if (Number(level[1]) < 40) return;
      process.stderr.write(line + '\n');
      return;
    }
    try {
      const entry = JSON.parse(line) as { level?: number };
      if ((entry.level ?? 0) < 40) return;
    } catch {
      // not a log line: show it
    }
    process.stderr.write(line + '\n');
  });
}

/** Resolves with the first IPC message of the child that satisfies `pick`; rejects if it exits first. */
export function nextMessage<T>(
  child: ChildProcess,
  pick: (m: unknown) => T | undefined,
  timeoutMs = 60_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => done(new Error(`child ${child.pid} sent no answer within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: unknown) => {
      const v = pick(m);
      if (v !== undefined) done(null, v);
    };
    const onExit = (code: number | null) =>
      done(new Error(`child ${child.pid} exited (${code}) before answering`));
    function done(err: Error | null, v?: T) {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (err) reject(err);
      else resolve(v as T);
    }
    child.on('message', onMessage);
    child.once('exit', onExit);
  });
}

/** Forks a server of bench/support (`serveAsChild`) and waits until it listens: the child and its URL. */
export async function startChildServer(
  script: string,
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = forkTs(path.join(__dirname, script), env);
  const { port } = await nextMessage(child, (m) =>
    (m as { kind?: string }).kind === 'ready' ? (m as { port: number }) : undefined,
  );
  return { child, url: `http://127.0.0.1:${port}` };
}

/** A count once the server is quiet (a warm-up's last requests were cut off mid-flight). */
export async function settled(count: () => Promise<number>): Promise<number> {
  let last = await count();
  for (;;) {
    await sleep(300);
    const now = await count();
    if (now === last) return now;
    last = now;
  }
}

/** Asks a child to stop (IPC `stop`, then SIGTERM, then SIGKILL) and waits for its exit. */
export async function stopChild(child: ChildProcess, graceMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  if (child.connected) child.send({ cmd: 'stop' });
  else child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  const code = await exited;
  clearTimeout(timer);
  return code;
}

/** The entry point of a bench script: runs it, exits 0, or prints the error and exits 1. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
