import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const BIN = path.join(__dirname, '..', '..', 'bin', 'kundeklubb.js');

describe('kundeklubb CLI', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-cli-'));
  const env = {
    ...process.env,
    DATA_DIR: dir,
    DATABASE_URL: `sqlite:${dir}/kk.sqlite`,
    SMTP_URL: `file:${dir}/outbox`,
    LOG_LEVEL: 'warn',
  };
  const cli = (...args: string[]) => run(process.execPath, [BIN, ...args], { env, timeout: 60000 });
  /** The CLI with `input` piped to its stdin (how scripts give `users create` the password). */
  const cliWithInput = (input: string, ...args: string[]) =>
    new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), 60000);
      child.once('error', reject);
      child.once('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(input);
    });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates a client on a brand-new database and prints only the token', async () => {
    const { stdout } = await cli(
      'clients',
      'create',
      '--name',
      'osme-app',
      '--scopes',
      'members:write,members:read',
    );
    expect(stdout).toMatch(/^kk_[A-Za-z0-9_-]{40,}\n$/);
    const list = await cli('clients', 'list');
    expect(list.stdout).toMatch(/^osme-app\tmembers:write,members:read\t\S+\tactive$/m);
    expect(list.stdout).not.toContain(stdout.trim());
    const db = fs.readFileSync(`${dir}/kk.sqlite`);
    expect(db.includes(Buffer.from(stdout.trim()))).toBe(false);
    await cli('clients', 'revoke', 'osme-app');
    expect((await cli('clients', 'list')).stdout).toMatch(/osme-app\t.*\trevoked /);
  });

  it('refuses unknown scopes and bad configuration with one line, no stack trace', async () => {
    const scopes = await cli('clients', 'create', '--name', 'x', '--scopes', 'root').catch((e) => e);
    expect(scopes.code).toBe(1);
    expect(scopes.stderr).toMatch(/^kundeklubb: scopes must be a comma list of/);
    const bad = await run(process.execPath, [BIN, 'migrate'], { env: { ...env, SEND_RATE: 'fast' } }).catch(
      (e) => e,
    );
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('kundeklubb: SEND_RATE: must be a number');
    const prod = await run(process.execPath, [BIN, 'serve'], {
      env: { ...env, NODE_ENV: 'production', TOKEN_KEYS: '' },
    }).catch((e) => e);
    expect(prod.code).toBe(1);
    expect(prod.stderr.trim()).toBe('kundeklubb: TOKEN_KEYS: required when NODE_ENV=production');
  });

  it('migrate reports an up-to-date schema the second time', async () => {
    await cli('migrate');
    expect((await cli('migrate')).stdout.trim()).toBe('schema is up to date');
  });

  it('users create, list and disable staff accounts; the password comes from stdin and is never printed', async () => {
    const password = 'et langt nok passord 2026';
    const created = await cliWithInput(
      `${password}\n`,
      'users',
      'create',
      '--email',
      'Kari.Staff@Cosmenor.no',
      '--role',
      'marketing',
    );
    expect(created).toMatchObject({ code: 0, stdout: 'created kari.staff@cosmenor.no (marketing)\n' });
    const tooShort = await cliWithInput(
      'kort\n',
      'users',
      'create',
      '--email',
      'ola@cosmenor.no',
      '--role',
      'privacy',
    );
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/^kundeklubb: .*password/i);
    const listed = await cli('users', 'list');
    expect(listed.stdout).toMatch(/^kari\.staff@cosmenor\.no\tmarketing\t\S+\tactive$/m);
    expect(listed.stdout).not.toMatch(/ola@cosmenor\.no/);
    expect(listed.stdout + created.stdout).not.toContain(password);
    expect(fs.readFileSync(`${dir}/kk.sqlite`).includes(Buffer.from(password))).toBe(false);

    expect((await cli('users', 'disable', '--email', 'kari.staff@cosmenor.no')).stdout).toBe(
      'disabled kari.staff@cosmenor.no\n',
    );
    expect((await cli('users', 'list')).stdout).toMatch(
      /^kari\.staff@cosmenor\.no\tmarketing\t\S+\tdisabled \S+$/m,
    );
  });
});
