import request from 'supertest';
import { databaseKinds } from '../support/databases';
import { buildSignUp, startTestApp, type TestApp } from '../support/test-app';
import {} from '../support/club';
import { buildCampaign } from '../support/factories';

describe.each(databaseKinds())('input and scope hardening on %s', (kind) => {
  let t: TestApp;
  let writeOnly: string;
  beforeAll(async () => {
    t = await startTestApp(kind);
    writeOnly = await t.c.clients.create('write-only-app', ['members:write']);
  });
  afterAll(async () => {
    await t?.close();
  });

  const post = (path: string, token: string, body: object) =>
    request(t.app).post(path).set('authorization', `Bearer ${token}`).send(body);

  // Issue #12, finding 5.
  describe('a repeated sign-up with a write-only token', () => {
    it('answers only id and status, never the existing profile', async () => {
      const person = buildSignUp({ externalId: 'app-user-77', partnerId: 'salong-9' });
      const first = await post('/v1/members', writeOnly, person);
      expect(first.status).toBe(201);
      const again = await post('/v1/members', writeOnly, { ...person, firstName: 'Noen', phone: undefined });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ id: first.body.id, status: 'pending' });
      expect(JSON.stringify(again.body)).not.toMatch(/Kari|Nordmann|4791234567|app-user-77|salong-9/);
    });

    it('still answers the whole member to a token that may read members', async () => {
      const person = buildSignUp();
      const first = await post('/v1/members', t.tokens.app, person);
      const again = await post('/v1/members', t.tokens.app, person);
      expect(again.status).toBe(200);
      expect(again.body).toMatchObject({ id: first.body.id, firstName: 'Kari', email: person.email });
    });
  });

  // Issue #12, finding 7.
  describe('control and bidi characters in single-line fields', () => {
    const BAD = {
      'CR/LF': 'Kari\r\nBcc: x',
      NUL: 'Kari\u0000',
      ESC: 'Kari\u001b[31m',
      'U+202E': 'Kari\u202Eon',
      'U+2066': '\u2066Kari',
    };

    it.each(Object.entries(BAD))(
      'refuses %s in every sign-up text field with 422 naming it',
      async (_n, bad) => {
        for (const field of ['firstName', 'lastName', 'externalId', 'partnerId', 'sourceVersion']) {
          const r = await post('/v1/members', t.tokens.app, buildSignUp({ [field]: bad }));
          expect([r.status, r.body.errors?.[0]?.path]).toEqual([422, field]);
        }
        const consent = await post(
          '/v1/members',
          t.tokens.app,
          buildSignUp({ consent: { textVersion: `kundeklubb-2024-05${bad}` } }),
        );
        expect([consent.status, consent.body.errors?.[0]?.path]).toEqual([422, 'consent.textVersion']);
      },
    );

    it.each(Object.entries(BAD))('refuses %s in rectification', async (_n, bad) => {
      const m = await post('/v1/members', t.tokens.app, buildSignUp());
      const r = await request(t.app)
        .patch(`/v1/members/${m.body.id}`)
        .set('authorization', `Bearer ${t.tokens.app}`)
        .send({ lastName: bad });
      expect([r.status, r.body.errors?.[0]?.path]).toEqual([422, 'lastName']);
    });

    it.each(Object.entries(BAD))('refuses %s in campaign names, texts and audience', async (_n, bad) => {
      const cases: Array<[string, Record<string, unknown>]> = [
        ['name', buildCampaign({ name: `Desember${bad}` })],
        ['subject', buildCampaign({ subject: `Jul${bad}` })],
        ['preheader', buildCampaign({ preheader: `Tre${bad}` })],
        ['audience.partnerIds.0', buildCampaign({ audience: { partnerIds: [`salong${bad}`] } })],
      ];
      const blocks = buildCampaign().blocks;
      cases.push([
        'blocks.0.title',
        buildCampaign({ blocks: [{ ...blocks[0], title: `Kveld${bad}` }, ...blocks.slice(1)] }),
      ]);
      cases.push([
        'blocks.0.link.label',
        buildCampaign({
          blocks: [
            { ...blocks[0], link: { url: 'https://sothys.no', label: `Meld${bad}` } },
            ...blocks.slice(1),
          ],
        }),
      ]);
      for (const [path, body] of cases) {
        const r = await post('/v1/campaigns', t.tokens.campaigns, body);
        expect([path, r.status, r.body.errors?.[0]?.path]).toEqual([path, 422, path]);
      }
    });

    it('refuses them in the privacy request log, but keeps line breaks in a note', async () => {
      const base = {
        type: 'access',
        email: 'kari@example.no',
        receivedAt: '2026-11-30T10:00:00Z',
        channel: 'email',
      };
      const bidi = await post('/v1/privacy-requests', t.tokens.privacy, {
        ...base,
        note: 'Ring \u202Etilbake',
      });
      expect([bidi.status, bidi.body.errors?.[0]?.path]).toEqual([422, 'note']);
      const ok = await post('/v1/privacy-requests', t.tokens.privacy, { ...base, note: 'Linje 1\nLinje 2' });
      expect(ok.status).toBe(201);
      const outcome = await request(t.app)
        .patch(`/v1/privacy-requests/${ok.body.id}`)
        .set('authorization', `Bearer ${t.tokens.privacy}`)
        .send({ outcome: 'Sendt\r\nkopi' });
      expect([outcome.status, outcome.body.errors?.[0]?.path]).toEqual([422, 'outcome']);
    });

    it('still takes names with letters of any language and ordinary punctuation', async () => {
      const r = await post(
        '/v1/members',
        t.tokens.app,
        buildSignUp({ firstName: 'Åse-Marie', lastName: "O'Brien Øvrebø", externalId: 'ﺮﻗﻢ-12' }),
      );
      expect(r.status).toBe(201);
    });
  });
});
