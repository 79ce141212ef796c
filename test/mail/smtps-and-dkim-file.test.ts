import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { buildContainer } from '../../src/container';
import { migrate } from '../../src/db/data-source';
import { createMailer } from '../../src/mail/create-mailer';
import { MailError } from '../../src/mail/mailer';
import { buildSignUp, TEST_PUBLIC_URL } from '../support/test-app';
import { waitUntil } from '../support/club';
import { freePort } from '../support/ports';
import { startSmtpPeer, verifyDkim, type SmtpPeer } from '../support/smtp-peer';
import { spawnService, stopProcess, type ServiceProcess } from '../support/worker-process';

const TOKEN_KEYS = 'k1:test-secret-0123456789abcdef0123456789abcdef';

/**
 * `SMTP_URL=smtps://…` against a local relay speaking implicit TLS with a self-signed certificate,
 * and `DKIM_PRIVATE_KEY` given as the path of a PEM file (CONTRACT §1).
 */
describe('smtps:// with a self-signed certificate, and a DKIM key from a file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kk-tls-'));
  const certFile = path.join(dir, 'relay-cert.pem');
  const keyFile = path.join(dir, 'relay-key.pem');
  const dkimFile = path.join(dir, 'dkim.pem');
  const dkim = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  let peer: SmtpPeer;
  let service: ServiceProcess | undefined;

  beforeAll(async () => {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        keyFile,
        '-out',
        certFile,
        '-days',
        '2',
        '-subj',
        '/CN=127.0.0.1',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
      ],
      { stdio: 'ignore' },
    );
    fs.writeFileSync(dkimFile, dkim.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), {
      mode: 0o600,
    });
    peer = await startSmtpPeer({
      tls: { key: fs.readFileSync(keyFile, 'utf8'), cert: fs.readFileSync(certFile, 'utf8') },
    });
  });
  afterAll(async () => {
    if (service) await stopProcess(service.child, 5000);
    await peer?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('refuses a relay whose certificate nobody vouches for, as a transient failure, and sends nothing', async () => {
    expect(peer.url).toMatch(/^smtps:\/\/127\.0\.0\.1:\d+$/);
    const before = peer.mails.length;
    const config = loadConfig({ SMTP_URL: peer.url, TOKEN_KEYS, DATA_DIR: dir });
    const mailer = createMailer(config);
    try {
      const err = await mailer
        .send({ to: 'kari@example.no', subject: 'Hei', text: 'Hei', html: '<p>Hei</p>' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MailError);
      expect((err as MailError).kind).toBe('transient');
      expect((err as MailError).message).toMatch(/certificate/i);
    } finally {
      await mailer.close();
    }
    expect(peer.mails).toHaveLength(before);
  });

  it('a service trusting that certificate (NODE_EXTRA_CA_CERTS) sends over TLS, DKIM-signed with the key file', async () => {
    const port = await freePort();
    const env = {
      NODE_ENV: 'test',
      PORT: String(port),
      DATABASE_URL: `sqlite:${path.join(dir, 'kk.sqlite')}`,
      SMTP_URL: peer.url,
      PUBLIC_URL: TEST_PUBLIC_URL,
      TOKEN_KEYS,
      DATA_DIR: dir,
      DKIM_DOMAIN: 'cosmenor.no',
      DKIM_SELECTOR: 'kk2026',
      DKIM_PRIVATE_KEY: dkimFile,
      LOG_LEVEL: 'info',
    };
    // The schema and an API client first, so the service and this test never migrate at once.
    const c = buildContainer(loadConfig(env));
    await c.dataSource.initialize();
    await migrate(c.dataSource);
    const token = await c.clients.create('app', ['members:write']);
    await c.close();

    service = spawnService('serve', { env: { ...env, NODE_EXTRA_CA_CERTS: certFile } });
    const { output } = service;
    await waitUntil(async () => output.some((l) => l.includes('"msg":"listening"')), 30000);
    const body = buildSignUp({ email: 'tls@example.no' });
    const res = await fetch(`http://127.0.0.1:${port}/v1/members`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    expect(res.status).toBe(201);
    await peer.waitFor((m) => m.some((x) => x.rcpt.includes('tls@example.no')), 20000);
    const [mail] = peer.mailsTo('tls@example.no');
    expect(mail.rcpt).toEqual(['tls@example.no']);
    expect(mail.parsed.subject).toMatch(/Bekreft/);
    const tags = verifyDkim(mail.raw, dkim.publicKey);
    expect(tags).toMatchObject({ d: 'cosmenor.no', s: 'kk2026' });
  });
});
