import crypto from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { Clock } from '../../db/time';
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

/** Mailgun signs each post; older than this (either way) is refused, like a replayed token. */
const MAX_AGE_S = 5 * 60;

/**
 * Mailgun (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks):
 * `signature.signature` is hex HMAC-SHA256 of `timestamp + token` under the webhook signing key.
 * The timestamp must be within 5 minutes, and a token is taken once (kept 10 minutes in this
 * process; another process sees a replayed event as a duplicate and changes nothing either).
 * Events (https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/webhook-payloads):
 * `failed` with severity `permanent` → hard, `temporary` → soft; `complained` → complaint.
 */
export class MailgunWebhook implements WebhookProvider {
  private readonly tokens = new LRUCache<string, true>({ max: 100_000, ttl: 2 * MAX_AGE_S * 1000 });

  constructor(
    private readonly key: string,
    private readonly clock: Clock,
  ) {}

  async read(req: WebhookRequest): Promise<WebhookVerdict> {
    const body = parseJson(req.body);
    if (!isObject(body) || !isObject(body.signature)) return unauthorized('no signature');
    const { timestamp, token, signature } = body.signature;
    if (typeof timestamp !== 'string' && typeof timestamp !== 'number') return unauthorized('no timestamp');
    if (typeof token !== 'string' || typeof signature !== 'string') return unauthorized('no token');
    const expected = crypto.createHmac('sha256', this.key).update(`${timestamp}${token}`).digest();
    const given = Buffer.from(signature, 'hex');
    if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected))
      return unauthorized('bad signature');
    if (Math.abs(this.clock().getTime() / 1000 - Number(timestamp)) > MAX_AGE_S)
      return unauthorized('too old');
    if (this.tokens.has(token)) return unauthorized('replayed token');
    return {
      kind: 'accepted',
      reports: mailgunReports(body['event-data']),
      done: () => void this.tokens.set(token, true),
    };
  }
}

export function mailgunReports(event: unknown): BounceReport[] {
  if (!isObject(event)) return [];
  const name = str(event.event);
  const severity = str(event.severity);
  const kind =
    name === 'complained'
      ? 'complaint'
      : name === 'failed' && severity === 'permanent'
        ? 'hard'
        : name === 'failed' && severity === 'temporary'
          ? 'soft'
          : null;
  if (!kind) return [];
  const status = isObject(event['delivery-status']) ? event['delivery-status'] : {};
  const headers = isObject(event.message) && isObject(event.message.headers) ? event.message.headers : {};
  const diagnostic = str(status.description) ?? str(status.message);
  return [
    {
      source: 'mailgun',
      kind,
      statusCode:
        str(status['enhanced-code']) ??
        statusIn(diagnostic) ??
        (typeof status.code === 'number' ? String(status.code) : null),
      diagnostic,
      messageId: str(headers['message-id']),
      recipient: str(event.recipient),
    },
  ];
}
