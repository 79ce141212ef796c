import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { startTestApp, type TestApp } from '../support/test-app';
import { buildCampaign } from '../support/factories';

const TRIGGER = 'Ødelagt mal';

// MJML rejects only template mistakes, which escaped user text cannot make: simulate one on a
// block with a marker title, and let every other compile through to the real MJML.
jest.mock('mjml', () => {
  const actual = jest.requireActual('mjml');
  return async (source: string, options: unknown) => {
    const line = source.split('\n').findIndex((l) => l.includes('Ødelagt mal')) + 1;
    if (line > 0) {
      throw Object.assign(new Error('ValidationError'), {
        errors: [{ line, message: 'Attribute foo is illegal', tagName: 'mj-text' }],
      });
    }
    return actual(source, options);
  };
});

describe.each(databaseKinds())('campaign MJML errors on %s', (kind) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(kind);
  });
  afterAll(async () => {
    await t?.close();
  });

  const auth = () => `Bearer ${t.tokens.campaigns}`;
  const count = async () => Number((await t.c.dataSource.query('SELECT COUNT(*) AS n FROM campaigns'))[0].n);
  const broken = [
    { type: 'news', title: 'Helt fin' },
    { type: 'news', title: TRIGGER },
  ];

  it('answers 422 with the block path and saves nothing on create', async () => {
    const before = await count();
    const r = await request(t.app)
      .post('/v1/campaigns')
      .set('authorization', auth())
      .send(buildCampaign({ blocks: broken }));
    expect(r.status).toBe(422);
    expect(r.headers['content-type']).toMatch(/application\/problem\+json/);
    expect(r.body.errors).toEqual([
      { path: 'blocks.1', message: expect.stringContaining('Attribute foo is illegal') },
    ]);
    expect(await count()).toBe(before);
  });

  it('answers 422 on PATCH and leaves the draft as it was', async () => {
    const created = await request(t.app)
      .post('/v1/campaigns')
      .set('authorization', auth())
      .send(buildCampaign());
    expect(created.status).toBe(201);
    const r = await request(t.app)
      .patch(`/v1/campaigns/${created.body.id}`)
      .set('authorization', auth())
      .send({ subject: 'Nytt emne', blocks: broken });
    expect(r.status).toBe(422);
    expect(r.body.errors[0].path).toBe('blocks.1');
    const now = await request(t.app).get(`/v1/campaigns/${created.body.id}`).set('authorization', auth());
    expect(now.body).toEqual(created.body);
  });
});
