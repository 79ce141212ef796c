import crypto from 'node:crypto';
import type net from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server for tests: every integration test that sends mail talks to one of these.
 * Plain SMTP on 127.0.0.1, no STARTTLS, any AUTH accepted, refusals scripted with behave().
 */

export interface ReceivedMail {
  /** The whole message as received (CRLF); only the header block when started with `parse: false`. */
  raw: string;
  /** Parsed message; reading it throws when the peer was started with `parse: false`. */
  parsed: ParsedMail;
  rcpt: string[];
  from: string;
  at: number;
}

export type PeerVerdict = { code: number; message: string } | null;
export type PeerBehaviour = (rcpt: string, session: SMTPServerSession) => PeerVerdict;

export interface SmtpPeer {
  port: number;
  /** `smtp://127.0.0.1:PORT` (`smtps://` with TLS) */
  url: string;
  mails: ReceivedMail[];
  mailsTo(addr: string): ReceivedMail[];
  /** Resolves once `pred(mails)` holds; rejects after `ms` (default 5000) saying what arrived. */
  waitFor(pred: (m: ReceivedMail[]) => boolean, ms?: number): Promise<void>;
  /** Decides each RCPT TO: `{ code: 421 }` refuses for now (and drops the session), `{ code: 550 }` for good, null accepts. */
  behave(fn: PeerBehaviour | null): void;
  /** Delay before the reply to the end of DATA (a slow relay). */
  setLatency(ms: number): void;
  stop(): Promise<void>;
  /**
   * Stops listening and cuts every connection; up() listens again on the same port. A message
   * stored but not yet answered at the cut is in flight: its sender never learns it arrived.
   */
  down(): Promise<void>;
  /** The messages that were in flight at a cut (stored, reply never sent), over all cuts so far. */
  inFlightAtCut(): ReceivedMail[];
  /** Open client connections (a killed sender's close once everything it sent has been read). */
  connections(): number;
  up(): Promise<void>;
  clear(): void;
}

const HEADER_END = '\r\n\r\n';
/** parse=false keeps at most this much of a message: enough for any header block we send. */
const FAST_SINK_HEADER_LIMIT = 64 * 1024;

function parsedUnavailable(): ParsedMail {
  throw new Error('smtp peer was started with parse: false; only raw headers and rcpt are kept');
}

