import crypto from 'node:crypto';
import type { BounceReport } from '../bounce-report.entity';
import {
  isObject,
  parseJson,
  statusIn,
  str,
  unauthorized,
  type WebhookProvider,
  type WebhookRequest,
  type WebhookVerdict,
} from './provider';

/** Postmark's bounce types that mean the address does not work, or not for now. */
const HARD = new Set(['HardBounce', 'BadEmailAddress', 'ManuallyDeactivated']);
const SOFT = new Set(['SoftBounce', 'Transient', 'DnsError', 'MailboxFull']);

/**
 * Postmark (https://postmarkapp.com/developer/webhooks/webhooks-overview): webhooks carry HTTP basic
 * auth from the URL set in Postmark; the password must be POSTMARK_WEBHOOK_SECRET (any user name),
 * compared in constant time. Payloads: the bounce webhook
 * (https://postmarkapp.com/developer/webhooks/bounce-webhook) → hard or soft by `Type`, the spam
 * complaint webhook (https://postmarkapp.com/developer/webhooks/spam-complaint-webhook) → complaint.
 * Postmark's `MessageID` is its own, so the message is found by the recipient address.
 */
export class PostmarkWebhook implements WebhookProvider {
  private readonly secretDigest: Buffer;

  constructor(secret: string) {
    this.secretDigest = digest(secret);
  }

  async read(req: WebhookRequest): Promise<WebhookVerdict> {
    const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(req.header('authorization') ?? '');
    if (!m) return unauthorized('no basic auth');
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const password = decoded.slice(decoded.indexOf(':') + 1);
    // Digests of equal length, so the comparison takes the same time whatever was sent.
    if (decoded.indexOf(':') < 0 || !crypto.timingSafeEqual(digest(password), this.secretDigest))
      return unauthorized('bad password');
    return { kind: 'accepted', reports: postmarkReports(parseJson(req.body)) };
  }
}

const digest = (s: string) => crypto.createHash('sha256').update(s, 'utf8').digest();

export function postmarkReports(record: unknown): BounceReport[] {
  if (!isObject(record)) return [];
  const type = str(record.Type);
  const kind =
    record.RecordType === 'SpamComplaint' || type === 'SpamComplaint'
      ? 'complaint'
      : record.RecordType === 'Bounce' && type && HARD.has(type)
        ? 'hard'
        : record.RecordType === 'Bounce' && type && SOFT.has(type)
          ? 'soft'
          : null;
  if (!kind) return [];
  const diagnostic = str(record.Details) ?? str(record.Description);
  return [
    {
      source: 'postmark',
      kind,
      statusCode: statusIn(diagnostic),
      diagnostic,
      messageId: null,
      recipient: str(record.Email),
    },
  ];
}
