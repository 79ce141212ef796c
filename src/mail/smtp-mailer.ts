import nodemailer, { type SendMailOptions, type Transporter } from 'nodemailer';
import type { Logger } from '../logger';
import {
  MailError,
  buildHeaders,
  toMailError,
  type Mailer,
  type OutgoingMail,
  type SendResult,
} from './mailer';
import { TEST_TAG, type VerpTags } from './verp';

export interface DkimKey {
  domainName: string;
  keySelector: string;
  /** PEM text. */
  privateKey: string;
}

/**
 * Header fields the DKIM signature covers (RFC 6376 §5.4.1 list that applies to us). RFC 8058 §3.1:
 * one-click unsubscribe counts only when both List-Unsubscribe and List-Unsubscribe-Post are signed.
 * Listed explicitly so the signature does not depend on nodemailer's default list of the day.
 */
export const DKIM_SIGNED_HEADERS = [
  'from',
  'sender',
  'reply-to',
  'subject',
  'date',
  'message-id',
  'to',
  'cc',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'list-id',
  'list-unsubscribe',
  'list-unsubscribe-post',
].join(':');

export function dkimOptions(dkim: DkimKey | undefined) {
  return dkim ? { ...dkim, headerFieldNames: DKIM_SIGNED_HEADERS } : undefined;
}

/**
 * The one place an `OutgoingMail` becomes a nodemailer message, so SMTP and .eml files get the same
 * MIME. With `verp`, the envelope sender names the message (CONTRACT §9); the From header stays.
 */
export function toMessageOptions(mail: OutgoingMail, from: string, verp?: VerpTags): SendMailOptions {
  const body = mail.encoded
    ? {
        text: { raw: quotedPrintablePart('text/plain', mail.encoded.text) },
        html: { raw: quotedPrintablePart('text/html', mail.encoded.html) },
      }
    : { text: mail.text, html: mail.html };
  return {
    from,
    to: mail.to,
    subject: mail.subject,
    ...body,
    messageId: mail.messageId,
    headers: buildHeaders(mail),
    ...(verp
      ? { envelope: { from: verp.returnPath(mail.bounceTag ?? TEST_TAG, mail.to), to: mail.to } }
      : {}),
    // Content is ours, never a path or URL to fetch; keep nodemailer from reading either.
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** A complete MIME part (headers and body) for an already encoded body: nodemailer passes it through as is. */
function quotedPrintablePart(type: 'text/plain' | 'text/html', encodedBody: string): string {
  return `Content-Type: ${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${encodedBody}`;
}

export interface SmtpMailerDeps {
  /** `smtp://[user:pass@]host:port` or `smtps://…`. */
  url: string;
  from: string;
  /** Parallel SMTP connections. */
  poolSize: number;
  dkim?: DkimKey;
  /** Envelope senders `b-{tag}@{BOUNCE_DOMAIN}` when a bounce domain is set. */
  verp?: VerpTags;
  logger?: Logger;
  /** Milliseconds; defaults suit a relay on the same network. */
  timeouts?: { connection?: number; greeting?: number; socket?: number; send?: number };
}

/**
 * Sends through a nodemailer connection pool. No rate limit here: the worker throttles itself.
 * nodemailer's logger is left off on purpose: its transaction log names recipients.
 */
export class SmtpMailer implements Mailer {
  private readonly transporter: Transporter;
  private readonly from: string;
  private readonly verp?: VerpTags;
  private readonly logger?: Logger;
  private readonly sendTimeout: number;
  private readonly inFlight = new Map<Promise<unknown>, { abort: AbortController; deadline: number }>();
  private watchdog: NodeJS.Timeout | null = null;
  private closed = false;

  constructor({ url, from, poolSize, dkim, verp, logger, timeouts = {} }: SmtpMailerDeps) {
    this.from = from;
    this.verp = verp;
    this.logger = logger;
    this.sendTimeout = timeouts.send ?? 120_000;
    this.transporter = nodemailer.createTransport({
      url,
      pool: true,
      maxConnections: poolSize,
      // A connection is recycled only when the relay closes it; reconnecting every 100 mails buys nothing.
      maxMessages: Infinity,
      connectionTimeout: timeouts.connection ?? 15_000,
      greetingTimeout: timeouts.greeting ?? 15_000,
      socketTimeout: timeouts.socket ?? 60_000,
      dkim: dkimOptions(dkim),
      logger: false,
      debug: false,
    });
  }

  async send(mail: OutgoingMail): Promise<SendResult> {
    if (this.closed) throw new MailError('Mailer is closed', 'transient', undefined, 'ECLOSED');
    const options = toMessageOptions(mail, this.from, this.verp);
    // Bounds queueing plus delivery, so a stalled relay cannot hold a worker's claim forever.
    // One watchdog for all sends instead of AbortSignal.timeout(), which keeps a live 2-minute
    // timer per message until the signal is garbage-collected: old space grew ~5 MB/s while
    // sending with it, ~3 MB/s without.
    const abort = new AbortController();
    options.signal = abort.signal;
    const sending = this.transporter.sendMail(options);
    this.inFlight.set(sending, { abort, deadline: Date.now() + this.sendTimeout });
    this.startWatchdog();
    try {
      const info = await sending;
      if (info.rejected && info.rejected.length > 0) {
        throw new MailError('Recipient was rejected', 'permanent', undefined, 'EENVELOPE');
      }
      return { messageId: info.messageId };
    } catch (err) {
      const mailError = toMailError(err);
      this.logger?.debug(
        { code: mailError.code, responseCode: mailError.responseCode, kind: mailError.kind },
        'smtp send failed',
      );
      throw mailError;
    } finally {
      this.inFlight.delete(sending);
    }
  }

  private startWatchdog(): void {
    if (this.watchdog) return;
    this.watchdog = setInterval(
      () => {
        const now = Date.now();
        for (const entry of this.inFlight.values()) {
          if (entry.deadline <= now && !entry.abort.signal.aborted)
            entry.abort.abort(new Error(`send took longer than ${this.sendTimeout} ms`));
        }
      },
      Math.min(1000, Math.max(10, this.sendTimeout / 4)),
    );
    this.watchdog.unref();
  }

  async verify(): Promise<void> {
    try {
      await this.transporter.verify();
    } catch (err) {
      throw toMailError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.inFlight.keys()]);
    if (this.watchdog) clearInterval(this.watchdog);
    this.watchdog = null;
    this.transporter.close();
  }
}
