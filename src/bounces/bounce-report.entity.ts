import { EntitySchema } from 'typeorm';
import { idColumn, intColumn, stringColumn, timeColumn } from '../db/columns';

export const REPORT_KINDS = ['hard', 'soft', 'complaint'] as const;
/** CONTRACT §9: a permanent failure, a temporary one (or a delay), a spam complaint. */
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_SOURCES = ['smtp', 'ses', 'mailgun', 'sendgrid', 'postmark'] as const;
export type ReportSource = (typeof REPORT_SOURCES)[number];

/**
 * One outcome per message and kind, applied once (the unique key). What remains of a report: its
 * outcome, the status code and the diagnostic text without addresses; never the report itself.
 */
export interface BounceReportRow {
  id: number;
  /** `d{deliveryId}` for a newsletter, `t{memberId}.{address fingerprint}` for transactional mail. */
  messageKey: string;
  kind: ReportKind;
  source: ReportSource;
  campaignId: number | null;
  deliveryId: number | null;
  /** null once the member is erased: the row stays as an anonymous count. */
  memberId: number | null;
  statusCode: string | null;
  diagnostic: string | null;
  occurredAt: Date;
}

export const BounceReportEntity = new EntitySchema<BounceReportRow>({
  name: 'BounceReport',
  tableName: 'bounce_reports',
  columns: {
    id: idColumn(),
    messageKey: stringColumn('message_key', 40, false),
    kind: stringColumn('kind', 10, false),
    source: stringColumn('source', 10, false),
    campaignId: intColumn('campaign_id', true),
    deliveryId: intColumn('delivery_id', true),
    memberId: intColumn('member_id', true),
    statusCode: stringColumn('status_code', 10, true),
    diagnostic: stringColumn('diagnostic', 500, true),
    occurredAt: timeColumn('occurred_at', false),
  },
});

/**
 * A report as heard from the mail system, before it is matched to a message. Over SMTP only a
 * verified VERP tag names the message; a signed webhook names it by Message-ID, else by address.
 */
export interface BounceReport {
  source: ReportSource;
  kind: ReportKind;
  /** Enhanced status code (5.1.1) or SMTP reply code (550), when the report has one. */
  statusCode: string | null;
  /** The receiving server's words; addresses are removed before anything keeps it. */
  diagnostic: string | null;
  /** SMTP: the `b-{tag}@{BOUNCE_DOMAIN}` addresses the report names (envelope first). */
  tags?: string[];
  /** Webhooks: the Message-ID of the mail we sent, as the provider reports it. */
  messageId?: string | null;
  /** Webhooks: the recipient the report is about. */
  recipient?: string | null;
}
