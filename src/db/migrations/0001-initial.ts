import { Table, type MigrationInterface, type QueryRunner, type TableColumnOptions } from 'typeorm';

/** Column helpers that produce the same logical schema on SQLite and MySQL/MariaDB. */
const id = (): TableColumnOptions => ({
  name: 'id',
  type: 'integer',
  isPrimary: true,
  isGenerated: true,
  generationStrategy: 'increment',
});
const str = (name: string, length: number, nullable = false): TableColumnOptions => ({
  name,
  type: 'varchar',
  length: String(length),
  isNullable: nullable,
});
const int = (name: string, nullable = false, def?: number): TableColumnOptions => ({
  name,
  type: 'integer',
  isNullable: nullable,
  default: def,
});
const time = (name: string, nullable = false): TableColumnOptions => ({
  name,
  type: 'datetime',
  precision: 3,
  isNullable: nullable,
});
const longText = (q: QueryRunner, name: string, nullable = true): TableColumnOptions => ({
  name,
  type: q.connection.options.type === 'mysql' ? 'mediumtext' : 'text',
  isNullable: nullable,
});

export class Initial1764072000000 implements MigrationInterface {
  name = 'Initial1764072000000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'api_clients',
        columns: [
          id(),
          str('name', 100),
          str('token_hash', 64),
          str('scopes', 200),
          time('created_at'),
          time('revoked_at', true),
        ],
        uniques: [{ columnNames: ['name'] }, { columnNames: ['token_hash'] }],
      }),
    );

    await q.createTable(
      new Table({
        name: 'members',
        columns: [
          id(),
          // Nullable: an unsubscribed member keeps an anonymous row (status, source, dates) and nothing else.
          str('email', 254, true),
          str('first_name', 100, true),
          str('last_name', 100, true),
          str('phone', 30, true),
          str('source', 30),
          str('source_version', 30, true),
          str('external_id', 100, true),
          str('partner_id', 100, true),
          str('status', 20),
          str('status_before_restriction', 20, true),
          time('created_at'),
          time('updated_at'),
          time('confirmed_at', true),
          time('left_at', true),
        ],
        uniques: [{ name: 'uq_members_email', columnNames: ['email'] }],
        indices: [
          { name: 'ix_members_status_source', columnNames: ['status', 'source'] },
          { name: 'ix_members_partner', columnNames: ['partner_id'] },
          { name: 'ix_members_external', columnNames: ['external_id'] },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'consent_events',
        columns: [
          id(),
          // Set to NULL by erasure: the event stays as anonymous evidence.
          int('member_id', true),
          str('type', 30),
          time('occurred_at'),
          str('source', 30, true),
          str('source_version', 30, true),
          str('text_version', 50, true),
          str('text_sha256', 64, true),
          str('channel', 30, true),
          time('given_at', true),
        ],
        indices: [
          { name: 'ix_consent_member', columnNames: ['member_id'] },
          { name: 'ix_consent_type_time', columnNames: ['type', 'occurred_at'] },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'member_tokens',
        columns: [
          id(),
          int('member_id'),
          str('purpose', 20),
          str('token_hash', 64),
          time('created_at'),
          time('expires_at'),
          time('used_at', true),
        ],
        uniques: [{ columnNames: ['token_hash'] }],
        indices: [
          { name: 'ix_tokens_member', columnNames: ['member_id'] },
          { name: 'ix_tokens_expiry', columnNames: ['expires_at'] },
        ],
        foreignKeys: [
          {
            columnNames: ['member_id'],
            referencedTableName: 'members',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );

    // Transactional mail (confirmation, privacy link) waiting to be sent or retried. It holds no
    // address and no token: both are produced at send time from the member row.
    await q.createTable(
      new Table({
        name: 'mail_outbox',
        columns: [
          id(),
          int('member_id'),
          str('kind', 30),
          int('attempts', false, 0),
          time('next_attempt_at'),
          time('lease_until', true),
          str('last_error', 500, true),
          time('created_at'),
        ],
        indices: [{ name: 'ix_outbox_due', columnNames: ['next_attempt_at'] }],
        foreignKeys: [
          {
            columnNames: ['member_id'],
            referencedTableName: 'members',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'suppressions',
        columns: [{ ...str('email_hmac', 64), isPrimary: true }, str('reason', 30), time('created_at')],
      }),
    );

    await q.createTable(
      new Table({
        name: 'campaigns',
        columns: [
          id(),
          str('name', 200),
          str('subject', 200),
          str('preheader', 200, true),
          longText(q, 'audience_json'),
          longText(q, 'blocks_json', false),
          str('status', 20),
          time('scheduled_at', true),
          time('started_at', true),
          time('finished_at', true),
          longText(q, 'compiled_html'),
          longText(q, 'compiled_text'),
          int('total', false, 0),
          time('created_at'),
          time('updated_at'),
        ],
        indices: [{ name: 'ix_campaigns_status', columnNames: ['status'] }],
      }),
    );

    // The delivery ledger: one row per (campaign, member). No address: read from the member at send time.
    await q.createTable(
      new Table({
        name: 'deliveries',
        columns: [
          id(),
          int('campaign_id'),
          int('member_id', true),
          str('status', 10),
          int('attempts', false, 0),
          time('next_attempt_at'),
          time('lease_until', true),
          str('last_error', 500, true),
          time('sent_at', true),
          time('updated_at'),
        ],
        uniques: [{ name: 'uq_deliveries_campaign_member', columnNames: ['campaign_id', 'member_id'] }],
        indices: [
          { name: 'ix_deliveries_claim', columnNames: ['status', 'next_attempt_at'] },
          { name: 'ix_deliveries_campaign_status', columnNames: ['campaign_id', 'status'] },
          { name: 'ix_deliveries_member', columnNames: ['member_id'] },
        ],
        foreignKeys: [
          {
            columnNames: ['campaign_id'],
            referencedTableName: 'campaigns',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );

    await q.createTable(
      new Table({
        name: 'privacy_requests',
        columns: [
          id(),
          str('type', 20),
          // Replaced by the suppression HMAC when the person is erased.
          str('email', 254, true),
          str('email_hmac', 64),
          time('received_at'),
          time('due_at'),
          str('channel', 30),
          str('note', 2000, true),
          str('status', 10),
          str('outcome', 200, true),
          time('closed_at', true),
          time('created_at'),
          time('updated_at'),
        ],
        indices: [
          { name: 'ix_requests_open_due', columnNames: ['status', 'due_at'] },
          { name: 'ix_requests_hmac', columnNames: ['email_hmac'] },
        ],
      }),
    );

    // Live worker processes, so SEND_RATE can be shared between them.
    await q.createTable(
      new Table({
        name: 'workers',
        columns: [{ ...str('id', 64), isPrimary: true }, time('heartbeat_at')],
        indices: [{ name: 'ix_workers_heartbeat', columnNames: ['heartbeat_at'] }],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    for (const t of [
      'workers',
      'privacy_requests',
      'deliveries',
      'campaigns',
      'suppressions',
      'mail_outbox',
      'member_tokens',
      'consent_events',
      'members',
      'api_clients',
    ]) {
      await q.dropTable(t, true);
    }
  }
}
