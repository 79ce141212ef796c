import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../src/config';
import { TEST_PUBLIC_URL } from './test-app';

const ROOT = path.join(__dirname, '..', '..');

/** A real worker process (`kundeklubb worker`) against a test's database and SMTP peer. */
export function spawnWorker(opts: {
  config: Config;
  databaseUrl: string;
  smtpUrl: string;
  env?: Record<string, string>;
}): ChildProcess {
  const child = spawn(process.execPath, [path.join(ROOT, 'bin', 'kundeklubb.js'), 'worker'], {
    cwd: ROOT,
    env: {
      ...process.env,
      NODE_ENV: 'test',
      DATABASE_URL: opts.databaseUrl,
      SMTP_URL: opts.smtpUrl,
      PUBLIC_URL: TEST_PUBLIC_URL,
      TOKEN_KEYS: opts.config.tokenKeys.map((k) => `${k.kid}:${k.secret}`).join(','),
      DATA_DIR: opts.config.dataDir,
      LOG_LEVEL: 'warn',
      ...opts.env,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.on('data', () => undefined);
  return child;
}

export const exited = (child: ChildProcess) =>
  new Promise<void>((r) =>
    child.exitCode !== null || child.signalCode ? r() : child.once('exit', () => r()),
  );
