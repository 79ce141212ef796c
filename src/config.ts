import { z } from 'zod';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import crypto from 'node:crypto';

/**
 * Configuration: parsed once from the environment with zod, then frozen.
 * Nothing else in src/ reads process.env (CONTRACT §1).
 */

const boolFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const positiveInt = (def: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .positive({ message: 'must be positive' })
    .default(def);

/** A share from 0 to 1, e.g. 0.05 for 5 %. */
const rate = (def: number) =>
  z.coerce
    .number({ message: 'must be a number' })
    .gt(0, { message: 'must be a share between 0 and 1, e.g. 0.05' })
    .max(1, { message: 'must be a share between 0 and 1, e.g. 0.05' })
    .default(def);

const envSchema = z.object({
  NODE_ENV: z.string().default('development'),
  /** HTTP port. */
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /** Base of every link put in an e-mail. */
  PUBLIC_URL: z.string().url({ message: 'must be an absolute http(s) URL' }).optional(),
  /** `sqlite:PATH` or `mysql://user:pass@host:port/db`. */
  DATABASE_URL: z
    .string()
    .regex(/^(sqlite:.+|mysql:\/\/.+)$/, { message: 'must be sqlite:PATH or mysql://user:pass@host:port/db' })
    .default('sqlite:./data/kundeklubb.sqlite'),
  /** `smtp://`, `smtps://` or `file:DIR`. */
  SMTP_URL: z
    .string()
    .regex(/^(smtps?:\/\/.+|file:.+)$/, {
      message: 'must be smtp://host:port, smtps://host:port or file:DIR',
    })
    .default('file:./data/outbox'),
  /** Parallel SMTP connections of the worker's nodemailer pool. */
  SMTP_POOL_SIZE: positiveInt(5),
  MAIL_FROM: z.string().min(3).default('Sothys Kundeklubb <nyhetsbrev@cosmenor.no>'),
  PRIVACY_CONTACT: z.string().email({ message: 'must be an e-mail address' }).default('post@cosmenor.no'),
  /** Comma list `kid:secret`; first signs, all verify. */
  TOKEN_KEYS: z.string().optional(),
  DOUBLE_OPT_IN: boolFromEnv.default(true),
  /** Max messages per second across all workers. */
  SEND_RATE: positiveInt(50),
  ROLE: z.enum(['api', 'worker', 'all'], { message: 'must be api, worker or all' }).default('all'),
  /** Key for the suppression HMAC of erased addresses; must never change once used. */
  SUPPRESSION_KEY: z.string().min(32, { message: 'must be at least 32 characters' }).optional(),
  DKIM_DOMAIN: z.string().optional(),
  DKIM_SELECTOR: z.string().optional(),
  DKIM_PRIVATE_KEY: z.string().optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /** Where dev keys and the default SQLite file live. */
  DATA_DIR: z.string().default('./data'),
  /** Delivery tuning: claim lease, first retry delay after a 4xx (doubles per attempt), attempts before failed. */
  DELIVERY_LEASE_SECONDS: positiveInt(60),
  DELIVERY_RETRY_BASE_SECONDS: z.coerce.number().positive().default(60),
  DELIVERY_MAX_ATTEMPTS: positiveInt(8),
  /** Retention limits (days). */
  RETENTION_PENDING_DAYS: positiveInt(14),
  RETENTION_REQUEST_NOTE_DAYS: positiveInt(365),
  RETENTION_DELIVERY_ERROR_DAYS: positiveInt(90),
  /** Bounces and complaints (CONTRACT §9): the VERP domain and its SMTP listener. */
  BOUNCE_DOMAIN: z
    .string()
    .regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i, {
      message: 'must be a domain name like bounce.cosmenor.no',
    })
    .optional(),
  BOUNCE_SMTP_PORT: z.coerce.number().int().min(0).max(65535).default(2525),
  BOUNCE_PAUSE_RATE: rate(0.05),
  COMPLAINT_PAUSE_RATE: rate(0.003),
  MAILGUN_WEBHOOK_KEY: z.string().min(8, { message: 'must be the signing key from Mailgun' }).optional(),
  SENDGRID_WEBHOOK_PUBLIC_KEY: z
    .string()
    .min(40, { message: 'must be the verification key (base64) from SendGrid' })
    .optional(),
  POSTMARK_WEBHOOK_SECRET: z.string().min(16, { message: 'must be at least 16 characters' }).optional(),
  /** CSV import (CONTRACT §11): the largest file taken (bytes; 413 above it) and the rows per transaction. */
  IMPORT_MAX_BYTES: positiveInt(100 * 1024 * 1024),
  IMPORT_BATCH_SIZE: z.coerce
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(1, { message: 'must be from 1 to 5000' })
    .max(5000, { message: 'must be from 1 to 5000' })
    .default(500),
  /** Comma list of SNS topic ARNs whose SES notifications are taken. */
  SES_TOPIC_ARNS: z
    .string()
    .regex(
      /^\s*arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256}(\s*,\s*arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[\w-]{1,256})*\s*$/,
      {
        message: 'must be a comma list of SNS topic ARNs (arn:aws:sns:REGION:ACCOUNT:TOPIC)',
      },
    )
    .optional(),
});

