import express from 'express';
import { createPool } from 'mysql2/promise';
import { serveAsChild } from './child-server';

/**
 * Child process: the click baseline. Bare express + mysql2 (pool of 10, as the service's): the
 * same redirect from an in-memory link list, after one `UPDATE … SET clicks = clicks + 1` on a
 * one-table database. No bot check, no test links, no 404 page. BARE_MYSQL_URL names the (empty)
 * database; CAMPAIGN_ID and LINKS (JSON array of URLs, link n at index n - 1) the links.
 */
async function main(): Promise<void> {
  const pool = createPool({ uri: process.env.BARE_MYSQL_URL!, connectionLimit: 10 });
  const campaignId = Number(process.env.CAMPAIGN_ID);
  const links = JSON.parse(process.env.LINKS!) as string[];
  await pool.query(`CREATE TABLE click_counts (
    campaign_id INT NOT NULL,
    n INT NOT NULL,
    clicks INT NOT NULL DEFAULT 0,
    PRIMARY KEY (campaign_id, n)
  )`);
  await pool.query(
    `INSERT INTO click_counts (campaign_id, n) VALUES ${links.map(() => '(?, ?)').join(', ')}`,
    links.flatMap((_url, i) => [campaignId, i + 1]),
  );

  const app = express();
  app.get('/r/:campaignId/:n', (req, res, next) => {
    const url = Number(req.params.campaignId) === campaignId ? links[Number(req.params.n) - 1] : undefined;
    if (!url) return void res.status(404).end();
    pool
      .execute('UPDATE click_counts SET clicks = clicks + 1 WHERE campaign_id = ? AND n = ?', [
        campaignId,
        Number(req.params.n),
      ])
      .then(() => res.status(302).location(url).end())
      .catch(next);
  });
  await serveAsChild(app, () => pool.end());
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
