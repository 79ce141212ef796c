import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Signs webhook requests the way each provider does, with keys of the tests' own: an RSA key and a
 * self-signed certificate for sns.amazonaws.com (fixtures/sns-test-*.pem, made with openssl for these
 * tests only), a Mailgun signing key, a SendGrid EC key pair, a Postmark password.
 */

export const SNS_TOPIC = 'arn:aws:sns:eu-north-1:123456789012:kundeklubb-ses';
export const SNS_CERT_URL = 'https://sns.eu-north-1.amazonaws.com/SimpleNotificationService-test.pem';
const SNS_KEY = fs.readFileSync(path.join(__dirname, 'fixtures', 'sns-test-key.pem'), 'utf8');
export const SNS_CERT = fs.readFileSync(path.join(__dirname, 'fixtures', 'sns-test-cert.pem'), 'utf8');

export const MAILGUN_KEY = 'key-mailgun-test-0123456789abcdef';
export const POSTMARK_SECRET = 'postmark-test-secret-0123456789';
const sendgrid = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
/** What SendGrid shows as the verification key: base64 DER (SubjectPublicKeyInfo). */
export const SENDGRID_PUBLIC_KEY = sendgrid.publicKey
  .export({ type: 'spki', format: 'der' })
  .toString('base64');

export const bounceEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
  BOUNCE_DOMAIN: 'bounce.cosmenor.test',
  MAILGUN_WEBHOOK_KEY: MAILGUN_KEY,
  SENDGRID_WEBHOOK_PUBLIC_KEY: SENDGRID_PUBLIC_KEY,
  POSTMARK_WEBHOOK_SECRET: POSTMARK_SECRET,
  SES_TOPIC_ARNS: SNS_TOPIC,
  ...extra,
});

/** The SES webhook's fetch, offline: the test certificate, and a record of confirmed subscriptions. */
export function offlineSns() {
  const fetched: string[] = [];
  return {
    fetched,
    fetchText: async (url: string) => {
      fetched.push(url);
      if (url === SNS_CERT_URL) return SNS_CERT;
      if (url.startsWith('https://sns.eu-north-1.amazonaws.com/?Action=ConfirmSubscription')) return '<ok/>';
      throw new Error(`offline: ${url}`);
    },
  };
}

let snsCounter = 0;
/** An SNS message of `type`, signed (SignatureVersion 2) with the test key. */
export function snsMessage(
  type: 'Notification' | 'SubscriptionConfirmation',
  message: unknown,
  overrides: Record<string, string> = {},
): Record<string, string> {
  const msg: Record<string, string> = {
    Type: type,
    MessageId: `22b80b92-fdea-4c2c-8f9d-${String(++snsCounter).padStart(12, '0')}`,
    TopicArn: SNS_TOPIC,
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: new Date().toISOString(),
    SignatureVersion: '2',
    SigningCertURL: SNS_CERT_URL,
    ...(type === 'SubscriptionConfirmation'
      ? {
          Token: '2336412f37fb687f5d51e6e2425dacbba8a0b7c6f4c83c4b6a6c5e7f',
          SubscribeURL: `https://sns.eu-north-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${SNS_TOPIC}&Token=2336412f`,
        }
      : {}),
    ...overrides,
  };
  const fields =
    type === 'Notification'
      ? ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type']
      : ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
  const text = fields
    .filter((f) => msg[f] !== undefined)
    .map((f) => `${f}\n${msg[f]}\n`)
    .join('');
  msg.Signature = crypto.sign('sha256', Buffer.from(text), SNS_KEY).toString('base64');
  return msg;
}

/** Mailgun's `signature` object for a body. */
export function mailgunSignature(opts: { timestamp?: number; token?: string; key?: string } = {}): {
  timestamp: string;
  token: string;
  signature: string;
} {
  const timestamp = String(opts.timestamp ?? Math.floor(Date.now() / 1000));
  const token = opts.token ?? crypto.randomBytes(25).toString('hex');
  const signature = crypto
    .createHmac('sha256', opts.key ?? MAILGUN_KEY)
    .update(timestamp + token)
    .digest('hex');
  return { timestamp, token, signature };
}

/** SendGrid's two headers for a raw body. */
export function sendgridHeaders(body: string, timestamp = String(Math.floor(Date.now() / 1000))) {
  const signature = crypto
    .sign('sha256', Buffer.from(timestamp + body), sendgrid.privateKey)
    .toString('base64');
  return {
    'X-Twilio-Email-Event-Webhook-Signature': signature,
    'X-Twilio-Email-Event-Webhook-Timestamp': timestamp,
  };
}

export const postmarkAuth = (password = POSTMARK_SECRET, user = 'postmark') =>
  `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
