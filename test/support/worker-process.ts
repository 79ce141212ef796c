import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import type { Config } from '../../src/config';
import { TEST_PUBLIC_URL } from './test-app';

export const ROOT = path.join(__dirname, '..', '..');
export const BIN = path.join(ROOT, 'bin', 'kundeklubb.js');

/** The environment of a service process for a test's database and SMTP peer. */
export function serviceEnv(opts: {
  config: Config;
  databaseUrl: string;
  smtpUrl: string;
  env?: Record<string, string>;
}): Record<string, string> {
  return {
    NODE_ENV: 'test',
    DATABASE_URL: opts.databaseUrl,
    SMTP_URL: opts.smtpUrl,
    PUBLIC_URL: TEST_PUBLIC_URL,
    TOKEN_KEYS: opts.config.tokenKeys.map((k) => `${k.kid}:${k.secret}`).join(','),
    DATA_DIR: opts.config.dataDir,
    LOG_LEVEL: 'warn',
    ...opts.env,
  };
}

/** A real worker process (`kundeklubb worker`) against a test's database and SMTP peer. */
export function spawnWorker(opts: {
  config: Config;
  databaseUrl: string;
  smtpUrl: string;
  env?: Record<string, string>;
}): ChildProcess {
  return spawnService('worker', { env: serviceEnv(opts) }).child;
}

export interface ServiceProcess {
  child: ChildProcess;
  /** The process's log lines (stdout and stderr), the last 2,000. */
  output: string[];
}

/**
 * `kundeklubb <command>` from the sources (never a stale dist/), with exactly `env` on top of PATH
 * and HOME: nothing of the test's own environment leaks in. `nodeArgs` as `npm start` passes them.
 */
export function spawnService(
  command: 'start' | 'serve' | 'worker',
  opts: { env: Record<string, string>; cwd?: string; nodeArgs?: string[] },
): ServiceProcess {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), BIN, command], {
    cwd: opts.cwd ?? ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      KUNDEKLUBB_FROM_SOURCE: '1',
      ...opts.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  const keep = (chunk: Buffer) => {
    output.push(...chunk.toString('utf8').split('\n').filter(Boolean));
    if (output.length > 2000) output.splice(0, output.length - 2000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  return { child, output };
}

export const exited = (child: ChildProcess) =>
  new Promise<void>((r) =>
    child.exitCode !== null || child.signalCode ? r() : child.once('exit', () => r()),
  );

/** SIGTERM, then SIGKILL if it has not ended within `ms`. */
export async function stopProcess(child: ChildProcess, ms = 30_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), ms);
  await exited(child);
  clearTimeout(timer);
}