export async function startSmtpPeer(
  opts: {
    parse?: boolean;
    /** Implicit TLS (smtps://) with this key and certificate. */
    tls?: { key: string; cert: string };
  } = {},
): Promise<SmtpPeer> {
  const parse = opts.parse ?? true;
  const mails: ReceivedMail[] = [];
  let behaviour: PeerBehaviour | null = null;
  let latency = 0;
  let server: SMTPServer | null = null;
  let sockets = new Set<net.Socket>();
  let port = 0;
  /** Set by down(): from then on no reply is sent; messages stored meanwhile are in flight. */
  let cutting = false;
  const unreplied: ReceivedMail[] = [];
  const awaitingReply = new Set<ReceivedMail>();

  function createServer(): SMTPServer {
    const smtp = new SMTPServer({
      ...(opts.tls ? { secure: true, key: opts.tls.key, cert: opts.tls.cert } : {}),
      authOptional: true,
      allowInsecureAuth: true,
      disabledCommands: ['STARTTLS'],
      hideSTARTTLS: true,
      logger: false,
      disableReverseLookup: true,
      closeTimeout: 1000,
      onAuth(auth, _session, callback) {
        callback(null, { user: auth.username ?? 'test' });
      },
      onRcptTo(address, session, callback) {
        const verdict = behaviour?.(address.address.toLowerCase(), session) ?? null;
        if (!verdict) return callback();
        const err = Object.assign(new Error(verdict.message), { responseCode: verdict.code });
        callback(err);
      },
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        let kept = 0;
        let headersComplete = false;
        stream.on('data', (chunk: Buffer) => {
          if (parse) {
            chunks.push(chunk);
            return;
          }
          if (headersComplete || kept >= FAST_SINK_HEADER_LIMIT) return;
          chunks.push(chunk);
          kept += chunk.length;
          headersComplete = Buffer.concat(chunks).includes(HEADER_END);
        });
        stream.on('end', () => {
          void (async () => {
            let raw = Buffer.concat(chunks).toString('utf8');
            const rcpt = session.envelope.rcptTo.map((a) => a.address.toLowerCase());
            const from = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
            const mail = { raw, rcpt, from, at: Date.now() } as ReceivedMail;
            if (parse) {
              mail.parsed = await simpleParser(raw);
            } else {
              const end = raw.indexOf(HEADER_END);
              raw = end >= 0 ? raw.slice(0, end + 2) : raw;
              mail.raw = raw;
              Object.defineProperty(mail, 'parsed', { get: parsedUnavailable, enumerable: false });
            }
            // Stored before the reply, as a relay that has queued the message: a cut before the
            // reply leaves the sender not knowing, which is what «in flight» means.
            mails.push(mail);
            awaitingReply.add(mail);
            if (latency > 0) await new Promise((r) => setTimeout(r, latency));
            return mail;
          })().then(
            (mail) => {
              // Cut meanwhile: the connection is gone and the sender never gets this reply.
              if (cutting || !awaitingReply.delete(mail)) return;
              callback();
            },
            (err: Error) => callback(Object.assign(err, { responseCode: 451 })),
          );
        });
      },
    });
    // Senders killed mid-session (ECONNRESET) are normal in tests; an unhandled 'error' would crash jest.
    smtp.on('error', () => undefined);
    smtp.server.on('connection', (socket: net.Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return smtp;
  }

  async function listen(onPort: number): Promise<void> {
    const smtp = createServer();
    await new Promise<void>((resolve, reject) => {
      const onError = (err: Error) =>
        reject(new Error(`smtp peer could not listen on ${onPort}: ${err.message}`));
      smtp.server.once('error', onError);
      smtp.listen(onPort, '127.0.0.1', () => {
        smtp.server.off('error', onError);
        resolve();
      });
    });
    port = (smtp.server.address() as net.AddressInfo).port;
    server = smtp;
  }

  async function close(): Promise<void> {
    const smtp = server;
    if (!smtp) return;
    server = null;
    cutting = true;
    // Two turns of the event loop: a reply already written is read by its sender before the cut.
    for (let i = 0; i < 2; i++) await new Promise((r) => setImmediate(r));
    unreplied.push(...awaitingReply);
    awaitingReply.clear();
    const closed = new Promise<void>((resolve) => smtp.close(() => resolve()));
    for (const socket of sockets) socket.destroy();
    sockets = new Set();
    await closed;
    cutting = false;
  }

  await listen(0);

  return {
    get port() {
      return port;
    },
    get url() {
      return `${opts.tls ? 'smtps' : 'smtp'}://127.0.0.1:${port}`;
    },
    mails,
    mailsTo(addr) {
      const wanted = addr.toLowerCase();
      return mails.filter((m) => m.rcpt.includes(wanted));
    },
    async waitFor(pred, ms = 5000) {
      const deadline = Date.now() + ms;
      while (!pred(mails)) {
        if (Date.now() > deadline) {
          throw new Error(
            `smtp peer: condition not met within ${ms} ms; ${mails.length} mail(s) received` +
              (mails.length ? ` (last to ${mails[mails.length - 1].rcpt.join(', ')})` : ''),
          );
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    behave(fn) {
      behaviour = fn;
    },
    setLatency(ms) {
      latency = ms;
    },
    stop: close,
    down: close,
    inFlightAtCut: () => [...unreplied],
    connections: () => sockets.size,
    async up() {
      if (server) return;
      await listen(port);
    },
    clear() {
      mails.length = 0;
      unreplied.length = 0;
    },
  };
}

/**
 * Checks a DKIM-Signature (rsa-sha256, relaxed/relaxed) against the raw message and the public key,
 * the way a receiving server does (RFC 6376 §3.4.2, §3.4.4, §3.7). Returns the signature's tags.
 * Throws with the reason when the body hash or the signature does not verify.
 */
export function verifyDkim(raw: string, publicKey: crypto.KeyObject): Record<string, string> {
  const split = raw.indexOf(HEADER_END);
  const headerBlock = split >= 0 ? raw.slice(0, split) : raw;
  const body = split >= 0 ? raw.slice(split + HEADER_END.length) : '';
  const fields = headerBlock.split(/\r\n(?![ \t])/).map((line) => {
    const colon = line.indexOf(':');
    return { name: line.slice(0, colon).trim().toLowerCase(), line };
  });
  const relaxedValue = (line: string) =>
    line
      .slice(line.indexOf(':') + 1)
      .replace(/\r\n/g, '')
      .replace(/[ \t]+/g, ' ')
      .trim();

  const signature = fields.find((f) => f.name === 'dkim-signature');
  if (!signature) throw new Error('no DKIM-Signature header');
  const tags: Record<string, string> = {};
  for (const part of relaxedValue(signature.line).split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) tags[part.slice(0, eq).trim()] = part.slice(eq + 1).replace(/\s+/g, '');
  }
  if (tags.a !== 'rsa-sha256' || tags.c !== 'relaxed/relaxed')
    throw new Error(`unsupported a=${tags.a} c=${tags.c}`);

  let canonBody = body
    .split('\r\n')
    .map((l) => l.replace(/[ \t]+/g, ' ').replace(/ $/, ''))
    .join('\r\n')
    .replace(/(\r\n)*$/, '');
  canonBody = canonBody ? canonBody + '\r\n' : '';
  const bh = crypto.createHash('sha256').update(canonBody, 'utf8').digest('base64');
  if (bh !== tags.bh) throw new Error(`body hash mismatch: computed ${bh}, signed ${tags.bh}`);

  // Each listed name consumes the next instance from the bottom (RFC 6376 §5.4.2).
  const used = new Set<number>();
  const signedLines = tags.h.split(':').map((rawName) => {
    const name = rawName.trim().toLowerCase();
    for (let i = fields.length - 1; i >= 0; i--) {
      if (!used.has(i) && fields[i].name === name) {
        used.add(i);
        return `${name}:${relaxedValue(fields[i].line)}\r\n`;
      }
    }
    return '';
  });
  const unsignedSig = relaxedValue(signature.line).replace(/(^|;)(\s*b\s*=)[^;]*/, '$1$2');
  const data = signedLines.join('') + `dkim-signature:${unsignedSig}`;
  const ok = crypto.verify('sha256', Buffer.from(data, 'utf8'), publicKey, Buffer.from(tags.b, 'base64'));
  if (!ok) throw new Error('DKIM signature does not verify');
  return tags;
}
