import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import { get, login, post, staffUser } from './helpers';
import { execute } from '../../src/db/sql';

describe.each(databaseKinds())('admin Webhooks page on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('admin only: adds an endpoint (secret shown once), shows state, refuses bad input, deletes', async () => {
    const marketing = await login(t, await staffUser(t, 'marketing'));
    expect((await get(t, marketing, '/admin/webhooks')).status).toBe(403);
    expect((await get(t, marketing, '/admin')).text).not.toContain('/admin/webhooks');

    const s = await login(t, await staffUser(t, 'admin'));
    expect((await get(t, s, '/admin')).text).toContain('href="/admin/webhooks"');
    const bad = await post(t, s, '/admin/webhooks', { url: 'ftp://x.example.no', events: [] });
    expect(bad.status).toBe(422);
    expect(bad.text).toContain('Må være en fullstendig adresse');
    expect(bad.text).toContain('Velg minst én hendelse.');
    expect((await execute(t.c.dataSource, 'SELECT id FROM webhook_endpoints')).records).toEqual([]);

    const created = await post(t, s, '/admin/webhooks', {
      url: 'https://app.example.no/hook',
      events: ['member.erased', 'member.restricted'],
      sources: 'osme-mobile',
    });
    expect(created.status).toBe(201);
    const secret = /whsec_[A-Za-z0-9+/=]+/.exec(created.text)![0];
    const page = await get(t, s, '/admin/webhooks');
    expect(page.status).toBe(200);
    expect(page.text).toContain('https://app.example.no/hook');
    expect(page.text).toContain('Slettet');
    expect(page.text).not.toContain(secret);

    await execute(
      t.c.dataSource,
      "UPDATE webhook_endpoints SET disabled_at = '2026-11-30 10:00:00.000', disabled_reason = 'gone'",
    );
    expect((await get(t, s, '/admin/webhooks')).text).toContain('Slått av: mottakeren svarte 410 Gone');

    const id = Number((await execute(t.c.dataSource, 'SELECT id FROM webhook_endpoints')).records[0].id);
    const del = await post(t, s, `/admin/webhooks/${id}/delete`);
    expect(del.status).toBe(303);
    expect((await execute(t.c.dataSource, 'SELECT id FROM webhook_endpoints')).records).toEqual([]);
  });
});
