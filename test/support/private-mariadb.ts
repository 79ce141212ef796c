import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { waitUntil } from './club';
import { freePort } from './ports';

/**
 * A MariaDB server of the test's own (own data directory and port on 127.0.0.1), so it can be
 * killed and restarted without touching the shared one. Starting takes about 0.1 s.
 */
export class PrivateMariaDb {
  private proc: ChildProcess | null = null;
  readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-mariadb-'));
  port = 0;
  restarts = 0;

  async init(): Promise<void> {
    execFileSync(
      'mariadb-install-db',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        '--user=root',
        '--auth-root-authentication-method=normal',
        '--skip-test-db',
      ],
      { stdio: 'ignore' },
    );
    this.port = await freePort();
    await this.start();
  }

  get running(): boolean {
    return !!this.proc && this.proc.exitCode === null && !this.proc.signalCode;
  }

  async start(): Promise<void> {
    this.proc = spawn(
      '/usr/sbin/mariadbd',
      [
        '--no-defaults',
        `--datadir=${this.dir}/data`,
        `--port=${this.port}`,
        '--bind-address=127.0.0.1',
        `--socket=${this.dir}/sock`,
        '--user=root',
        '--innodb-buffer-pool-size=64M',
      ],
      { stdio: 'ignore' },
    );
    await waitUntil(
      async () => {
        try {
          execFileSync('mariadb-admin', ['-h127.0.0.1', `-P${this.port}`, '-uroot', 'ping'], {
            stdio: 'ignore',
          });
          return true;
        } catch {
          return false;
        }
      },
      30000,
      50,
    );
  }

  /** kill -9 of the server: every connection drops at once, new ones are refused. */
  async kill(): Promise<void> {
    const p = this.proc!;
    const gone = new Promise((r) => p.once('exit', r));
    p.kill('SIGKILL');
    await gone;
  }

  /** Killed, down for `downMs`, started again (crash recovery included). */
  async restart(downMs: number): Promise<void> {
    await this.kill();
    await new Promise((r) => setTimeout(r, downMs));
    await this.start();
    this.restarts++;
  }

  /** The server URL with database `test` (a test database is created beside it per test file). */
  get url(): string {
    return `mysql://root@127.0.0.1:${this.port}/test`;
  }

  async destroy(): Promise<void> {
    if (this.running) await this.kill();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
