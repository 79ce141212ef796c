import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Logger } from '../../logger';
import type { Clock } from '../../db/time';
import type { BounceReport } from '../bounce-report.entity';
import {
  isObject,
  parseJson,
  str,
  unauthorized,
  type WebhookProvider,
  type WebhookRequest,
  type WebhookVerdict,
} from './provider';

/** Fetches a text over https (the SNS signing certificate, the subscription confirmation). Injectable for tests. */
export type FetchText = (url: string) => Promise<string>;

/** Only SNS's own hosts sign messages and confirm subscriptions. */
const SNS_URL = /^https:\/\/sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\//;
const CERT_URL = /^https:\/\/sns\.[a-z0-9-]+\.amazonaws\.com(\.cn)?\/[A-Za-z0-9._/-]+\.pem$/;

/** The fields each SNS message type signs, in this order (the SNS signature documentation). */
const SIGNED: Record<string, string[]> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

/**
 * Amazon SES through SNS. The SNS message's signature is verified as SNS documents it
 * (https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html): the string
 * of the signed fields, SHA1 (SignatureVersion 1) or SHA256 (2) with RSA, against the certificate
 * from `SigningCertURL`, which must be an `https://sns.<region>.amazonaws.com/` URL and a
 * certificate for sns.amazonaws.com. The topic must be in SES_TOPIC_ARNS. A
 * `SubscriptionConfirmation` is confirmed by fetching its SubscribeURL (again only on SNS's host).
 * Written here rather than with a validator package because the certificate fetch must be
 * injectable: tests run offline with their own key and certificate.
 * SES notifications (https://docs.aws.amazon.com/ses/latest/dg/notification-contents.html):
 * `Bounce` Permanent → hard, Transient → soft (Undetermined is not understood); `Complaint` → complaint.
 */
export class SesWebhook implements WebhookProvider {
  private readonly topics: Set<string>;
  private readonly certificates = new LRUCache<string, crypto.X509Certificate>({ max: 20, ttl: 3600_000 });

  constructor(
    private readonly deps: {
      topicArns: readonly string[];
      fetchText: FetchText;
      logger: Logger;
      clock: Clock;
    },
  ) {
    this.topics = new Set(deps.topicArns);
  }

  async read(req: WebhookRequest): Promise<WebhookVerdict> {
    const msg = parseJson(req.body);
    if (!isObject(msg)) return unauthorized('not an SNS message');
    const type = str(msg.Type);
    const fields = type ? SIGNED[type] : undefined;
    if (!fields) return unauthorized('not an SNS message');
    if (!this.topics.has(String(msg.TopicArn))) return unauthorized('topic not in SES_TOPIC_ARNS');
    const algorithm = msg.SignatureVersion === '1' ? 'sha1' : msg.SignatureVersion === '2' ? 'sha256' : null;
    const certUrl = str(msg.SigningCertURL);
    const signature = str(msg.Signature);
    if (!algorithm || !certUrl || !CERT_URL.test(certUrl) || !signature) return unauthorized('unsigned');
    const cert = await this.certificate(certUrl);
    const now = this.deps.clock();
    if (
      !cert ||
      !cert.checkHost('sns.amazonaws.com') ||
      new Date(cert.validTo) < now ||
      new Date(cert.validFrom) > now
    )
      return unauthorized('not an SNS certificate');
    if (
      !crypto.verify(
        algorithm,
        Buffer.from(stringToSign(msg, fields)),
        cert.publicKey,
        Buffer.from(signature, 'base64'),
      )
    )
      return unauthorized('bad signature');

    if (type === 'SubscriptionConfirmation') {
      const url = str(msg.SubscribeURL);
      if (!url || !SNS_URL.test(url)) return unauthorized('subscribe URL not on SNS');
      await this.deps.fetchText(url);
      this.deps.logger.info({ topicArn: msg.TopicArn }, 'SNS subscription confirmed');
      return { kind: 'accepted', reports: [] };
    }
    if (type !== 'Notification') return { kind: 'accepted', reports: [] };
    return { kind: 'accepted', reports: sesReports(parseJsonText(str(msg.Message))) };
  }

  private async certificate(url: string): Promise<crypto.X509Certificate | null> {
    const cached = this.certificates.get(url);
    if (cached) return cached;
    const pem = await this.deps.fetchText(url);
    let cert: crypto.X509Certificate;
    try {
      cert = new crypto.X509Certificate(pem);
    } catch {
      return null;
    }
    this.certificates.set(url, cert);
    return cert;
  }
}

/** `Key\nValue\n` for each signed field the message has (Subject only when present). */
function stringToSign(msg: Record<string, unknown>, fields: string[]): string {
  return fields
    .filter((f) => typeof msg[f] === 'string')
    .map((f) => `${f}\n${msg[f] as string}\n`)
    .join('');
}

function parseJsonText(text: string | null): unknown {
  return text === null ? undefined : parseJson(Buffer.from(text, 'utf8'));
}

/** The SES notification (or event-publishing record) inside an SNS Notification's `Message`. */
export function sesReports(n: unknown): BounceReport[] {
  if (!isObject(n) || !isObject(n.mail)) return [];
  const type = str(n.notificationType) ?? str(n.eventType);
  const messageId = originalMessageId(n.mail);
  if (type === 'Bounce' && isObject(n.bounce) && Array.isArray(n.bounce.bouncedRecipients)) {
    const kind =
      n.bounce.bounceType === 'Permanent' ? 'hard' : n.bounce.bounceType === 'Transient' ? 'soft' : null;
    if (!kind) return [];
    return n.bounce.bouncedRecipients.filter(isObject).map((r) => ({
      source: 'ses' as const,
      kind,
      statusCode: str(r.status),
      diagnostic: str(r.diagnosticCode),
      messageId,
      recipient: str(r.emailAddress),
    }));
  }
  if (type === 'Complaint' && isObject(n.complaint) && Array.isArray(n.complaint.complainedRecipients)) {
    if (n.complaint.complaintFeedbackType === 'not-spam') return [];
    return n.complaint.complainedRecipients.filter(isObject).map((r) => ({
      source: 'ses' as const,
      kind: 'complaint' as const,
      statusCode: null,
      diagnostic: null,
      messageId,
      recipient: str(r.emailAddress),
    }));
  }
  return [];
}

/** The Message-ID we set: SES rewrites the header, and keeps the original in `commonHeaders` and `headers`. */
function originalMessageId(mail: Record<string, unknown>): string | null {
  const common = isObject(mail.commonHeaders) ? str(mail.commonHeaders.messageId) : null;
  if (common) return common;
  const headers = Array.isArray(mail.headers) ? mail.headers.filter(isObject) : [];
  return str(headers.find((h) => String(h.name).toLowerCase() === 'message-id')?.value);
}

/** The default fetch: https only, no redirects, 5 s, at most 64 KB (a certificate is ~2 KB). */
export const httpsFetchText: FetchText = async (url) => {
  if (!url.startsWith('https://')) throw new Error('only https is fetched');
  const res = await fetch(url, { redirect: 'error', signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`fetch answered ${res.status}`);
  const text = await res.text();
  if (text.length > 64 * 1024) throw new Error('fetched text is too large');
  return text;
};
