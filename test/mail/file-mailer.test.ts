import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { loadConfig } from '../../src/config';
import { createMailer } from '../../src/mail/create-mailer';
import { FileMailer } from '../../src/mail/file-mailer';
import type { OutgoingMail } from '../../src/mail/mailer';
import { SmtpMailer } from '../../src/mail/smtp-mailer';
import { startSmtpPeer, verifyDkim } from '../support/smtp-peer';

const FROM = 'Sothys Kundeklubb <nyhetsbrev@cosmenor.no>';
const UNSUBSCRIBE_URL = `https://kundeklubb.cosmenor.no/u/${'a1B2c3'.repeat(30)}`;
const TOKEN_KEYS = `k1:${'s'.repeat(40)}`;

const mail: OutgoingMail = {
  to: 'kari@example.no',
  subject: 'Julekalender hos Sothys – tre nyheter',
  html: '<p>Hei Kari, æøå</p>',
  text: 'Hei Kari, æøå',
  messageId: '<c7.m42@kundeklubb.cosmenor.no>',
  listUnsubscribeUrl: UNSUBSCRIBE_URL,
  headers: { 'X-Kundeklubb-Test': 'yes' },
};

function unfolded(parsed: ParsedMail, name: string): string[] {
  return parsed.headerLines.filter((h) => h.key === name).map((h) => h.line.replace(/\r?\n[ \t]+/g, ' '));
}

async function emlFiles(dir: string): Promise<string[]> {
  return (await fs.readdir(dir)).filter((f) => f.endsWith('.eml')).sort();
}

describe('FileMailer', () => {
  let tmp: string;

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kk-outbox-'));
  });
  afterEach(async () => {
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('writes each mail as a parseable .eml file in a directory it creates, named without the address', async () => {
    const dir = path.join(tmp, 'data', 'outbox');
    const mailer = new FileMailer({ dir, from: FROM });

    const result = await mailer.send(mail);
    await mailer.send({ ...mail, messageId: '<c7.m43@kundeklubb.cosmenor.no>' });

    const files = await emlFiles(dir);
    expect(files).toHaveLength(2);
    expect(await fs.readdir(dir)).toHaveLength(2); // no temporary files left behind
    for (const f of files) {
      expect(f).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z-[0-9a-f]{12}\.eml$/);
      expect(f).not.toMatch(/kari|example/);
    }
    expect(result.messageId).toBe('<c7.m42@kundeklubb.cosmenor.no>');

    const raw = await fs.readFile(path.join(dir, files[0]), 'utf8');
    expect(raw).toMatch(/\r\n\r\n/); // RFC 5322 line endings
    expect(raw).not.toMatch(/[^\r]\n/);
    const parsed = await simpleParser(raw);
    expect(parsed.html).toContain('<p>Hei Kari, æøå</p>');
    expect(parsed.text).toContain('Hei Kari, æøå');
    expect(parsed.subject).toBe(mail.subject);
    expect(parsed.messageId).toBe(mail.messageId);
    expect(unfolded(parsed, 'list-unsubscribe')).toEqual([`List-Unsubscribe: <${UNSUBSCRIBE_URL}>`]);
    expect(unfolded(parsed, 'list-unsubscribe-post')).toEqual([
      'List-Unsubscribe-Post: List-Unsubscribe=One-Click',
    ]);
  });

  it('writes the same headers that SMTP delivers, DKIM signature included', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const dkim = {
      domainName: 'cosmenor.no',
      keySelector: 'kk2026',
      privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    };
    const peer = await startSmtpPeer();
    const smtp = new SmtpMailer({ url: peer.url, from: FROM, poolSize: 1, dkim });
    const file = new FileMailer({ dir: tmp, from: FROM, dkim });
    try {
      await smtp.send(mail);
      await file.send(mail);
    } finally {
      await smtp.close();
      await peer.stop();
    }

    const [eml] = await emlFiles(tmp);
    const fromFile = await fs.readFile(path.join(tmp, eml), 'utf8');
    const fileParsed = await simpleParser(fromFile);
    const smtpParsed = peer.mails[0].parsed;

    expect(fileParsed.headerLines.map((h) => h.key)).toEqual(smtpParsed.headerLines.map((h) => h.key));
    // Date and the MIME boundary differ per build, the signature with them; everything else is identical.
    const stable = (p: ParsedMail) =>
      p.headerLines
        .filter((h) => !['date', 'content-type', 'dkim-signature'].includes(h.key))
        .map((h) => h.line);
    expect(stable(fileParsed)).toEqual(stable(smtpParsed));

    const tags = verifyDkim(fromFile, publicKey);
    expect(tags.h.split(':')).toEqual(expect.arrayContaining(['list-unsubscribe', 'list-unsubscribe-post']));
  });

  it('verify() creates the directory', async () => {
    const dir = path.join(tmp, 'nested', 'outbox');
    await new FileMailer({ dir, from: FROM }).verify();
    expect((await fs.stat(dir)).isDirectory()).toBe(true);
  });
});

describe('createMailer', () => {
  let tmp: string;
  const cwd = process.cwd();

  beforeEach(async () => {
    tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'kk-create-'));
  });
  afterEach(async () => {
    process.chdir(cwd);
    await fs.rm(tmp, { recursive: true, force: true });
  });

  it('writes to file:DIR relative to the working directory', async () => {
    process.chdir(tmp);
    const config = loadConfig({ SMTP_URL: 'file:./data/outbox', TOKEN_KEYS, DATA_DIR: tmp });
    const mailer = createMailer(config);

    await mailer.send(mail);

    expect(mailer).toBeInstanceOf(FileMailer);
    expect(await emlFiles(path.join(tmp, 'data', 'outbox'))).toHaveLength(1);
  });

  it('sends through SMTP for smtp:// with the configured From and DKIM key', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const peer = await startSmtpPeer();
    const config = loadConfig({
      SMTP_URL: peer.url,
      TOKEN_KEYS,
      DATA_DIR: tmp,
      MAIL_FROM: 'Kundeklubben <klubb@cosmenor.no>',
      DKIM_DOMAIN: 'cosmenor.no',
      DKIM_SELECTOR: 'sel1',
      DKIM_PRIVATE_KEY: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    });
    const mailer = createMailer(config, { poolSize: 1 });
    try {
      await mailer.send(mail);
    } finally {
      await mailer.close();
      await peer.stop();
    }

    expect(mailer).toBeInstanceOf(SmtpMailer);
    expect(peer.mails[0].from).toBe('klubb@cosmenor.no');
    expect(verifyDkim(peer.mails[0].raw, publicKey)).toMatchObject({ d: 'cosmenor.no', s: 'sel1' });
  });
});
