import crypto from 'node:crypto';
import { MailError, redactAddresses, toMailError, type OutgoingMail } from '../../src/mail/mailer';
import { SmtpMailer } from '../../src/mail/smtp-mailer';
import { startSmtpPeer, verifyDkim, type ReceivedMail, type SmtpPeer } from '../support/smtp-peer';

const FROM = 'Sothys Kundeklubb <nyhetsbrev@cosmenor.no>';
// A realistic token length, long enough that nodemailer folds the header line.
const UNSUBSCRIBE_URL = `https://kundeklubb.cosmenor.no/u/${'eyJhbGciOiJIUzI1NiJ9'.repeat(10)}.sig`;

function newsletter(overrides: Partial<Omit<OutgoingMail, 'html' | 'text' | 'encoded'>> = {}): OutgoingMail {
  return {
    to: 'kari@example.no',
    subject: 'Julekalender hos Sothys',
    html: '<p>Hei Kari</p><p><a href="' + UNSUBSCRIBE_URL + '">Meld deg av</a></p>',
    text: 'Hei Kari\n\nMeld deg av: ' + UNSUBSCRIBE_URL,
    messageId: '<c12.m345@kundeklubb.cosmenor.no>',
    listUnsubscribeUrl: UNSUBSCRIBE_URL,
    ...overrides,
  };
}

/** Header lines by name, unfolded, as a receiving client reads them. */
function headerValues(mail: ReceivedMail, name: string): string[] {
  return mail.parsed.headerLines
    .filter((h) => h.key === name.toLowerCase())
    .map((h) => h.line.replace(/\r?\n[ \t]+/g, ' '))
    .map((line) => line.slice(line.indexOf(':') + 1).trim());
}

async function rejection(p: Promise<unknown>): Promise<MailError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(MailError);
    return err as MailError;
  }
  throw new Error('expected the send to fail');
}

