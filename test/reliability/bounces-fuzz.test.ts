import net from 'node:net';
import request from 'supertest';
import { dumpAllTables, startTestApp, type TestApp } from '../support/test-app';
import { createActiveMembers, createCampaign, campaignAction } from '../support/club';
import { prng } from '../support/prng';
import { deliveryTag } from '../../src/mail/verp';
import { arfComplaint, autoReply, postfixDsn } from '../bounces/fixtures/reports';
import { sesBounce, sesComplaint } from '../bounces/fixtures/ses';
import { mailgunComplained, mailgunFailed } from '../bounces/fixtures/mailgun';
import { sendgridBatch } from '../bounces/fixtures/sendgrid';
import { postmarkBounce, postmarkSpamComplaint } from '../bounces/fixtures/postmark';
import {
  bounceEnv,
  mailgunSignature,
  offlineSns,
  postmarkAuth,
  sendgridHeaders,
  snsMessage,
} from '../bounces/signing';
import { deliverReport, startListener } from '../bounces/helpers';
import { recordFinding } from './findings';

const PER_TARGET = Number(process.env.FUZZ_PER_ROUTE ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 1_000_000);

/**
 * The bounce listener and the four webhooks under bad input (issue 16): broken MIME, forged tags,
 * raw protocol garbage, and for each webhook mutated payloads with good signatures (about nobody
 * of ours) and good payloads with bad signatures. No crash, no 5xx, no state change.
 */
