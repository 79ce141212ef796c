import { simpleParser, type Attachment } from 'mailparser';
import type { BounceReport } from './bounce-report.entity';

/**
 * Reads a message that arrived at the bounce listener. Two kinds are understood, by their
 * `multipart/report` type; anything else (auto-replies, out-of-office, plain text) is null:
 * - RFC 3464 delivery status notification: the first per-recipient block whose `Action` is
 *   `failed` (5.x.x → hard, 4.x.x → soft) or `delayed` (soft);
 * - RFC 5965 feedback report with `Feedback-Type: abuse` → complaint. A report without the
 *   original message (or its headers), which RFC 5965 requires, is not understood.
 * The message itself is never kept: only the outcome, status code and diagnostic text leave here.
 */
export async function readInboundReport(
  raw: Buffer,
  findTags: (text: string) => string[],
): Promise<Omit<BounceReport, 'source'> | null> {
  const parsed = await simpleParser(raw, {
    keepDeliveryStatus: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  const type = parsed.headers.get('content-type') as
    { value?: string; params?: Record<string, string> } | undefined;
  if (type?.value?.toLowerCase() !== 'multipart/report') return null;
  const reportType = (type.params?.['report-type'] ?? '').toLowerCase();
  const part = (contentType: string) =>
    parsed.attachments.find((a: Attachment) => a.contentType.toLowerCase() === contentType);

  if (reportType === 'delivery-status') {
    const status = part('message/delivery-status');
    if (!status) return null;
    const outcome = deliveryOutcome(status.content.toString('utf8'));
    if (!outcome) return null;
    return { ...outcome, tags: findTags(raw.toString('latin1')) };
  }
  if (reportType === 'feedback-report') {
    const feedback = part('message/feedback-report');
    if (!feedback) return null;
    const fields = readFields(feedback.content.toString('utf8'));
    if ((fields.get('feedback-type') ?? '').toLowerCase() !== 'abuse') return null;
    if (!/^content-type:\s*(message\/rfc822|text\/rfc822-headers)/im.test(raw.toString('latin1')))
      return null;
    return {
      kind: 'complaint',
      statusCode: null,
      diagnostic: null,
      tags: findTags(raw.toString('latin1')),
    };
  }
  return null;
}

/** The outcome of a `message/delivery-status` body: its first failed or delayed recipient. */
export function deliveryOutcome(
  body: string,
): Pick<BounceReport, 'kind' | 'statusCode' | 'diagnostic'> | null {
  // A per-message block, then one block per recipient, separated by blank lines (RFC 3464 §2.1).
  const blocks = body.split(/\r?\n\s*\r?\n/).map(readFields);
  for (const f of blocks) {
    const action = (f.get('action') ?? '').toLowerCase();
    const status = /^([245])\.\d{1,3}\.\d{1,3}/.exec(f.get('status') ?? '')?.[0] ?? null;
    const diagnostic = f.get('diagnostic-code')?.replace(/^[^;]*;\s*/, '') ?? null;
    if (action === 'failed' && status?.startsWith('5'))
      return { kind: 'hard', statusCode: status, diagnostic };
    if ((action === 'failed' && status?.startsWith('4')) || action === 'delayed')
      return { kind: 'soft', statusCode: status, diagnostic };
  }
  return null;
}

/** Header-style fields (`Name: value`, continuation lines folded), names lower-cased; the first of each wins. */
function readFields(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}
