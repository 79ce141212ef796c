import { MailgunWebhook, mailgunReports } from '../../src/bounces/webhooks/mailgun';
import { PostmarkWebhook, postmarkReports } from '../../src/bounces/webhooks/postmark';
import { SendgridWebhook, sendgridReport } from '../../src/bounces/webhooks/sendgrid';
import { SesWebhook, sesReports } from '../../src/bounces/webhooks/ses';
import type { WebhookRequest } from '../../src/bounces/webhooks/provider';
import { createLogger } from '../../src/logger';
import { mailgunComplained, mailgunFailed } from './fixtures/mailgun';
import { postmarkBounce, postmarkSpamComplaint } from './fixtures/postmark';
import { sendgridBatch } from './fixtures/sendgrid';
import { sesBounce, sesComplaint } from './fixtures/ses';
import {
  MAILGUN_KEY,
  POSTMARK_SECRET,
  SENDGRID_PUBLIC_KEY,
  SNS_TOPIC,
  mailgunSignature,
  offlineSns,
  postmarkAuth,
  sendgridHeaders,
  snsMessage,
} from './signing';

const recipient = 'kari@example.no';
const messageId = '<kk.c3.m7@cosmenor.no>';
const request = (body: unknown, headers: Record<string, string> = {}): WebhookRequest => ({
  body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
  header: (name) => Object.entries(headers).find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1],
});
const logger = createLogger('silent');
const sesWebhook = () => {
  const sns = offlineSns();
  return {
    sns,
    ses: new SesWebhook({
      topicArns: [SNS_TOPIC],
      fetchText: sns.fetchText,
      logger,
      clock: () => new Date(),
    }),
  };
};

describe('provider payloads map to the three outcomes', () => {
  it('SES: Permanent → hard, Transient → soft, Complaint → complaint, with our Message-ID', () => {
    expect(sesReports(sesBounce({ recipient, messageId }))).toEqual([
      {
        source: 'ses',
        kind: 'hard',
        statusCode: '5.1.1',
        diagnostic: `smtp; 550 5.1.1 <${recipient}>... User`,
        messageId,
        recipient,
      },
    ]);
    expect(
      sesReports(sesBounce({ recipient, messageId, bounceType: 'Transient', status: '4.4.7' }))[0].kind,
    ).toBe('soft');
    expect(sesReports(sesBounce({ recipient, messageId, bounceType: 'Undetermined' }))).toEqual([]);
    expect(sesReports(sesComplaint({ recipient, messageId }))).toMatchObject([
      { kind: 'complaint', messageId },
    ]);
    expect(sesReports({ notificationType: 'Delivery', mail: {} })).toEqual([]);
  });

  it('Mailgun: failed permanent → hard, temporary → soft, complained → complaint', () => {
    expect(mailgunReports(mailgunFailed({ recipient, messageId }))).toMatchObject([
      { source: 'mailgun', kind: 'hard', messageId: 'kk.c3.m7@cosmenor.no', recipient, statusCode: '605' },
    ]);
    expect(mailgunReports(mailgunFailed({ recipient, messageId, severity: 'temporary' }))).toMatchObject([
      { kind: 'soft', statusCode: '4.2.2' },
    ]);
    expect(mailgunReports(mailgunComplained({ recipient, messageId }))).toMatchObject([
      { kind: 'complaint' },
    ]);
    expect(mailgunReports({ event: 'delivered' })).toEqual([]);
  });

  it('SendGrid: bounce → hard, blocked and deferred → soft, spamreport → complaint; the rest is ignored', () => {
    const b = sendgridBatch({ recipient, messageId });
    expect(
      Object.values(b)
        .flatMap(sendgridReport)
        .map((r) => [r.kind, r.statusCode, r.messageId]),
    ).toEqual([
      ['soft', null, messageId],
      ['hard', '5.0.0', messageId],
      ['soft', '4.7.0', messageId],
      ['complaint', null, messageId],
    ]);
  });

  it('Postmark: HardBounce → hard, SoftBounce → soft, SpamComplaint → complaint, found by address', () => {
    expect(postmarkReports(postmarkBounce({ recipient }))).toEqual([
      {
        source: 'postmark',
        kind: 'hard',
        statusCode: '5.1.1',
        diagnostic: 'smtp;550 5.1.1 The email account that you tried to reach does not exist.',
        messageId: null,
        recipient,
      },
    ]);
    expect(postmarkReports(postmarkBounce({ recipient, type: 'SoftBounce', typeCode: 4096 }))[0].kind).toBe(
      'soft',
    );
    expect(postmarkReports(postmarkBounce({ recipient, type: 'AutoResponder', typeCode: 64 }))).toEqual([]);
    expect(postmarkReports(postmarkSpamComplaint({ recipient }))).toMatchObject([{ kind: 'complaint' }]);
  });
});

