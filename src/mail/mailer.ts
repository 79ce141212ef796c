/**
 * The Mailer port: what the delivery worker and the services see of outgoing mail.
 * Adapters: `SmtpMailer` (nodemailer pool, DKIM) and `FileMailer` (.eml files for development).
 */

/** The body: html and text as strings, or the same already quoted-printable encoded. */
export type MailBody =
  | { html: string; text: string; encoded?: undefined }
  | {
      /**
       * Quoted-printable bodies with CRLF line breaks (`PreEncodedText`): the adapter sends these
       * bytes instead of encoding the same 25 KB newsletter again for every recipient.
       */
      encoded: { html: string; text: string };
      html?: undefined;
      text?: undefined;
    };

export type OutgoingMail = MailBody & {
  to: string;
  subject: string;
  /** Fixed per campaign and member, e.g. `<c12.m345@kundeklubb.cosmenor.no>`, so a resend after a crash folds. */
  messageId?: string;
  /** When set, the mail carries `List-Unsubscribe: <url>` and the RFC 8058 one-click header, each once. */
  listUnsubscribeUrl?: string;
  /** Extra headers, e.g. `{ 'X-Kundeklubb-Test': 'yes' }`; may not replace the headers the adapter sets. */
  headers?: Record<string, string>;
  /**
   * What a bounce of this mail is about (`deliveryTag`, `memberMailTag` in verp.ts): with a bounce
   * domain, the envelope sender is `b-{tag}@{domain}`. Unset is a test send that names nothing.
   */
  bounceTag?: string;
};

export interface SendResult {
  messageId: string;
}

/** `transient`: try again later (connection, timeout, auth, 4xx). `permanent`: this message will never go (5xx). */
export type MailErrorKind = 'transient' | 'permanent';

/** A failed send. The message never contains a recipient address: it is stored and logged. */
export class MailError extends Error {
  constructor(
    message: string,
    readonly kind: MailErrorKind,
    readonly responseCode?: number,
    /** nodemailer's error code (`ECONNECTION`, `EENVELOPE`, …) when there was one. */
    readonly code?: string,
  ) {
    super(message);
    this.name = 'MailError';
  }
}

export interface Mailer {
  send(mail: OutgoingMail): Promise<SendResult>;
  /** Checks that mail can go out (SMTP: connect and log in; file: the directory is writable). */
  verify(): Promise<void>;
  /** Lets sends in flight finish, then releases connections. Later sends fail as transient. */
  close(): Promise<void>;
}

export const LIST_UNSUBSCRIBE_POST = 'List-Unsubscribe=One-Click';

/** Headers an adapter owns; `OutgoingMail.headers` may not set them, or they would appear twice. */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'message-id',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'dkim-signature',
  'list-unsubscribe',
  'list-unsubscribe-post',
]);

import { redactAddresses } from '../logger';

export { redactAddresses };

/** The headers every adapter puts on a mail: the caller's extras plus the RFC 8058 pair. */
export function buildHeaders(mail: OutgoingMail): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(mail.headers ?? {})) {
    if (RESERVED_HEADERS.has(name.toLowerCase())) throw new TypeError(`header ${name} is set by the mailer`);
    if (!/^[!-9;-~]+$/.test(name) || /[\r\n]/.test(value)) throw new TypeError(`header ${name} is malformed`);
    headers[name] = value;
  }
  if (mail.listUnsubscribeUrl !== undefined) {
    // Anything that could close the angle brackets or break the line would make the header unusable.
    if (!/^https?:\/\/[^\s<>"]+$/.test(mail.listUnsubscribeUrl)) {
      throw new TypeError(
        'listUnsubscribeUrl must be an absolute http(s) URL without spaces or angle brackets',
      );
    }
    headers['List-Unsubscribe'] = `<${mail.listUnsubscribeUrl}>`;
    headers['List-Unsubscribe-Post'] = LIST_UNSUBSCRIBE_POST;
  }
  return headers;
}

interface NodemailerLikeError {
  message?: unknown;
  code?: unknown;
  responseCode?: unknown;
  command?: unknown;
}

/** Errors that concern the whole connection or configuration rather than this one message. */
const CONNECTION_CODES = new Set([
  'ECONNECTION',
  'ETIMEDOUT',
  'ESOCKET',
  'EDNS',
  'ETLS',
  'EPROTOCOL',
  'EPROXY',
]);
const AUTH_CODES = new Set(['EAUTH', 'ENOAUTH', 'EOAUTH2']);
/** Errors about this message or its envelope; without a reply code they come from nodemailer's own checks. */
const MESSAGE_CODES = new Set(['EENVELOPE', 'EMESSAGE', 'EMAXRECIPIENTS']);

/**
 * Classifies any error from nodemailer (or the file system) and strips addresses from its text.
 * 4xx, connection, timeout, greeting and auth failures are transient: the relay or our configuration
 * will recover and the same message can be sent again. A 5xx reply to MAIL FROM, RCPT TO or DATA
 * is permanent, except 503 (bad command sequence), which says the session broke, not the message.
 */
export function toMailError(err: unknown): MailError {
  if (err instanceof MailError) return err;
  const e = (typeof err === 'object' && err !== null ? err : { message: String(err) }) as NodemailerLikeError;
  const code = typeof e.code === 'string' ? e.code : undefined;
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const message = redactAddresses(
    typeof e.message === 'string' && e.message ? e.message : 'Mail could not be sent',
  );

  let kind: MailErrorKind = 'transient';
  if (code && (CONNECTION_CODES.has(code) || AUTH_CODES.has(code))) {
    kind = 'transient';
  } else if (responseCode !== undefined) {
    kind = responseCode >= 500 && responseCode < 600 && responseCode !== 503 ? 'permanent' : 'transient';
  } else if (code && MESSAGE_CODES.has(code)) {
    kind = 'permanent';
  }
  return new MailError(message, kind, responseCode, code);
}
