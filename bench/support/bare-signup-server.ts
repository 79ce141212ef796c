import express from 'express';
import { createPool } from 'mysql2/promise';
import { serveAsChild } from './child-server';

/**
 * Child process: the sign-up baseline. Bare express + mysql2: parse JSON, one INSERT into a
 * one-table database with a unique email column, answer 201. No validation, no consent history,
 * no auth. BARE_MYSQL_URL names the (empty) database; the table is created here.
 */
async function main(): Promise<void> {
  const pool = createPool({ uri: process.env.BARE_MYSQL_URL!, connectionLimit: 10 });
  await pool.query(`CREATE TABLE members (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    email VARCHAR(254) NOT NULL,
    first_name VARCHAR(100) NULL,
    last_name VARCHAR(100) NULL,
    source VARCHAR(30) NOT NULL,
    created_at DATETIME(3) NOT NULL,
    UNIQUE KEY uq_members_email (email)
  ) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);

  const app = express();
  app.use(express.json());
  app.post('/v1/members', (req, res, next) => {
    const b = req.body as { email: string; firstName?: string; lastName?: string; source: string };
    pool
      .execute(
        'INSERT INTO members (email, first_name, last_name, source, created_at) VALUES (?, ?, ?, ?, ?)',
        [b.email, b.firstName ?? null, b.lastName ?? null, b.source, new Date()],
      )
      .then(([r]) =>
        res.status(201).json({ id: (r as { insertId: number }).insertId, email: b.email, status: 'active' }),
      )
      .catch(next);
  });
  await serveAsChild(app, () => pool.end());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
