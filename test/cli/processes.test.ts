import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { databaseKinds, createTestDatabase, type TestDatabase } from '../support/databases';
import { startTestApp, buildSignUp, linkIn, type TestApp } from '../support/test-app';
import { buildCampaign } from '../support/factories';
import { waitUntil } from '../support/club';
import { freePort } from '../support/ports';
import { startSmtpPeer, type SmtpPeer } from '../support/smtp-peer';
import { startTcpProxy } from '../support/tcp-proxy';
import {
  BIN,
  ROOT,
  serviceEnv,
  spawnService,
  stopProcess,
  type ServiceProcess,
} from '../support/worker-process';

const SUBJECT = buildCampaign().subject;

/** `npm start` as package.json defines it: node with its options, then bin/kundeklubb.js start. */
function npmStartNodeArgs(): string[] {
  const script: string = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).scripts.start;
  const parts = script.split(/\s+/);
  expect(parts[0]).toBe('node');
  expect(parts.slice(-2)).toEqual(['bin/kundeklubb.js', 'start']);
  return parts.slice(1, -2);
}

/** A small HTTP client for a spawned service on 127.0.0.1. */
function api(port: number, token?: string) {
  const call = async (method: string, url: string, body?: unknown, form?: boolean) => {
    const res = await fetch(`http://127.0.0.1:${port}${url}`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined
          ? { 'content-type': form ? 'application/x-www-form-urlencoded' : 'application/json' }
          : {}),
      },
      body: body === undefined ? undefined : form ? String(body) : JSON.stringify(body),
      signal: AbortSignal.timeout(15000),
    });
    const text = await res.text();
    let json: Record<string, unknown> = {};
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON (a page)
    }
    return {
      status: res.status,
      type: res.headers.get('content-type') ?? '',
      headers: res.headers,
      text,
      json,
    };
  };
  return {
    get: (url: string) => call('GET', url),
    post: (url: string, body: unknown = {}) => call('POST', url, body),
    form: (url: string, body: string) => call('POST', url, body, true),
  };
}

const newsletters = (peer: SmtpPeer) => peer.mails.filter((m) => m.parsed.subject === SUBJECT);

/** Preloaded (`--import`): on SIGUSR2 the process prints the npm packages it has loaded, as one log line. */
const LOADED_PACKAGES_PROBE = `data:text/javascript,${encodeURIComponent(
  "import { createRequire } from 'node:module';" +
    "process.on('SIGUSR2', () => { const cache = createRequire(process.cwd() + '/').cache;" +
    'const names = Object.keys(cache).map((f) => /node_modules\\/((@[^/]+\\/)?[^/]+)/.exec(f)?.[1]).filter(Boolean);' +
    "process.stdout.write(JSON.stringify({ msg: 'loaded packages', packages: [...new Set(names)].sort() }) + '\\n'); });",
)}`;

