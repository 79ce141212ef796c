import type { DataSource, EntityManager } from 'typeorm';
import { execute, placeholders } from '../db/sql';
import { MIN_REPORTED_CLICKS, type ClickStat } from './clicks.schema';

/** What the stats name about a link besides its count (the campaigns room's link list). */
export type LinkFacts = Omit<ClickStat, 'count'>;

/** Clicks on one link waiting for the statement that adds them, and who waits for it. */
interface PendingClicks {
  clicks: number;
  waiters: Array<{ resolve: (counted: boolean) => void; reject: (err: unknown) => void }>;
}

/**
 * Owns `click_counts`: one counter per campaign and link. A click adds one to its counter;
 * nothing else about it (who, from where, when, with what) is kept anywhere.
 *
 * Clicks on a link that arrive while its UPDATE is under way are added together by the next one
 * (`clicks = clicks + k`), like a database's group commit: each click is still answered only
 * after a committed statement counted it, but a burst on one offer takes a few statements
 * instead of a lock queue of one per click on the same row.
 */
export class ClickCounts {
  private readonly ds: DataSource;
  /** Per `campaignId:n`: clicks not yet in a statement. */
  private readonly pending = new Map<string, PendingClicks>();
  /** Links whose UPDATE is under way right now. */
  private readonly writing = new Set<string>();

  constructor(deps: { dataSource: DataSource }) {
    this.ds = deps.dataSource;
  }

  /** Zeroed counters for a campaign's links, in the transaction that freezes its render. */
  async prepare(manager: EntityManager, campaignId: number, ns: number[]): Promise<void> {
    if (ns.length === 0) return;
    await execute(
      manager,
      `INSERT INTO click_counts (campaign_id, n, clicks) VALUES ${ns.map(() => '(?, ?, 0)').join(', ')}`,
      ns.flatMap((n) => [campaignId, n]),
    );
  }

  /** One more click on link `n`, once committed; false when the campaign has no such counter. */
  increment(campaignId: number, n: number): Promise<boolean> {
    const key = `${campaignId}:${n}`;
    let batch = this.pending.get(key);
    if (!batch) {
      batch = { clicks: 0, waiters: [] };
      this.pending.set(key, batch);
    }
    batch.clicks++;
    const counted = new Promise<boolean>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!this.writing.has(key)) void this.write(key, campaignId, n);
    return counted;
  }

  /** Adds the link's waiting clicks in one statement, then the ones that came meanwhile. */
  private async write(key: string, campaignId: number, n: number): Promise<void> {
    this.writing.add(key);
    try {
      for (let batch = this.pending.get(key); batch; batch = this.pending.get(key)) {
        this.pending.delete(key);
        try {
          const res = await execute(
            this.ds,
            'UPDATE click_counts SET clicks = clicks + ? WHERE campaign_id = ? AND n = ?',
            [batch.clicks, campaignId, n],
          );
          for (const w of batch.waiters) w.resolve(res.affected === 1);
        } catch (err) {
          for (const w of batch.waiters) w.reject(err);
        }
      }
    } finally {
      this.writing.delete(key);
    }
  }

  /** The links with their counts, `null` below MIN_REPORTED_CLICKS. */
  async report(campaignId: number, links: LinkFacts[]): Promise<ClickStat[]> {
    if (links.length === 0) return [];
    const res = await execute(
      this.ds,
      `SELECT n, clicks FROM click_counts WHERE campaign_id = ? AND n IN (${placeholders(links.length)})`,
      [campaignId, ...links.map((l) => l.n)],
    );
    const counts = new Map(res.records.map((r) => [Number(r.n), Number(r.clicks)]));
    return links.map((l) => {
      const clicks = counts.get(l.n) ?? 0;
      return { ...l, count: clicks >= MIN_REPORTED_CLICKS ? clicks : null };
    });
  }
}