export interface TokenKey {
  kid: string;
  secret: string;
}

export interface Config {
  readonly env: string;
  readonly production: boolean;
  readonly port: number;
  readonly publicUrl: string;
  readonly databaseUrl: string;
  readonly smtpUrl: string;
  readonly smtpPoolSize: number;
  readonly mailFrom: string;
  readonly privacyContact: string;
  readonly tokenKeys: readonly TokenKey[];
  /** Server key for suppression HMACs of addresses (derived from the signing key). */
  readonly suppressionKey: string;
  readonly doubleOptIn: boolean;
  readonly sendRate: number;
  readonly role: 'api' | 'worker' | 'all';
  readonly dkim?: { domainName: string; keySelector: string; privateKey: string };
  readonly logLevel: string;
  readonly dataDir: string;
  readonly delivery: { leaseMs: number; retryBaseMs: number; maxAttempts: number };
  readonly retention: { pendingDays: number; requestNoteDays: number; deliveryErrorDays: number };
  readonly bounces: BounceConfig;
  /** CSV import (CONTRACT §11). */
  readonly imports: ImportConfig;
}

export interface ImportConfig {
  /** The largest file taken; a larger one is refused with 413. */
  readonly maxBytes: number;
  /** Rows per transaction: a crash leaves whole batches only. */
  readonly batchSize: number;
  /** Where the upload is kept while it is read, deleted when the import ends (never the database). */
  readonly spoolDir: string;
}

/** CONTRACT §9: the VERP envelope, the listener, the guardrail, the provider webhooks. */
export interface BounceConfig {
  /** When set, every mail's envelope sender is `b-{tag}@{domain}` and the SMTP listener runs. */
  readonly domain?: string;
  readonly smtpPort: number;
  /** Key of the tags' MACs (derived from the oldest token key, like the suppression key). */
  readonly tagKey: string;
  readonly pauseRate: number;
  readonly complaintPauseRate: number;
  readonly mailgunKey?: string;
  readonly sendgridPublicKey?: string;
  readonly postmarkSecret?: string;
  readonly sesTopicArns: readonly string[];
}

export class ConfigError extends Error {}

function parseTokenKeys(raw: string): TokenKey[] {
  const keys = raw
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .map((pair) => {
      const i = pair.indexOf(':');
      if (i < 1) throw new ConfigError('TOKEN_KEYS: each entry must be kid:secret');
      const kid = pair.slice(0, i);
      const secret = pair.slice(i + 1);
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(kid))
        throw new ConfigError(`TOKEN_KEYS: kid "${kid}" must be 1-32 of A-Z a-z 0-9 _ -`);
      if (secret.length < 32)
        throw new ConfigError(`TOKEN_KEYS: secret of kid "${kid}" must be at least 32 characters`);
      return { kid, secret };
    });
  if (keys.length === 0) throw new ConfigError('TOKEN_KEYS: at least one kid:secret is required');
  if (new Set(keys.map((k) => k.kid)).size !== keys.length)
    throw new ConfigError('TOKEN_KEYS: kids must be unique');
  return keys;
}

/** Development keys: generated once and kept in DATA_DIR so links in sent mail keep working. */
function devTokenKeys(dataDir: string): TokenKey[] {
  const file = path.join(dataDir, 'token-keys');
  if (!fs.existsSync(file)) {
    fs.mkdirSync(dataDir, { recursive: true });
    const line = `dev${Date.now().toString(36)}:${crypto.randomBytes(32).toString('base64url')}`;
    fs.writeFileSync(file, line + '\n', { mode: 0o600, flag: 'wx' });
  }
  return parseTokenKeys(fs.readFileSync(file, 'utf8').trim());
}

