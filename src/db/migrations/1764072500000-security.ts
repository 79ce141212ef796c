import { Table, TableColumn, type MigrationInterface, type QueryRunner } from 'typeorm';

/**
 * Security hardening:
 * - campaigns.compiled_nonce: the placeholder nonce of the stored render, so a render read back
 *   fills only its own placeholders. Renders frozen before this are given the nonce of their
 *   footer's unsubscribe placeholder (the template's last one, after all campaign text).
 * - mail_quota: how many transactional mails of a kind were queued for a member, in all and in
 *   the current window, so a sign-up or privacy-link request cannot flood an address.
 */
export class Security1764072500000 implements MigrationInterface {
  name = 'Security1764072500000';

  async up(q: QueryRunner): Promise<void> {
    await q.addColumn(
      'campaigns',
      new TableColumn({ name: 'compiled_nonce', type: 'varchar', length: '24', isNullable: true }),
    );
    const frozen: Array<{ id: number; compiled_html: string }> = await q.query(
      'SELECT id, compiled_html FROM campaigns WHERE compiled_html IS NOT NULL',
    );
    for (const row of frozen) {
      const nonces = [...row.compiled_html.matchAll(/%%KK_([0-9a-f]{24})_UNSUB%%/g)].map((m) => m[1]);
      const footer = nonces[nonces.length - 1];
      if (footer) await q.query('UPDATE campaigns SET compiled_nonce = ? WHERE id = ?', [footer, row.id]);
    }

    await q.createTable(
      new Table({
        name: 'mail_quota',
        columns: [
          { name: 'member_id', type: 'integer', isPrimary: true },
          { name: 'kind', type: 'varchar', length: '30', isPrimary: true },
          { name: 'total', type: 'integer', default: 0 },
          { name: 'window_count', type: 'integer', default: 0 },
          { name: 'window_start', type: 'datetime', precision: 3, isNullable: true },
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
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('mail_quota', true);
    await q.dropColumn('campaigns', 'compiled_nonce');
  }
}
