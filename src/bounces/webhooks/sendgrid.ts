import { EventWebhook, EventWebhookHeader } from '@sendgrid/eventwebhook';
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

/**
 * SendGrid's signed event webhook
 * (https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features):
 * ECDSA over `timestamp + raw body`, checked with SendGrid's own verifier and the verification key.
 * Events come in batches (a JSON array; https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/event):
 * `bounce` → hard (its `type` `blocked` → soft), `deferred` → soft, `spamreport` → complaint.
 */
export class SendgridWebhook implements WebhookProvider {
  private readonly verifier = new EventWebhook();
  private readonly key: ReturnType<EventWebhook['convertPublicKeyToECDSA']>;

  constructor(publicKey: string) {
    this.key = this.verifier.convertPublicKeyToECDSA(publicKey);
  }

  async read(req: WebhookRequest): Promise<WebhookVerdict> {
    const signature = req.header(EventWebhookHeader.SIGNATURE());
    const timestamp = req.header(EventWebhookHeader.TIMESTAMP());
    if (!signature || !timestamp) return unauthorized('no signature');
    if (!this.verifies(req.body, signature, timestamp)) return unauthorized('bad signature');
    const events = parseJson(req.body);
    return { kind: 'accepted', reports: Array.isArray(events) ? events.flatMap(sendgridReport) : [] };
  }

  private verifies(body: Buffer, signature: string, timestamp: string): boolean {
    try {
      return this.verifier.verifySignature(this.key, body, signature, timestamp);
    } catch {
      return false; // a signature that is not DER, or not base64
    }
  }
}

export function sendgridReport(event: unknown): BounceReport[] {
  if (!isObject(event)) return [];
  const name = str(event.event);
  const kind =
    name === 'spamreport'
      ? 'complaint'
      : name === 'deferred'
        ? 'soft'
        : name === 'bounce'
          ? event.type === 'blocked'
            ? 'soft'
            : 'hard'
          : null;
  if (!kind) return [];
  const diagnostic = str(event.reason) ?? str(event.response);
  return [
    {
      source: 'sendgrid',
      kind,
      statusCode: str(event.status) ?? statusIn(diagnostic),
      diagnostic,
      messageId: str(event['smtp-id']),
      recipient: str(event.email),
    },
  ];
}