describe('SmtpMailer against a real SMTP server', () => {
  let peer: SmtpPeer;
  let mailer: SmtpMailer;

  beforeAll(async () => {
    peer = await startSmtpPeer();
  });
  beforeEach(() => {
    mailer = new SmtpMailer({ url: peer.url, from: FROM, poolSize: 2 });
  });
  afterEach(async () => {
    await mailer.close();
    peer.behave(null);
    peer.setLatency(0);
    await peer.up();
    peer.clear();
  });
  afterAll(async () => {
    await peer.stop();
  });

  it('delivers an HTML and a plain-text part, with the Message-ID it was given', async () => {
    const result = await mailer.send(newsletter({ headers: { 'X-Kundeklubb-Test': 'yes' } }));

    expect(result.messageId).toBe('<c12.m345@kundeklubb.cosmenor.no>');
    expect(peer.mails).toHaveLength(1);
    const [mail] = peer.mails;
    expect(mail.rcpt).toEqual(['kari@example.no']);
    expect(mail.from).toBe('nyhetsbrev@cosmenor.no');
    expect(mail.parsed.messageId).toBe('<c12.m345@kundeklubb.cosmenor.no>');
    expect(mail.parsed.subject).toBe('Julekalender hos Sothys');
    expect(mail.parsed.html).toContain('<p>Hei Kari</p>');
    expect(mail.parsed.text).toContain('Hei Kari');
    expect(mail.parsed.from?.value).toEqual([
      { name: 'Sothys Kundeklubb', address: 'nyhetsbrev@cosmenor.no' },
    ]);
    expect(headerValues(mail, 'X-Kundeklubb-Test')).toEqual(['yes']);
  });

  it('puts List-Unsubscribe and List-Unsubscribe-Post on the mail exactly once, in the RFC 8058 form', async () => {
    await mailer.send(newsletter());

    const [mail] = peer.mails;
    expect(headerValues(mail, 'List-Unsubscribe')).toEqual([`<${UNSUBSCRIBE_URL}>`]);
    expect(headerValues(mail, 'List-Unsubscribe-Post')).toEqual(['List-Unsubscribe=One-Click']);
  });

  it('sends a mail without unsubscribe headers when there is no URL (confirmation mail)', async () => {
    const result = await mailer.send(newsletter({ listUnsubscribeUrl: undefined, messageId: undefined }));

    const [mail] = peer.mails;
    expect(headerValues(mail, 'List-Unsubscribe')).toEqual([]);
    expect(headerValues(mail, 'List-Unsubscribe-Post')).toEqual([]);
    expect(result.messageId).toMatch(/^<.+@.+>$/);
    expect(mail.parsed.messageId).toBe(result.messageId);
  });

  it('refuses extra headers that would duplicate the ones it sets, and a malformed unsubscribe URL', async () => {
    await expect(mailer.send(newsletter({ headers: { 'list-unsubscribe': '<https://x>' } }))).rejects.toThrow(
      /set by the mailer/,
    );
    await expect(
      mailer.send(newsletter({ listUnsubscribeUrl: 'https://x/u/a> <mailto:evil@x' })),
    ).rejects.toThrow(/listUnsubscribeUrl/);
    expect(peer.mails).toHaveLength(0);
  });

  it('DKIM-signs with a signature covering List-Unsubscribe and List-Unsubscribe-Post', async () => {
    const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    const signing = new SmtpMailer({
      url: peer.url,
      from: FROM,
      poolSize: 1,
      dkim: { domainName: 'cosmenor.no', keySelector: 'kk2026', privateKey: pem },
    });
    try {
      await signing.send(newsletter());
    } finally {
      await signing.close();
    }

    const [mail] = peer.mails;
    expect(headerValues(mail, 'DKIM-Signature')).toHaveLength(1);
    const tags = verifyDkim(mail.raw, publicKey);
    expect(tags.d).toBe('cosmenor.no');
    expect(tags.s).toBe('kk2026');
    const signed = tags.h.toLowerCase().split(':');
    expect(signed).toEqual(
      expect.arrayContaining([
        'from',
        'to',
        'subject',
        'date',
        'message-id',
        'list-unsubscribe',
        'list-unsubscribe-post',
      ]),
    );

    // A relay that rewrites the unsubscribe target must break the signature.
    const tampered = mail.raw.replace(UNSUBSCRIBE_URL + '>', 'https://evil.example/u>');
    expect(tampered).not.toBe(mail.raw);
    expect(() => verifyDkim(tampered, publicKey)).toThrow(/does not verify/);
  });

  it('reports a 421 at RCPT TO as transient', async () => {
    peer.behave(() => ({ code: 421, message: '4.7.0 Try again later' }));

    const err = await rejection(mailer.send(newsletter()));

    expect(err.kind).toBe('transient');
    expect(err.responseCode).toBe(421);
    expect(peer.mails).toHaveLength(0);
  });

  it('reports a 450 mailbox-busy reply as transient', async () => {
    peer.behave((rcpt) => ({ code: 450, message: `4.2.1 <${rcpt}>: mailbox busy` }));

    const err = await rejection(mailer.send(newsletter()));

    expect(err.kind).toBe('transient');
    expect(err.responseCode).toBe(450);
    expect(err.message).not.toContain('kari@example.no');
  });

  it('reports a 550 as permanent without the address in the message, and keeps the pool usable', async () => {
    peer.behave((rcpt) =>
      rcpt === 'kari@example.no'
        ? { code: 550, message: `5.1.1 <${rcpt}>: Recipient address rejected` }
        : null,
    );

    const err = await rejection(mailer.send(newsletter()));

    expect(err.kind).toBe('permanent');
    expect(err.responseCode).toBe(550);
    expect(err.message).toContain('Recipient address rejected');
    expect(err.message).toContain('<recipient>');
    expect(err.message).not.toMatch(/kari|example\.no/);
    expect(JSON.stringify(err)).not.toContain('kari@example.no');

    await mailer.send(newsletter({ to: 'ola@example.no' }));
    expect(peer.mailsTo('ola@example.no')).toHaveLength(1);
  });

  it('reports an unreachable server as transient, and sends again once it is back', async () => {
    await mailer.send(newsletter({ to: 'first@example.no' }));
    await peer.down();

    const err = await rejection(mailer.send(newsletter({ to: 'second@example.no' })));
    expect(err.kind).toBe('transient');
    expect(err.responseCode).toBeUndefined();
    await expect(mailer.verify()).rejects.toMatchObject({ kind: 'transient' });

    await peer.up();
    await mailer.send(newsletter({ to: 'third@example.no' }));

    expect(peer.mails.map((m) => m.rcpt[0])).toEqual(['first@example.no', 'third@example.no']);
  });

  it('reports a relay that stops answering as transient', async () => {
    const impatient = new SmtpMailer({ url: peer.url, from: FROM, poolSize: 1, timeouts: { socket: 200 } });
    peer.setLatency(800);
    try {
      const err = await rejection(impatient.send(newsletter()));
      expect(err.kind).toBe('transient');
      expect(err.code).toBe('ETIMEDOUT');
      // The relay still takes the message: why a resend must carry the same Message-ID.
      await peer.waitFor((m) => m.length === 1, 2000);
    } finally {
      await impatient.close();
    }
  });

  it('gives up on a send that takes longer than the send timeout, as transient', async () => {
    const impatient = new SmtpMailer({ url: peer.url, from: FROM, poolSize: 1, timeouts: { send: 200 } });
    peer.setLatency(800);
    try {
      const err = await rejection(impatient.send(newsletter()));
      expect(err.kind).toBe('transient');
      expect(err.code).toBe('EABORT');
      await peer.waitFor((m) => m.length === 1, 2000);
    } finally {
      await impatient.close();
    }
  });

  it('sends many messages in parallel over the pool, each exactly once', async () => {
    const pooled = new SmtpMailer({ url: peer.url, from: FROM, poolSize: 3 });
    const recipients = Array.from({ length: 30 }, (_, i) => `m${i}@example.no`);
    try {
      await Promise.all(
        recipients.map((to, i) => pooled.send(newsletter({ to, messageId: `<c1.m${i}@kk>` }))),
      );
    } finally {
      await pooled.close();
    }

    expect(peer.mails.map((m) => m.rcpt[0]).sort()).toEqual([...recipients].sort());
  });

  it('verifies the connection', async () => {
    await expect(mailer.verify()).resolves.toBeUndefined();
  });

  it('lets a send in flight finish on close, then refuses new sends as transient', async () => {
    peer.setLatency(200);
    const inFlight = mailer.send(newsletter());
    // The message has reached the relay, which holds its reply for 200 ms.
    await peer.waitFor((m) => m.length === 1);

    await mailer.close();

    await expect(inFlight).resolves.toEqual({ messageId: '<c12.m345@kundeklubb.cosmenor.no>' });
    expect(peer.mails).toHaveLength(1);
    await expect(mailer.send(newsletter())).rejects.toMatchObject({ kind: 'transient' });
  });
});