describe(`fuzz: bounce listener and webhooks (seed ${SEED})`, () => {
  let t: TestApp;
  let listener: { port: number; close(): Promise<void> };
  beforeAll(async () => {
    t = await startTestApp(process.env.TEST_MYSQL_URL ? 'mysql' : 'sqlite', {
      env: { DOUBLE_OPT_IN: 'false', ...bounceEnv() },
      overrides: { fetchText: offlineSns().fetchText },
    });
    listener = await startListener(t);
  });
  afterAll(async () => {
    await listener?.close();
    await t?.close();
  });

  it('no crash, no 5xx, no state change', async () => {
    const [member] = await createActiveMembers(t, 1, 'fuzz');
    const campaignId = await createCampaign(t);
    await campaignAction(t, campaignId, 'send');
    const [row]: Array<{ id: number }> = await t.c.dataSource.query(
      'SELECT id FROM deliveries WHERE campaign_id = ?',
      [campaignId],
    );
    await t.c.dataSource.query(`UPDATE deliveries SET status = 'sent' WHERE id = ?`, [row.id]);
    const realTag = t.c.verp!.returnPath(deliveryTag(row.id), member.email);
    // Tags of the right shape whose MAC does not verify, and reports about nobody of ours.
    const forgedTag = (rnd: () => number) =>
      realTag.replace(
        /-([a-z2-7]{16})@/,
        () =>
          `-${Array.from({ length: 16 }, () => 'abcdefghijklmnopqrstuvwxyz234567'[Math.floor(rnd() * 32)]).join('')}@`,
      );
    const nobody = { recipient: 'ingen@nowhere.test', messageId: '<kk.c999999.m999999@cosmenor.no>' };

    const rnd = prng(SEED);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    const mutate = (text: string): string => {
      switch (Math.floor(rnd() * 6)) {
        case 0:
          return text.slice(0, Math.floor(rnd() * text.length));
        case 1: {
          const at = Math.floor(rnd() * text.length);
          const junk = String.fromCharCode(
            ...Array.from({ length: 1 + Math.floor(rnd() * 40) }, () => Math.floor(rnd() * 0xd7ff)),
          );
          return text.slice(0, at) + junk + text.slice(at);
        }
        case 2:
          return text.replace(/boundary="?[^"\r\n;]+"?/i, 'boundary="nope"');
        case 3:
          return text.replace(/\r\n/g, pick(['\n', '\r', '\r\n\r\n']));
        case 4:
          return `X-Long: ${'a'.repeat(20_000 + Math.floor(rnd() * 50_000))}\r\n` + text;
        default:
          return text.replace(/Status: [^\r\n]+/, `Status: ${pick(['9.9.9', '', '5', 'x.y.z', '5.1.1.1'])}`);
      }
    };

    const before = await dumpAllTables(t.c);
    const mailsBefore = t.peer.mails.length;
    const statuses = new Map<string, number>();
    const count = (k: string) => statuses.set(k, (statuses.get(k) ?? 0) + 1);
    const fail: string[] = [];

    // The listener: mutated reports to forged tags, reports without a tag, garbage on the wire.
    for (let i = 0; i < PER_TARGET; i++) {
      const to = forgedTag(rnd);
      const base = pick([
        postfixDsn({ to, recipient: member.email, messageId: '<x@y>' }),
        arfComplaint({ to, returnPath: to, recipient: member.email }),
        autoReply(to),
      ]);
      try {
        const reply = await deliverReport(
          listener.port,
          rnd() < 0.9 ? to : realTag.replace('bounce.', 'x.'),
          mutate(base),
        );
        count(`smtp ${reply.slice(0, 3)}`);
        if (!reply.startsWith('250')) fail.push(`smtp: ${reply}`);
      } catch (err) {
        const code = /\b([45]\d\d)\b/.exec(String((err as Error).message))?.[1] ?? 'error';
        count(`smtp ${code}`);
        if (!['550', '552'].includes(code)) fail.push(`smtp threw: ${(err as Error).message.slice(0, 200)}`);
      }
    }
    for (let i = 0; i < Math.ceil(PER_TARGET / 10); i++) {
      await new Promise<void>((resolve) => {
        const socket = net.connect(listener.port, '127.0.0.1', () => {
          socket.write(
            Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 4000) }, () => Math.floor(rnd() * 256))),
          );
          socket.write(pick(['\r\n', 'MAIL FROM:<>\r\nRCPT TO:<' + realTag + '>\r\nDATA\r\n', 'QUIT\r\n']));
          setTimeout(() => socket.destroy(), 20);
        });
        socket.on('error', () => undefined);
        socket.on('close', () => resolve());
      });
      count('smtp garbage session');
    }

    // The webhooks: mutated payloads about nobody of ours, signed; and good payloads with bad signatures.
    const payloads = {
      ses: () =>
        pick([sesBounce(nobody), sesComplaint(nobody), sesBounce({ ...nobody, bounceType: 'Transient' })]),
      mailgun: () =>
        pick([
          mailgunFailed(nobody),
          mailgunComplained(nobody),
          mailgunFailed({ ...nobody, severity: 'temporary' }),
        ]),
      sendgrid: () => Object.values(sendgridBatch(nobody)),
      postmark: () => pick([postmarkBounce(nobody), postmarkSpamComplaint(nobody)]),
    };
    for (const provider of ['ses', 'mailgun', 'sendgrid', 'postmark'] as const) {
      for (let i = 0; i < PER_TARGET; i++) {
        const signed = rnd() < 0.6;
        const text = mutate(JSON.stringify(payloads[provider]()));
        const r = request(t.app).post(`/webhooks/${provider}`);
        let res: request.Response;
        if (provider === 'ses') {
          const msg = snsMessage('Notification', text);
          if (!signed) msg.Signature = msg.Signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
          res = await r.set('content-type', 'text/plain').send(JSON.stringify(msg));
        } else if (provider === 'mailgun') {
          const sig = mailgunSignature(signed ? {} : { key: 'key-someone-else-0123456789abcd' });
          res = await r
            .set('content-type', 'application/json')
            .send(`{"signature":${JSON.stringify(sig)},"event-data":${text}}`);
        } else if (provider === 'sendgrid') {
          const headers = sendgridHeaders(text);
          res = await r
            .set('content-type', 'application/json')
            .set(headers)
            .send(signed ? text : text + ' ');
        } else {
          res = await r
            .set('content-type', 'application/json')
            .set('authorization', postmarkAuth(signed ? undefined : 'gjett'))
            .send(text);
        }
        count(`${provider} ${res.status}`);
        if (
          res.status >= 500 ||
          (!signed && res.status !== 401) ||
          (signed && res.status !== 200 && res.status !== 401)
        )
          fail.push(`${provider} ${signed ? 'signed' : 'forged'} → ${res.status} for ${text.slice(0, 120)}`);
        if (res.status === 200 && res.body.applied !== 0)
          fail.push(`${provider}: applied ${res.body.applied}`);
      }
    }

    expect(fail.slice(0, 10)).toEqual([]);
    expect(await dumpAllTables(t.c)).toBe(before);
    expect(t.peer.mails.length).toBe(mailsBefore);
    // Still listening and answering.
    expect(await deliverReport(listener.port, forgedTag(rnd), autoReply(realTag))).toMatch(/^250/);
    recordFinding('bounces-fuzz', {
      seed: SEED,
      perTarget: PER_TARGET,
      requests: [...statuses.values()].reduce((a, b) => a + b, 0),
      outcomes: Object.fromEntries(statuses),
    });
  });
});
