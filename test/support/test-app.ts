import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Express } from 'express';
import { loadConfig, type Config } from '../../src/config';
import { buildContainer, type Container, type ContainerOverrides } from '../../src/container';
import { migrate } from '../../src/db/data-source';
import { createApp } from '../../src/app';
import { createLogger } from '../../src/logger';
import type { Clock } from '../../src/db/time';
import { createTestDatabase, type TestDatabase } from './databases';
import { startSmtpPeer, type SmtpPeer } from './smtp-peer';

export interface TestApp {
  app: Express;
  c: Container;
  config: Config;
  db: TestDatabase;
  peer: SmtpPeer;
  /** Every log line the service wrote, as raw JSON text. */
  logs: string[];
  tokens: { app: string; read: string; campaigns: string; privacy: string; admin: string };
  close(): Promise<void>;
}

export const TEST_PUBLIC_URL = 'http://kundeklubb.test';

/** A real service on a fresh database (migrated) with a real SMTP peer; no HTTP listener. */
export async function startTestApp(
  kind: 'sqlite' | 'mysql',
  opts: {
    env?: Record<string, string>;
    clock?: Clock;
    mysqlUrl?: string;
    peerParse?: boolean;
    /** E.g. the SES webhook's fetch, offline. */
    overrides?: Omit<ContainerOverrides, 'logger' | 'clock'>;
  } = {},
): Promise<TestApp> {
  const db = await createTestDatabase(kind, opts.mysqlUrl);
  const peer = await startSmtpPeer({ parse: opts.peerParse ?? true });
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-data-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATABASE_URL: db.url,
    SMTP_URL: peer.url,
    PUBLIC_URL: TEST_PUBLIC_URL,
    TOKEN_KEYS: 'k1:test-secret-0123456789abcdef0123456789abcdef',
    DATA_DIR: dataDir,
    SEND_RATE: '1000',
    LOG_LEVEL: 'debug',
    ...opts.env,
  });
  const logs: string[] = [];
  const logger = createLogger('debug', { write: (line: string) => void logs.push(line) });
  const c = buildContainer(config, { ...opts.overrides, logger, clock: opts.clock });
  await c.dataSource.initialize();
  await migrate(c.dataSource);
  const tokens = {
    app: await c.clients.create('app', ['members:write', 'members:read']),
    read: await c.clients.create('reader', ['members:read']),
    campaigns: await c.clients.create('marketing', ['campaigns']),
    privacy: await c.clients.create('privacy', ['privacy', 'members:read']),
    admin: await c.clients.create('admin', ['admin']),
  };
  return {
    app: createApp(c),
    c,
    config,
    db,
    peer,
    logs,
    tokens,
    async close() {
      await c.close();
      await peer.stop();
      await db.drop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** A sign-up body with sensible defaults. */
export function buildSignUp(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    email: `kari.${Math.random().toString(36).slice(2, 10)}@example.no`,
    firstName: 'Kari',
    lastName: 'Nordmann',
    phone: '+4791234567',
    source: 'osme-mobile',
    sourceVersion: '4.2.0',
    consent: { textVersion: 'kundeklubb-2024-05', givenAt: '2026-11-25T10:00:00Z' },
    ...overrides,
  };
}

/** Reads every row of every table: for "no IP / no address anywhere" assertions. */
export async function dumpAllTables(c: Container): Promise<string> {
  const kind = c.dataSource.options.type;
  const tables: string[] =
    kind === 'mysql'
      ? (await c.dataSource.query('SHOW TABLES')).map((r: Record<string, string>) => Object.values(r)[0])
      : (await c.dataSource.query(`SELECT name FROM sqlite_master WHERE type = 'table'`)).map(
          (r: { name: string }) => r.name,
        );
  const parts: string[] = [];
  for (const t of tables) {
    const q = kind === 'mysql' ? `SELECT * FROM \`${t}\`` : `SELECT * FROM "${t}"`;
    parts.push(`== ${t}\n${JSON.stringify(await c.dataSource.query(q))}`);
  }
  return parts.join('\n');
}

export const linkIn = (text: string, re: RegExp): string | null => {
  const m = text.match(re);
  return m ? m[0].replace(/&amp;/g, '&') : null;
};