describe.each(databaseKinds())('service processes on %s', (kind) => {
  const running: ServiceProcess[] = [];
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const s of running.splice(0)) await stopProcess(s.child, 5000);
    for (const f of cleanup.splice(0).reverse()) await f();
  });
  const spawn = (...args: Parameters<typeof spawnService>) => {
    const s = spawnService(...args);
    running.push(s);
    return s;
  };
  const untilLogged = (s: ServiceProcess, msg: string) =>
    waitUntil(async () => s.output.some((l) => l.includes(`"msg":"${msg}"`)), 30000);

  it(`npm start with ${kind === 'sqlite' ? 'no configuration' : 'only DATABASE_URL'} serves HTTP and sends: sign-up, confirmation, a one-member campaign`, async () => {
    const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-start-'));
    const peer = await startSmtpPeer();
    let db: TestDatabase | undefined;
    cleanup.push(async () => {
      await peer.stop();
      await db?.drop();
      fs.rmSync(cwd, { recursive: true, force: true });
    });
    if (kind === 'mysql') db = await createTestDatabase('mysql');
    const port = await freePort();
    // Nothing else: no NODE_ENV, no keys, no PUBLIC_URL. Only where to listen and the relay to use.
    const env: Record<string, string> = {
      PORT: String(port),
      SMTP_URL: peer.url,
      ...(db ? { DATABASE_URL: db.url } : {}),
    };
    const service = spawn('start', { env, cwd, nodeArgs: npmStartNodeArgs() });
    await untilLogged(service, 'listening');
    if (kind === 'sqlite') {
      expect(fs.existsSync(path.join(cwd, 'data', 'kundeklubb.sqlite'))).toBe(true);
      expect(fs.existsSync(path.join(cwd, 'data', 'token-keys'))).toBe(true);
    }
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [BIN, 'clients', 'create', '--name', 'app', '--scopes', 'members:write,campaigns'],
      { cwd, env: { PATH: process.env.PATH ?? '', KUNDEKLUBB_FROM_SOURCE: '1', LOG_LEVEL: 'warn', ...env } },
    );
    const http = api(port, stdout.trim());

    expect(await http.get('/healthz')).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await http.get('/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });
    const signUp = await http.post('/v1/members', buildSignUp({ email: 'start@example.no' }));
    expect(signUp).toMatchObject({ status: 201, json: { status: 'pending' } });
    await peer.waitFor((m) => m.length === 1, 20000);
    const link = linkIn(peer.mails[0].parsed.text ?? '', /http:\/\/localhost:\d+\/c\/[A-Za-z0-9_-]+/);
    expect(link).toBeTruthy();
    const confirmPath = new URL(link!).pathname;
    expect((await http.form(confirmPath, '')).status).toBe(200);

    const campaign = await http.post('/v1/campaigns', buildCampaign());
    expect(campaign.status).toBe(201);
    expect((await http.post(`/v1/campaigns/${campaign.json.id}/send`)).status).toBe(202);
    await peer.waitFor(() => newsletters(peer).length === 1, 30000);
    expect(newsletters(peer)[0].rcpt).toEqual(['start@example.no']);
    await waitUntil(
      async () => (await http.get(`/v1/campaigns/${campaign.json.id}/stats`)).json.status === 'sent',
      20000,
    );
    await stopProcess(service.child);
    expect(service.child.exitCode).toBe(0);
  });

  it('`serve` serves and sends no newsletter; `worker` sends them, serves nothing and never loads the MJML compiler or the HTTP app', async () => {
    const t: TestApp = await startTestApp(kind);
    const workerPeer = await startSmtpPeer();
    cleanup.push(async () => {
      await workerPeer.stop();
      await t.close();
    });
    const [servePort, workerPort] = [await freePort(), await freePort()];
    const base = { config: t.config, databaseUrl: t.db.url };
    // Each process has its own relay, so every mail says who sent it.
    const serve = spawn('serve', {
      env: serviceEnv({
        ...base,
        smtpUrl: t.peer.url,
        env: { PORT: String(servePort), DOUBLE_OPT_IN: 'false', LOG_LEVEL: 'info' },
      }),
      nodeArgs: ['--import', LOADED_PACKAGES_PROBE],
    });
    const worker = spawn('worker', {
      env: serviceEnv({
        ...base,
        smtpUrl: workerPeer.url,
        env: { PORT: String(workerPort), LOG_LEVEL: 'info' },
      }),
      nodeArgs: ['--import', LOADED_PACKAGES_PROBE],
    });
    await untilLogged(serve, 'listening');
    await untilLogged(worker, 'worker started');

    const app = api(servePort, t.tokens.app);
    const marketing = api(servePort, t.tokens.campaigns);
    expect((await app.get('/healthz')).status).toBe(200);
    // The worker listens nowhere.
    await expect(fetch(`http://127.0.0.1:${workerPort}/healthz`)).rejects.toThrow();
    expect(worker.output.some((l) => l.includes('"msg":"listening"'))).toBe(false);

    for (let i = 0; i < 3; i++)
      expect((await app.post('/v1/members', buildSignUp({ email: `rolle${i}@example.no` }))).status).toBe(
        201,
      );
    const campaign = await marketing.post('/v1/campaigns', buildCampaign());
    expect((await marketing.post(`/v1/campaigns/${campaign.json.id}/send`)).status).toBe(202);
    // The campaign completes while both run: if `serve` sent newsletters too, its relay would have some.
    await waitUntil(
      async () => (await marketing.get(`/v1/campaigns/${campaign.json.id}/stats`)).json.status === 'sent',
      30000,
    );
    expect(
      newsletters(workerPeer)
        .flatMap((m) => m.rcpt)
        .sort(),
    ).toEqual(['rolle0@example.no', 'rolle1@example.no', 'rolle2@example.no']);
    expect(newsletters(t.peer)).toHaveLength(0);
    // Only the worker process heartbeats as a delivery worker.
    expect(await t.c.dataSource.query('SELECT id FROM workers')).toHaveLength(1);

    // The worker sent the stored render: it never loaded MJML (about 60 MB), nor what only an
    // HTTP server or the bounce listener needs. `serve` compiled the newsletter, and serves.
    const loaded = async (s: ServiceProcess): Promise<string[]> => {
      s.child.kill('SIGUSR2');
      const line = await waitUntil(async () => s.output.find((l) => l.includes('"msg":"loaded packages"')));
      return JSON.parse(line).packages;
    };
    const workerPackages = await loaded(worker);
    expect(workerPackages).toEqual(expect.arrayContaining(['nodemailer', 'typeorm']));
    for (const heavy of ['mjml', 'html-to-text', 'express', 'helmet', 'smtp-server', 'mailparser'])
      expect(workerPackages).not.toContain(heavy);
    expect(await loaded(serve)).toEqual(expect.arrayContaining(['mjml', 'html-to-text', 'express']));
  });

  if (kind === 'mysql')
    it('waits for the database at start; /readyz and the API answer 503 problem+json while it is away, and serve again when it is back', async () => {
      const t = await startTestApp(kind);
      const target = new URL(t.db.url);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
      cleanup.push(async () => {
        await proxy.close();
        await t.close();
      });
      const viaProxy = new URL(t.db.url);
      viaProxy.port = String(proxy.port);
      const port = await freePort();
      // Started while the database is away: it waits for it instead of exiting.
      await proxy.down();
      const service = spawn('start', {
        env: serviceEnv({
          config: t.config,
          databaseUrl: viaProxy.toString(),
          smtpUrl: t.peer.url,
          env: { PORT: String(port), LOG_LEVEL: 'info' },
        }),
      });
      await untilLogged(service, 'database unreachable at start; waiting for it');
      await proxy.up();
      await untilLogged(service, 'listening');
      const http = api(port, t.tokens.read);
      expect(await http.get('/readyz')).toMatchObject({ status: 200, json: { status: 'ready' } });
      expect((await http.get('/v1/members?limit=1')).status).toBe(200);

      await proxy.down();
      for (const url of ['/readyz', '/v1/members?limit=1']) {
        const res = await http.get(url);
        expect(res.status).toBe(503);
        expect(res.type).toMatch(/^application\/problem\+json/);
        expect(res.headers.get('retry-after')).toBe('5');
        expect(res.json).toMatchObject({ status: 503, title: 'Service unavailable' });
        expect(res.text).not.toMatch(/\bat \S+:\d+|ECONNREFUSED|127\.0\.0\.1/);
      }
      expect((await http.get('/healthz')).status).toBe(200);

      await proxy.up();
      await waitUntil(async () => (await http.get('/readyz')).status === 200, 20000);
      expect((await http.get('/v1/members?limit=1')).status).toBe(200);
      expect(service.child.exitCode).toBeNull();
    });
});
