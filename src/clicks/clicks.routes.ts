import { Router, type Response } from 'express';
import { z } from 'zod';
import type { Config } from '../config';
import type { Logger } from '../logger';
import { handler } from '../http/validate';
import { pageSender } from '../http/pages';
import { htmlPage, type RouteDoc } from '../http/openapi-kit';
import { html } from '../presentation/escape';
import type { ClickCounts } from './click-counts';
import type { TestLinks } from './test-links';
import { isCountableClick } from './link-checkers';
import type { LinkSource } from './link-source';

const CAMPAIGN_ID = /^[1-9][0-9]{0,9}$/;
/** A newsletter has at most 30 links; four digits leave room and refuse anything huge. */
const LINK_NUMBER = /^[1-9][0-9]{0,3}$/;
const MAX_CAMPAIGN_ID = 2147483647;

const numberParam = (value: unknown, pattern: RegExp): number | null =>
  typeof value === 'string' && pattern.test(value) && Number(value) <= MAX_CAMPAIGN_ID ? Number(value) : null;

const clickQuerySchema = z.object({
  test: z.string().optional().describe('marker of a test mail or preview: not counted'),
});

/**
 * `GET /r/{campaignId}/{n}` → 302 to the link's URL (CONTRACT §12). A person's click adds one to
 * the link's counter; HEAD, known bots and link checkers, prefetches and test links do not. Only
 * the route pattern is logged (by the access log), nothing about the request.
 */
export function clickRoutes(deps: {
  links: LinkSource;
  counts: ClickCounts;
  testLinks: TestLinks;
  config: Config;
  logger: Logger;
}): Router {
  const { links, counts, testLinks, logger } = deps;
  const page = pageSender(deps.config.privacyContact);
  const notFound = (res: Response) =>
    page(
      res,
      404,
      'Fant ikke lenken',
      html`<h1>Fant ikke lenken</h1><p>Lenken finnes ikke eller er ikke i bruk.</p>`,
    );
  const r = Router();

  r.get(
    '/:campaignId/:n',
    handler(async (req, res) => {
      const campaignId = numberParam(req.params.campaignId, CAMPAIGN_ID);
      const n = numberParam(req.params.n, LINK_NUMBER);
      if (campaignId === null || n === null) return notFound(res);
      const test = req.query.test !== undefined && testLinks.isTest(campaignId, req.query.test);
      const url = test ? await links.testLinkUrl(campaignId, n) : await links.sentLinkUrl(campaignId, n);
      if (url === null) return notFound(res);
      if (!test && isCountableClick(req)) {
        // A counter that cannot be written must not keep the person from the link.
        await counts.increment(campaignId, n).catch((err: unknown) => {
          logger.warn({ err: String((err as Error)?.message ?? err) }, 'click not counted');
        });
      }
      res.status(302).set('Cache-Control', 'no-store').location(url).end();
    }),
  );
  return r;
}

/** OpenAPI description of the redirect. */
export const clicksApi: RouteDoc[] = [
  {
    method: 'get',
    path: '/r/:campaignId/:n',
    tag: 'pages',
    summary:
      'A newsletter link: 302 to its URL; a person’s click is counted with no one’s data (HEAD, link checkers and test mail are not)',
    query: clickQuerySchema,
    responses: {
      '302': { description: 'Location: the URL of the campaign’s link n' },
      '404': htmlPage('No such campaign or link, or the campaign is not sent'),
    },
  },
];
