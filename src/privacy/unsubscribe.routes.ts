import { Router, type Response } from 'express';
import type { Config } from '../config';
import { handler } from '../http/validate';
import { pageSender, TOO_MANY_ATTEMPTS_BODY } from '../http/pages';
import { html } from '../presentation/escape';
import { limitPerToken } from '../http/rate-limit';
import type { PrivacyService } from './privacy.service';
import { INVALID_LINK_BODY, LINK_SENT_BODY, UNSUBSCRIBED_BODY, unsubscribeFormBody } from './privacy-pages';
import { isOneClickBody, readBodyPrefix } from './read-body-prefix';
import { htmlPage, type RouteDoc } from '../http/openapi-kit';
import { TEST_UNSUBSCRIBE_TOKEN } from '../clicks/test-links';

/** What the unsubscribe link of a preview or test mail opens (GET or one-click POST): nothing changes. */
const TEST_LINK_BODY = html`<h1>Dette er en testlenke</h1>
<p>Lenken kommer fra en forhåndsvisning eller en testutsendelse av et nyhetsbrev. I nyhetsbrevet medlemmene får, går lenken til siden der hver enkelt kan melde seg av.</p>
<p>Ingen er meldt av, og ingenting er endret.</p>`;

/**
 * /u/:token, the link in every newsletter (CONTRACT §6). GET shows one button and changes nothing
 * (scanners and previews fetch it); POST unsubscribes at once, with or without a body, and always
 * answers 200 with a page, never a redirect (RFC 8058). A bad token gets a 400 page that says nothing;
 * the link of previews and test mail (`/u/forhandsvisning`) a page that says it is a test link.
 */
export function unsubscribeRoutes(deps: { privacy: PrivacyService; config: Config }): Router {
  const { privacy, config } = deps;
  const page = pageSender(config.privacyContact);
  const invalid = (res: Response) => page(res, 400, 'Lenken virker ikke', INVALID_LINK_BODY);
  const tooMany = (res: Response) => page(res, 429, 'For mange forsøk', TOO_MANY_ATTEMPTS_BODY);
  const testLink = (res: Response) => page(res, 200, 'Testlenke', TEST_LINK_BODY);
  const limit = limitPerToken({ windowMs: 60_000, max: 30, onLimit: (_req, res) => tooMany(res) });
  // Each request mails the member: keep it to a few per quarter hour per link.
  const linkLimit = limitPerToken({ windowMs: 15 * 60_000, max: 3, onLimit: (_req, res) => tooMany(res) });
  const r = Router();

  r.get(
    '/:token',
    limit,
    handler(async (req, res) => {
      if (req.params.token === TEST_UNSUBSCRIBE_TOKEN) return testLink(res);
      const view = await privacy.unsubscribeView(String(req.params.token));
      if (view.state === 'invalid') return invalid(res);
      if (view.state === 'gone') return page(res, 200, 'Du er meldt av', UNSUBSCRIBED_BODY);
      page(res, 200, 'Meld deg av', unsubscribeFormBody(String(req.params.token), view.maskedEmail));
    }),
  );

  r.post(
    '/:token',
    limit,
    handler(async (req, res) => {
      const body = await readBodyPrefix(req);
      if (req.params.token === TEST_UNSUBSCRIBE_TOKEN) return testLink(res);
      const channel = isOneClickBody(req.get('content-type'), body) ? 'one-click' : 'link';
      const outcome = await privacy.unsubscribe(String(req.params.token), channel);
      if (outcome === 'invalid') return invalid(res);
      page(res, 200, 'Du er meldt av', UNSUBSCRIBED_BODY);
    }),
  );

  r.post(
    '/:token/privacy-link',
    linkLimit,
    handler(async (req, res) => {
      await readBodyPrefix(req, 1024);
      const outcome = await privacy.requestPrivacyLink(String(req.params.token));
      if (outcome === 'invalid') return invalid(res);
      if (outcome === 'limited') {
        return page(
          res,
          200,
          'Lenken er sendt',
          html`<h1>Lenken er allerede sendt</h1><p>Vi har sendt deg personvernlenker flere ganger i dag. Bruk den siste du fikk: se etter den i innboksen din (og i søppelposten). Du kan be om en ny lenke i morgen.</p>`,
        );
      }
      if (outcome === 'unavailable') {
        return page(
          res,
          200,
          'Ingen opplysninger',
          html`<h1>Vi kan ikke sende en lenke</h1><p>Vi kan ikke sende en lenke til denne adressen. Vil du vite hva vi har lagret om deg, skriv til oss på adressen nederst på siden.</p>`,
        );
      }
      page(res, 200, 'Sjekk e-posten din', LINK_SENT_BODY);
    }),
  );
  return r;
}

/** OpenAPI descriptions of these pages. */
export const unsubscribeApi: RouteDoc[] = [
  {
    method: 'get',
    path: '/u/:token',
    tag: 'pages',
    summary:
      'Unsubscribe page with the masked address (changes nothing); /u/forhandsvisning: the test-link page',
    responses: { '200': htmlPage('Page with one button'), '400': htmlPage('Forged or unknown token') },
  },
  {
    method: 'post',
    path: '/u/:token',
    tag: 'pages',
    summary:
      'One-click unsubscribe (RFC 8058): any body, no auth; erases the profile (/u/forhandsvisning: changes nothing)',
    responses: { '200': htmlPage('Unsubscribed'), '400': htmlPage('Forged or unknown token') },
  },
  {
    method: 'post',
    path: '/u/:token/privacy-link',
    tag: 'pages',
    summary: 'Mail a 24-hour privacy link to the member’s own address',
    responses: { '200': htmlPage('Link sent'), '400': htmlPage('Forged or unknown token') },
  },
];
