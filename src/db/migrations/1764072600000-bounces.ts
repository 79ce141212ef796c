import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Bounces and complaints (CONTRACT §9):
 * - bounce_reports (the bounces room): one row per message and outcome (hard, soft, complaint),
 *   its primary key, so a report heard twice, or by a webhook and a DSN, is applied once. It keeps the
 *   outcome, the status code and the diagnostic text without addresses, never the report.
 * - campaigns.paused_reason: why a campaign is paused (manual, bounce-rate, complaint-rate);
 *   campaigns.resumed_at: when a person last resumed it (the guardrail's rates count from then).
 * - consent_events.code: the status code of a `bounced` event (e.g. 5.1.1), nothing else.
 */
export class Bounces1764072600000 implements MigrationInterface {
  name = 'Bounces1764072600000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'bounce_reports',
        columns: [
          // The key is the message and the outcome: a report heard again finds its row and adds nothing.
          // `d{deliveryId}` (a newsletter) or `t{memberId}.{address fingerprint}` (transactional mail)
          { name: 'message_key', type: 'varchar', length: '40', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '10', isPrimary: true },
          { name: 'source', type: 'varchar', length: '10' },
          { name: 'campaign_id', type: 'integer', isNullable: true },
          { name: 'delivery_id', type: 'integer', isNullable: true },
          // Set to NULL by erasure, like the ledger: the row stays as an anonymous count.
          { name: 'member_id', type: 'integer', isNullable: true },
          // When the newsletter was handed to SMTP: the guardrail counts messages sent since a resume.
          { name: 'sent_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'status_code', type: 'varchar', length: '10', isNullable: true },
          { name: 'diagnostic', type: 'varchar', length: '500', isNullable: true },
          { name: 'occurred_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'ix_bounce_reports_campaign', columnNames: ['campaign_id', 'kind'] },
          { name: 'ix_bounce_reports_member', columnNames: ['member_id', 'kind', 'occurred_at'] },
          { name: 'ix_bounce_reports_time', columnNames: ['occurred_at'] },
        ],
      }),
    );
    await q.addColumn(
      'campaigns',
      new TableColumn({ name: 'paused_reason', type: 'varchar', length: '20', isNullable: true }),
    );
    await q.addColumn(
      'campaigns',
      new TableColumn({ name: 'resumed_at', type: 'datetime', precision: 3, isNullable: true }),
    );
    await q.addColumn(
      'consent_events',
      new TableColumn({ name: 'code', type: 'varchar', length: '20', isNullable: true }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('consent_events', 'code');
    await q.dropColumn('campaigns', 'resumed_at');
    await q.dropColumn('campaigns', 'paused_reason');
    await q.dropTable('bounce_reports', true);
  }
}
