import type { Response } from 'express';
import { html, type SafeHtml } from '../presentation/escape';
import { fillTemplate, readTemplate } from '../templates';

export type SendPage = (res: Response, status: number, title: string, body: SafeHtml) => void;

/**
 * Sends the Norwegian pages members see (/c/, /u/, /p/) in the shared layout, with the privacy
 * contact in the footer; never cached, and no referrer, since their paths carry tokens. `body`
 * is built with the escaping `html` tag.
 */
export function pageSender(privacyContact: string): SendPage {
  return (res, status, title, body) => {
    res
      .status(status)
      .type('html')
      .set('Cache-Control', 'no-store')
      .set('Referrer-Policy', 'no-referrer')
      .send(fillTemplate(readTemplate('pages/layout.html'), { title, body: body.value, privacyContact }));
  };
}

/** What a token page shows when its per-token limit is reached. */
export const TOO_MANY_ATTEMPTS_BODY = html`<h1>For mange forsøk</h1><p>Vent litt og prøv igjen.</p>`;
