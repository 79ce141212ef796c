import { Table, type MigrationInterface, type QueryRunner } from 'typeorm';

/** Staff accounts and their sessions for the admin web UI at /admin. */
export class Admin1764072400000 implements MigrationInterface {
  name = 'Admin1764072400000';

  async up(q: QueryRunner): Promise<void> {
    await q.createTable(
      new Table({
        name: 'staff_users',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          { name: 'email', type: 'varchar', length: '254' },
          { name: 'role', type: 'varchar', length: '20' },
          // scrypt$N$r$p$salt$hash
          { name: 'password_hash', type: 'varchar', length: '200' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'disabled_at', type: 'datetime', precision: 3, isNullable: true },
        ],
        uniques: [{ name: 'uq_staff_users_email', columnNames: ['email'] }],
      }),
    );
    await q.createTable(
      new Table({
        name: 'staff_sessions',
        columns: [
          // SHA-256 of the random token in the cookie: a database leak yields no usable session.
          { name: 'id', type: 'varchar', length: '64', isPrimary: true },
          { name: 'user_id', type: 'integer' },
          { name: 'csrf_token', type: 'varchar', length: '64' },
          { name: 'created_at', type: 'datetime', precision: 3 },
          { name: 'expires_at', type: 'datetime', precision: 3 },
          { name: 'last_seen_at', type: 'datetime', precision: 3 },
        ],
        indices: [
          { name: 'ix_staff_sessions_user', columnNames: ['user_id'] },
          { name: 'ix_staff_sessions_expiry', columnNames: ['expires_at'] },
        ],
        foreignKeys: [
          {
            columnNames: ['user_id'],
            referencedTableName: 'staff_users',
            referencedColumnNames: ['id'],
            onDelete: 'CASCADE',
          },
        ],
      }),
    );
  }

  async down(q: QueryRunner): Promise<void> {
    await q.dropTable('staff_sessions', true);
    await q.dropTable('staff_users', true);
  }
}
