import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Webhooks to the apps and the event feed (CONTRACT §10), the events room's tables:
 * - member_events: one row per member change, written in the change's own transaction. Its key
 *   `sequence` comes from event_sequence, never from an auto-increment (see EventLog.append).
 *   No address, no name: the member id, the app's externalId, source, status, channel.
 * - event_sequence: one row; bumping it inside the change's transaction serialises event
 *   writers until commit, so sequences become visible in commit order on both databases.
 * - webhook_endpoints, webhook_deliveries: the apps' endpoints and one row per (endpoint, event).
 */
export class Events1764072700000 implements MigrationInterface {
  name = 'Events1764072700000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'member_events',
        columns: [
          { name: 'sequence', type: 'bigint', isPrimary: true },
          { name: 'type', type: 'varchar', length: '30' },
          { name: 'member_id', type: 'integer' },
          { name: 'external_id', type: 'varchar', length: '100', isNullable: true },
          { name: 'source', type: 'varchar', length: '30' },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'channel', type: 'varchar', length: '30', isNullable: true },
          { name: 'occurred_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'ix_member_events_time', columnNames: ['occurred_at'] },
          { name: 'ix_member_events_member', columnNames: ['member_id'] },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'event_sequence',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'value', type: 'bigint', default: 0 },
        ],
      }),
    );
    await q.query('INSERT INTO event_sequence (id, value) VALUES (1, 0)');
    await q.createTable(
      new Table({
        name: 'webhook_endpoints',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'url', type: 'varchar', length: '2000' },
          { name: 'events_json', type: 'varchar', length: '1000' },
          { name: 'sources_json', type: 'varchar', length: '1000', isNullable: true },
          // Stored as given: it must sign every delivery. Shown once at creation, never logged.
          { name: 'secret', type: 'varchar', length: '100' },
          // The last event sequence fanned out into webhook_deliveries for this endpoint.
          { name: 'cursor_sequence', type: 'bigint', default: 0 },
          { name: 'disabled_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'disabled_reason', type: 'varchar', length: '30', isNullable: true },
          // Since when every delivery has failed (null after a success): 3 days of it disables.
          { name: 'failing_since', type: 'datetime', precision: 3, isNullable: true },
          { name: 'last_attempt_at', type: 'datetime', precision: 3, isNullable: true },
          { name: 'last_result', type: 'varchar', length: '100', isNullable: true },
          { name: 'created_at', type: 'datetime', precision: 3 },
        ],
      }),
    );
    await q.createTable(
      new Table({
        name: 'webhook_deliveries',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'endpoint_id', type: 'integer' },
          { name: 'sequence', type: 'bigint' },
          { name: 'member_id', type: 'integer' },
          // pending → delivered | dropped (the endpoint was disabled or deleted)
          { name: 'state', type: 'varchar', length: '10' },
          { name: 'attempts', type: 'integer', default: 0 },
          { name: 'next_attempt_at', type: 'datetime', precision: 3 },
          { name: 'lease_owner', type: 'varchar', length: '40', isNullable: true },
          { name: 'lease_until', type: 'datetime', precision: 3, isNullable: true },
          { name: 'last_result', type: 'varchar', length: '100', isNullable: true },
          { name: 'created_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'uq_webhook_deliveries', columnNames: ['endpoint_id', 'sequence'], isUnique: true },
          { name: 'ix_webhook_deliveries_due', columnNames: ['state', 'next_attempt_at'] },
          {
            name: 'ix_webhook_deliveries_member',
            columnNames: ['endpoint_id', 'member_id', 'state', 'sequence'],
          },
        ],
        foreignKeys: [
          {
            columnNames: ['endpoint_id'],
            referencedTableName: 'webhook_endpoints',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('webhook_deliveries', true);
    await q.dropTable('webhook_endpoints', true);
    await q.dropTable('event_sequence', true);
    await q.dropTable('member_events', true);
  }
}