describe('provider signatures', () => {
  it('SES: a message signed with the SNS certificate is read; a changed one, another topic or a foreign certificate URL is refused', async () => {
    const { sns, ses } = sesWebhook();
    const good = snsMessage('Notification', sesBounce({ recipient, messageId }));
    expect(await ses.read(request(good))).toMatchObject({ kind: 'accepted', reports: [{ kind: 'hard' }] });
    expect(
      (await ses.read(request({ ...good, Message: good.Message.replace('Permanent', 'Transient') }))).kind,
    ).toBe('unauthorized');
    const otherTopic = snsMessage('Notification', sesBounce({ recipient, messageId }), {
      TopicArn: 'arn:aws:sns:eu-north-1:123456789012:someone-else',
    });
    expect(await ses.read(request(otherTopic))).toMatchObject({
      kind: 'unauthorized',
      reason: 'topic not in SES_TOPIC_ARNS',
    });
    const foreign = snsMessage('Notification', sesBounce({ recipient, messageId }), {
      SigningCertURL: 'https://sns.eu-north-1.amazonaws.com.evil.example/cert.pem',
    });
    expect((await ses.read(request(foreign))).kind).toBe('unauthorized');
    expect(sns.fetched.filter((u) => u.includes('evil'))).toEqual([]);
    const v1 = snsMessage('Notification', 'x', { SignatureVersion: '1' });
    expect((await ses.read(request(v1))).kind).toBe('unauthorized'); // signed with SHA256, claims SHA1
    expect((await ses.read(request('not json'))).kind).toBe('unauthorized');
  });

  it('SES: a SubscriptionConfirmation is confirmed by fetching its SubscribeURL on SNS', async () => {
    const { sns, ses } = sesWebhook();
    expect(await ses.read(request(snsMessage('SubscriptionConfirmation', 'confirm')))).toEqual({
      kind: 'accepted',
      reports: [],
    });
    expect(sns.fetched.some((u) => u.includes('Action=ConfirmSubscription'))).toBe(true);
  });

  it('Mailgun: HMAC of timestamp and token; older than 5 minutes, a replayed token or another key is refused', async () => {
    const mailgun = new MailgunWebhook(MAILGUN_KEY, () => new Date());
    const body = { signature: mailgunSignature(), 'event-data': mailgunFailed({ recipient, messageId }) };
    const first = await mailgun.read(request(body));
    expect(first).toMatchObject({ kind: 'accepted', reports: [{ kind: 'hard' }] });
    if (first.kind === 'accepted') first.done?.();
    expect(await mailgun.read(request(body))).toMatchObject({
      kind: 'unauthorized',
      reason: 'replayed token',
    });
    const old = { ...body, signature: mailgunSignature({ timestamp: Math.floor(Date.now() / 1000) - 301 }) };
    expect(await mailgun.read(request(old))).toMatchObject({ kind: 'unauthorized', reason: 'too old' });
    const forged = { ...body, signature: mailgunSignature({ key: 'key-not-ours-0123456789abcdef' }) };
    expect(await mailgun.read(request(forged))).toMatchObject({
      kind: 'unauthorized',
      reason: 'bad signature',
    });
  });

  it('SendGrid: the ECDSA signature over timestamp and raw body, checked with the verification key', async () => {
    const sendgrid = new SendgridWebhook(SENDGRID_PUBLIC_KEY);
    const raw = JSON.stringify(Object.values(sendgridBatch({ recipient, messageId })));
    const headers = sendgridHeaders(raw);
    expect(await sendgrid.read(request(raw, headers))).toMatchObject({ kind: 'accepted' });
    expect((await sendgrid.read(request(raw.replace('5.0.0', '4.0.0'), headers))).kind).toBe('unauthorized');
    expect((await sendgrid.read(request(raw, {}))).kind).toBe('unauthorized');
    const garbage = { ...headers, 'X-Twilio-Email-Event-Webhook-Signature': 'bm90IGEgc2lnbmF0dXJl' };
    expect((await sendgrid.read(request(raw, garbage))).kind).toBe('unauthorized');
  });

  it('Postmark: basic auth with the secret as password', async () => {
    const postmark = new PostmarkWebhook(POSTMARK_SECRET);
    const body = postmarkBounce({ recipient });
    expect((await postmark.read(request(body, { Authorization: postmarkAuth() }))).kind).toBe('accepted');
    expect((await postmark.read(request(body, { Authorization: postmarkAuth('wrong') }))).kind).toBe(
      'unauthorized',
    );
    expect((await postmark.read(request(body))).kind).toBe('unauthorized');
  });
});
