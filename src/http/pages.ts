import type { Response } from 'express';
import { escapeHtml, fillTemplate, readTemplate } from '../templates';

export { escapeHtml };

/** Sends a Norwegian page. `body` is markup the caller built with escapeHtml for every value. */
export function sendPage(
  res: Response,
  status: number,
  title: string,
  body: string,
  privacyContact: string,
): void {
  res
    .status(status)
    .type('html')
    .set('Cache-Control', 'no-store')
    .set('Referrer-Policy', 'no-referrer')
    .send(fillTemplate(readTemplate('pages/layout.html'), { title, body, privacyContact }));
}
