import crypto from 'node:crypto';
import { Table, TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Statistics without tracking persons, and the web version (CONTRACT §12):
 * - campaigns.public_id: the random id of the campaign's web version `/n/{publicId}` (128 bits,
 *   not derived from the id); campaigns made before this get one here.
 * - campaigns.links_json: the link list (n → url, label, block) frozen with the render.
 * - click_counts: one counter per campaign and link. No member, no address, no time: a click
 *   only adds one to its link's counter.
 */
export class Clicks1764072900000 implements MigrationInterface {
  name = 'Clicks1764072900000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumns('campaigns', [
      new TableColumn({ name: 'public_id', type: 'varchar', length: '32', isNullable: true }),
      new TableColumn({
        name: 'links_json',
        type: q.connection.options.type === 'mysql' ? 'mediumtext' : 'text',
        isNullable: true,
      }),
    ]);
    const existing: Array<{ id: number }> = await q.query('SELECT id FROM campaigns');
    for (const row of existing) {
      await q.query('UPDATE campaigns SET public_id = ? WHERE id = ?', [
        crypto.randomBytes(16).toString('base64url'),
        row.id,
      ]);
    }
    await q.createIndex(
      'campaigns',
      new TableIndex({ name: 'uq_campaigns_public_id', columnNames: ['public_id'], isUnique: true }),
    );

    await q.createTable(
      new Table({
        name: 'click_counts',
        columns: [
          { name: 'campaign_id', type: 'integer', isPrimary: true },
          { name: 'n', type: 'integer', isPrimary: true },
          { name: 'clicks', type: 'integer', default: 0 },
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('click_counts', true);
    await q.dropIndex('campaigns', 'uq_campaigns_public_id');
    await q.dropColumn('campaigns', 'links_json');
    await q.dropColumn('campaigns', 'public_id');
  }
}
