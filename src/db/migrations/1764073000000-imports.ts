import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * CSV import with consent evidence (CONTRACT §11):
 * - imports: one row per import, owned by the imports room: its status, options, the file's
 *   SHA-256 and size, the counts and the first 100 row errors as JSON, who started it. Never the
 *   file, never an address (row errors name the row and the field, not the value).
 * - consent_events.file_sha256 and file_row: an `imported` event's evidence, the file and the row
 *   the member came from. The new source `import` and event type `imported` are plain values of
 *   the existing varchar columns.
 */
export class Imports1764073000000 implements MigrationInterface {
  name = 'Imports1764073000000';

  async up(q: QueryRunner): Promise<void> {
    const longText = q.connection.options.type === 'mysql' ? 'mediumtext' : 'text';
    await q.createTable(
      new Table({
        name: 'imports',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'status', type: 'varchar', length: '20' },
          { name: 'without_consent', type: 'varchar', length: '10' },
          { name: 'sha256', type: 'varchar', length: '64' },
          { name: 'size_bytes', type: 'bigint' },
          { name: 'bytes_done', type: 'bigint', default: 0 },
          { name: 'counts_json', type: 'text' },
          { name: 'errors_json', type: longText },
          { name: 'ignored_columns_json', type: 'text' },
          // Why a failed import stopped, in English (never a value from the file).
          { name: 'failure', type: 'varchar', length: '300', isNullable: true },
          // `staff:{id}` or `client:{id}`: never an address.
          { name: 'created_by', type: 'varchar', length: '50' },
          // The name of the temporary copy being read, so a crashed import's copy can be deleted.
          { name: 'spool_name', type: 'varchar', length: '64', isNullable: true },
          { name: 'created_at', type: 'datetime', precision: 3 },
          // The running import's heartbeat: one left `running` without it for long was interrupted.
          { name: 'updated_at', type: 'datetime', precision: 3 },
          { name: 'finished_at', type: 'datetime', precision: 3, isNullable: true },
        ],
        indices: [{ name: 'ix_imports_status', columnNames: ['status', 'updated_at'] }],
      }),
    );
    await q.addColumns('consent_events', [
      new TableColumn({ name: 'file_sha256', type: 'varchar', length: '64', isNullable: true }),
      new TableColumn({ name: 'file_row', type: 'integer', isNullable: true }),
    ]);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropColumn('consent_events', 'file_row');
    await q.dropColumn('consent_events', 'file_sha256');
    await q.dropTable('imports', true);
  }
}