describe('toMailError', () => {
  const nodemailerError = (props: Record<string, unknown>) =>
    Object.assign(new Error(String(props.message)), props);

  it.each([
    [{ code: 'ECONNECTION', message: 'Connection closed unexpectedly' }, 'transient'],
    [{ code: 'ESOCKET', message: 'connect ECONNREFUSED 127.0.0.1:25' }, 'transient'],
    [{ code: 'ETIMEDOUT', message: 'Greeting never received' }, 'transient'],
    [{ code: 'EPROTOCOL', message: 'Invalid greeting: 554 go away', responseCode: 554 }, 'transient'],
    [
      { code: 'EAUTH', message: 'Invalid login: 535 5.7.8 Authentication failed', responseCode: 535 },
      'transient',
    ],
    [
      { code: 'EENVELOPE', message: 'Recipient command failed: 452 too many', responseCode: 452 },
      'transient',
    ],
    [{ code: 'EENVELOPE', message: 'bad sequence: 503 5.5.1 RCPT first', responseCode: 503 }, 'transient'],
    [{ code: 'EENVELOPE', message: 'Mail command failed: 553 sender', responseCode: 553 }, 'permanent'],
    [{ code: 'EMESSAGE', message: 'Message failed: 554 5.7.1 spam', responseCode: 554 }, 'permanent'],
    [{ code: 'EENVELOPE', message: 'No recipients defined' }, 'permanent'],
  ])('classifies %j as %s', (props, kind) => {
    const err = toMailError(nodemailerError(props));
    expect(err.kind).toBe(kind);
    expect(err.code).toBe(props.code);
  });

  it('strips every address-like string from the message', () => {
    expect(
      redactAddresses(
        "Can't send mail: 550 5.1.1 <kari.nordmann+news@example.no>: unknown; from ola@post.example.com",
      ),
    ).toBe("Can't send mail: 550 5.1.1 <recipient>: unknown; from <recipient>");
  });
});
