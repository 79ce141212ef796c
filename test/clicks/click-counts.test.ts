import * as sql from '../../src/db/sql';
import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import { campaignAction, createCampaign } from '../support/club';

describe.each(databaseKinds())('click counters on %s', (kind) => {
  let t: TestApp;
  let id: number;
  beforeAll(async () => {
    t = await startTestApp(kind, { env: { DOUBLE_OPT_IN: 'false' } });
    id = await createCampaign(t);
    // No members: frozen and sent at once, its three counters at zero.
    expect((await campaignAction(t, id, 'send')).status).toBe(202);
  });
  afterAll(async () => {
    jest.restoreAllMocks();
    await t?.close();
  });

  const clicksOf = async (n: number) =>
    Number(
      (
        await t.c.dataSource.query('SELECT clicks FROM click_counts WHERE campaign_id = ? AND n = ?', [id, n])
      )[0].clicks,
    );

  it('counts every one of a burst of clicks on one link, in a few statements rather than one per click', async () => {
    const statements = jest.spyOn(sql, 'execute');
    const answers = await Promise.all(Array.from({ length: 200 }, () => t.c.clicks.increment(id, 1)));
    const updates = statements.mock.calls.filter(([, q]) => q.startsWith('UPDATE click_counts')).length;
    statements.mockRestore();
    expect(answers.every((a) => a === true)).toBe(true);
    expect(await clicksOf(1)).toBe(200);
    expect(updates).toBeGreaterThanOrEqual(1);
    expect(updates).toBeLessThan(10);
    // The next click, alone, is counted by a statement of its own.
    await expect(t.c.clicks.increment(id, 2)).resolves.toBe(true);
    expect(await clicksOf(2)).toBe(1);
  });

  it('answers false for a link the campaign does not have, and writes nothing', async () => {
    await expect(t.c.clicks.increment(id, 9)).resolves.toBe(false);
    await expect(t.c.clicks.increment(id + 1000, 1)).resolves.toBe(false);
    expect(
      await t.c.dataSource.query('SELECT * FROM click_counts WHERE n = 9 OR campaign_id = ?', [id + 1000]),
    ).toEqual([]);
  });
});
