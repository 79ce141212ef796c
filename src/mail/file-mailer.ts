import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import nodemailer, { type Transporter } from 'nodemailer';
import type { Logger } from '../logger';
import { MailError, toMailError, type Mailer, type OutgoingMail, type SendResult } from './mailer';
import { dkimOptions, toMessageOptions, type DkimKey } from './smtp-mailer';
import type { VerpTags } from './verp';

export interface FileMailerDeps {
  /** Directory for the .eml files; created on first use. */
  dir: string;
  from: string;
  dkim?: DkimKey;
  verp?: VerpTags;
  logger?: Logger;
}

/**
 * Development outbox: each message is written as an RFC 5322 .eml file, built by the same nodemailer
 * pipeline (headers, MIME, DKIM) that the SMTP adapter uses, so what you open is what a relay would get.
 */
export class FileMailer implements Mailer {
  private readonly transporter: Transporter;
  private readonly dir: string;
  private readonly from: string;
  private readonly verp?: VerpTags;
  private readonly logger?: Logger;
  private closed = false;

  constructor({ dir, from, dkim, verp, logger }: FileMailerDeps) {
    this.dir = dir;
    this.from = from;
    this.verp = verp;
    this.logger = logger;
    this.transporter = nodemailer.createTransport({
      streamTransport: true,
      buffer: true,
      newline: 'windows',
      dkim: dkimOptions(dkim),
    });
  }

  async send(mail: OutgoingMail): Promise<SendResult> {
    if (this.closed) throw new MailError('Mailer is closed', 'transient', undefined, 'ECLOSED');
    try {
      const options = toMessageOptions(mail, this.from, this.verp);
      // A relay writes the envelope sender as Return-Path on delivery; the .eml shows it the same way.
      if (options.envelope)
        options.headers = {
          'Return-Path': `<${(options.envelope as { from: string }).from}>`,
          ...(options.headers as Record<string, string>),
        };
      const info = await this.transporter.sendMail(options);
      await fs.mkdir(this.dir, { recursive: true });
      // The name never carries the address; timestamp first so a directory listing is in send order.
      const name = `${new Date().toISOString().replace(/[:.]/g, '-')}-${crypto.randomBytes(6).toString('hex')}.eml`;
      const file = path.join(this.dir, name);
      // Written under a temporary name and renamed, so nothing watching the outbox reads half a message.
      await fs.writeFile(`${file}.tmp`, info.message as Buffer, { flag: 'wx' });
      await fs.rename(`${file}.tmp`, file);
      this.logger?.debug({ file: name }, 'mail written to outbox');
      return { messageId: info.messageId };
    } catch (err) {
      throw toMailError(err);
    }
  }

  async verify(): Promise<void> {
    try {
      await fs.mkdir(this.dir, { recursive: true });
      await fs.access(this.dir, fs.constants.W_OK);
    } catch (err) {
      throw toMailError(err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}
