import express, { Router } from 'express';
import type { Config } from '../config';
import { handler } from '../http/validate';
import { pageSender, TOO_MANY_ATTEMPTS_BODY } from '../http/pages';
import { html } from '../presentation/escape';
import { limitPerToken } from '../http/rate-limit';
import type { MembersService } from './members.service';
import { htmlPage, type RouteDoc } from '../http/openapi-kit';

/**
 * Double opt-in pages. GET shows a button and changes nothing (mail scanners fetch links);
 * only the POST from that button activates the membership.
 */
export function confirmationRoutes(deps: { members: MembersService; config: Config }): Router {
  const { members, config } = deps;
  const page = pageSender(config.privacyContact);
  const invalid = (res: express.Response) =>
    page(
      res,
      400,
      'Lenken virker ikke',
      html`<h1>Lenken virker ikke</h1><p>Lenken er utløpt eller ugyldig. Har du allerede bekreftet medlemskapet, trenger du ikke gjøre noe mer. Hvis du vil bli medlem, kan du melde deg inn på nytt i appen.</p>`,
    );
  /** A link opened again after it confirmed the membership: nothing to do, and it says so. */
  const alreadyConfirmed = (res: express.Response) =>
    page(
      res,
      200,
      'Allerede bekreftet',
      html`<h1>Medlemskapet er allerede bekreftet</h1><p>Du er medlem av Sothys Kundeklubb og får nyhetsbrevet vårt på e-post. Du trenger ikke gjøre noe mer.</p>
<p>Du kan melde deg av når som helst med lenken i hvert nyhetsbrev.</p>`,
    );
  const r = Router();
  const limit = limitPerToken({
    windowMs: 60_000,
    max: 20,
    onLimit: (_req, res) => page(res, 429, 'For mange forsøk', TOO_MANY_ATTEMPTS_BODY),
  });

  r.get(
    '/:token',
    limit,
    handler(async (req, res) => {
      const token = String(req.params.token);
      const state = await members.checkConfirmation(token);
      if (state === 'already-confirmed') return alreadyConfirmed(res);
      if (state !== 'valid') return invalid(res);
      page(
        res,
        200,
        'Bekreft medlemskap',
        html`<h1>Bekreft medlemskapet ditt</h1>
<p>Trykk på knappen for å bekrefte at du vil være medlem av Sothys Kundeklubb og få nyhetsbrev om aktiviteter, nyheter og tilbud på e-post.</p>
<form method="post" action="/c/${encodeURIComponent(token)}"><button type="submit">Bekreft medlemskap</button></form>
<p>Du kan melde deg av når som helst med lenken i hvert nyhetsbrev.</p>`,
      );
    }),
  );

  r.post(
    '/:token',
    limit,
    express.urlencoded({ extended: false, limit: '10kb' }),
    handler(async (req, res) => {
      const outcome = await members.confirm(String(req.params.token));
      if (outcome === 'invalid') return invalid(res);
      if (outcome === 'already-active') return alreadyConfirmed(res);
      page(
        res,
        200,
        'Velkommen',
        html`<h1>Velkommen i Sothys Kundeklubb!</h1><p>Medlemskapet ditt er bekreftet. Du får nyhetsbrevet vårt på e-post.</p>`,
      );
    }),
  );
  return r;
}

/** OpenAPI descriptions of these pages. */
export const confirmationApi: RouteDoc[] = [
  {
    method: 'get',
    path: '/c/:token',
    tag: 'pages',
    summary: 'Confirmation page (changes nothing)',
    responses: {
      '200': htmlPage('Page with a button, or «already confirmed» for a used link'),
      '400': htmlPage('Invalid or expired link'),
    },
  },
  {
    method: 'post',
    path: '/c/:token',
    tag: 'pages',
    summary: 'Confirm the membership (double opt-in)',
    responses: {
      '200': htmlPage('Confirmed, or already confirmed'),
      '400': htmlPage('Invalid or expired link'),
    },
  },
];
