import { Router } from 'express';
import type { Config } from '../config';
import { handler } from '../http/validate';
import { pageSender } from '../http/pages';
import { htmlPage, type RouteDoc } from '../http/openapi-kit';
import { html } from '../presentation/escape';
import type { CampaignsService } from './campaigns.service';

/** How long browsers and proxies may keep the web version: the page is the same for everyone. */
const WEB_VERSION_MAX_AGE_SECONDS = 300;

/**
 * `GET /n/{publicId}`: the newsletter as a web page for recipients whose mail program shows it
 * badly (CONTRACT §12), linked as «Vis i nettleser» at the top of every newsletter.
 */
export function webVersionRoutes(deps: { campaigns: CampaignsService; config: Config }): Router {
  const { campaigns } = deps;
  const page = pageSender(deps.config.privacyContact);
  const r = Router();
  r.get(
    '/:publicId',
    handler(async (req, res) => {
      const body = await campaigns.webVersion(String(req.params.publicId));
      if (body === null)
        return page(
          res,
          404,
          'Fant ikke nyhetsbrevet',
          html`<h1>Fant ikke nyhetsbrevet</h1><p>Lenken er feil, eller nyhetsbrevet er ikke sendt.</p>`,
        );
      res
        .status(200)
        .type('html')
        .set('Cache-Control', `public, max-age=${WEB_VERSION_MAX_AGE_SECONDS}`)
        .set('X-Robots-Tag', 'noindex')
        .send(body);
    }),
  );
  return r;
}

/** OpenAPI description of the page. */
export const webVersionApi: RouteDoc[] = [
  {
    method: 'get',
    path: '/n/:publicId',
    tag: 'pages',
    summary: 'The web version of a sent newsletter («Hei,», no personal link); sending, paused or sent only',
    responses: { '200': htmlPage('The newsletter'), '404': htmlPage('No such newsletter, or not sent') },
  },
];
