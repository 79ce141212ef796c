import path from 'node:path';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { FileMailer } from './file-mailer';
import type { Mailer } from './mailer';
import { SmtpMailer } from './smtp-mailer';
import { VerpTags } from './verp';

/** Picks the adapter by `SMTP_URL`: `file:DIR` (relative to the working directory) or `smtp(s)://`. */
export function createMailer(config: Config, opts: { poolSize?: number; logger?: Logger } = {}): Mailer {
  const verp = verpTagsOf(config);
  if (config.smtpUrl.startsWith('file:')) {
    const dir = path.resolve(config.smtpUrl.slice('file:'.length).replace(/^\/\/(?=\/)/, ''));
    return new FileMailer({ dir, from: config.mailFrom, dkim: config.dkim, verp, logger: opts.logger });
  }
  return new SmtpMailer({
    url: config.smtpUrl,
    from: config.mailFrom,
    poolSize: opts.poolSize ?? config.smtpPoolSize,
    dkim: config.dkim,
    verp,
    logger: opts.logger,
  });
}

/** The VERP tags of this configuration, or undefined without BOUNCE_DOMAIN. */
export function verpTagsOf(config: Config): VerpTags | undefined {
  const { domain, tagKey } = config.bounces;
  return domain ? new VerpTags(domain, tagKey) : undefined;
}