function readPem(value: string): string {
  if (value.includes('-----BEGIN')) return value.replace(/\\n/g, '\n');
  try {
    return fs.readFileSync(value, 'utf8');
  } catch {
    throw new ConfigError('DKIM_PRIVATE_KEY: neither PEM text nor a readable file');
  }
}

/** Parse the environment. Throws ConfigError with one line naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(`${String(issue.path[0])}: ${issue.message}`);
  }
  const e = parsed.data;
  const production = e.NODE_ENV === 'production';
  if (production && !e.TOKEN_KEYS) throw new ConfigError('TOKEN_KEYS: required when NODE_ENV=production');
  const tokenKeys = e.TOKEN_KEYS ? parseTokenKeys(e.TOKEN_KEYS) : devTokenKeys(e.DATA_DIR);
  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(publicUrl)) throw new ConfigError('PUBLIC_URL: must be an http(s) URL');
  const dkimParts = [e.DKIM_DOMAIN, e.DKIM_SELECTOR, e.DKIM_PRIVATE_KEY];
  if (dkimParts.some(Boolean) && !dkimParts.every(Boolean)) {
    const missing = ['DKIM_DOMAIN', 'DKIM_SELECTOR', 'DKIM_PRIVATE_KEY'][dkimParts.findIndex((p) => !p)];
    throw new ConfigError(`${missing}: required when any DKIM_* variable is set`);
  }
  const oldestKey = tokenKeys[tokenKeys.length - 1].secret;
  const config: Config = {
    env: e.NODE_ENV,
    production,
    port: e.PORT,
    publicUrl,
    databaseUrl: e.DATABASE_URL,
    smtpUrl: e.SMTP_URL,
    smtpPoolSize: e.SMTP_POOL_SIZE,
    mailFrom: e.MAIL_FROM,
    privacyContact: e.PRIVACY_CONTACT,
    tokenKeys,
    // Without SUPPRESSION_KEY the key is derived from the oldest (last) token key, which rotation keeps.
    suppressionKey:
      e.SUPPRESSION_KEY ?? crypto.createHmac('sha256', oldestKey).update('suppression').digest('hex'),
    doubleOptIn: e.DOUBLE_OPT_IN,
    sendRate: e.SEND_RATE,
    role: e.ROLE,
    dkim: e.DKIM_DOMAIN
      ? { domainName: e.DKIM_DOMAIN, keySelector: e.DKIM_SELECTOR!, privateKey: readPem(e.DKIM_PRIVATE_KEY!) }
      : undefined,
    logLevel: e.LOG_LEVEL,
    dataDir: e.DATA_DIR,
    delivery: {
      leaseMs: e.DELIVERY_LEASE_SECONDS * 1000,
      retryBaseMs: e.DELIVERY_RETRY_BASE_SECONDS * 1000,
      maxAttempts: e.DELIVERY_MAX_ATTEMPTS,
    },
    retention: {
      pendingDays: e.RETENTION_PENDING_DAYS,
      requestNoteDays: e.RETENTION_REQUEST_NOTE_DAYS,
      deliveryErrorDays: e.RETENTION_DELIVERY_ERROR_DAYS,
    },
    imports: Object.freeze({
      maxBytes: e.IMPORT_MAX_BYTES,
      batchSize: e.IMPORT_BATCH_SIZE,
      spoolDir: path.join(os.tmpdir(), 'kundeklubb-imports'),
    }),
    bounces: Object.freeze({
      domain: e.BOUNCE_DOMAIN?.toLowerCase(),
      smtpPort: e.BOUNCE_SMTP_PORT,
      // Tags in mail already sent must keep verifying: the oldest key survives rotation.
      tagKey: crypto.createHmac('sha256', oldestKey).update('bounce-tags').digest('hex'),
      pauseRate: e.BOUNCE_PAUSE_RATE,
      complaintPauseRate: e.COMPLAINT_PAUSE_RATE,
      mailgunKey: e.MAILGUN_WEBHOOK_KEY,
      sendgridPublicKey: e.SENDGRID_WEBHOOK_PUBLIC_KEY,
      postmarkSecret: e.POSTMARK_WEBHOOK_SECRET,
      sesTopicArns: Object.freeze(
        (e.SES_TOPIC_ARNS ?? '')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      ),
    }),
  };
  return Object.freeze(config);
}
