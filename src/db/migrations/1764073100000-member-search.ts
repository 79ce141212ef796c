import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';
import { SEARCH_TOKEN_MAX, searchTokens } from '../search-tokens';

const BATCH = 1000;
const ROWS_PER_INSERT = 500;

/**
 * Member search by part of a name or address (issue #14): `member_search_tokens`, one row per
 * folded token of a member's names and address (db/search-tokens.ts), owned by the members room.
 * The key (token, member_id) makes «words that start with odeg» an index range on both databases;
 * the members table is never scanned with `LIKE '%x%'`. Binary collation on MariaDB, so the range
 * is in code point order as on SQLite. The tokens are personal data: they go with the member.
 * Existing members get their tokens here.
 */
export class MemberSearch1764073100000 implements MigrationInterface {
  name = 'MemberSearch1764073100000';

  async up(q: QueryRunner): Promise<void> {
    const mysql = q.connection.options.type === 'mysql';
    await q.createTable(
      new Table({
        name: 'member_search_tokens',
        columns: [
          {
            name: 'token',
            type: 'varchar',
            length: String(SEARCH_TOKEN_MAX),
            isPrimary: true,
            ...(mysql ? { charset: 'utf8mb4', collation: 'utf8mb4_bin' } : {}),
          },
          { name: 'member_id', type: 'integer', isPrimary: true },
        ],
        indices: [{ name: 'ix_member_search_member', columnNames: ['member_id', 'token'] }],
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
    for (let after = 0; ;) {
      const rows: Array<{ id: number; email: string; first_name: string | null; last_name: string | null }> =
        await q.query(
          `SELECT id, email, first_name, last_name FROM members WHERE email IS NOT NULL AND id > ? ORDER BY id LIMIT ${BATCH}`,
          [after],
        );
      if (rows.length === 0) break;
      const pairs = rows.flatMap((r) =>
        searchTokens({ email: r.email, firstName: r.first_name, lastName: r.last_name }).map(
          (t): [string, number] => [t, Number(r.id)],
        ),
      );
      for (let i = 0; i < pairs.length; i += ROWS_PER_INSERT) {
        const chunk = pairs.slice(i, i + ROWS_PER_INSERT);
        await q.query(
          `INSERT INTO member_search_tokens (token, member_id) VALUES ${chunk.map(() => '(?, ?)').join(', ')}`,
          chunk.flat(),
        );
      }
      after = Number(rows[rows.length - 1].id);
    }
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('member_search_tokens', true);
  }
}
