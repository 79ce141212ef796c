import { TableColumn, TableIndex, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Which worker holds a delivery claim, so it can renew and release exactly its own rows. */
export class Delivery1764072300000 implements MigrationInterface {
  name = 'Delivery1764072300000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'deliveries',
      new TableColumn({ name: 'claimed_by', type: 'varchar', length: '64', isNullable: true }),
    );
    await q.createIndex(
      'deliveries',
      new TableIndex({ name: 'ix_deliveries_claimed_by', columnNames: ['claimed_by', 'status'] }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropIndex('deliveries', 'ix_deliveries_claimed_by');
    await q.dropColumn('deliveries', 'claimed_by');
  }
}
