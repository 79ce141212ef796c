import express, { Router, type Response } from 'express';
import type { Config } from '../config';
import { handler } from '../http/validate';
import { pageSender, TOO_MANY_ATTEMPTS_BODY } from '../http/pages';
import { limitPerToken } from '../http/rate-limit';
import type { PrivacyService } from './privacy.service';
import { ERASED_BODY, INVALID_LINK_BODY, confirmEraseBody, dataPageBody } from './privacy-pages';
import { htmlPage, type RouteDoc } from '../http/openapi-kit';

/**
 * /p/:token, the 24-hour link mailed to the member's own address: a readable copy of the data,
 * a JSON download, and erasure after a confirmation step. GETs never consume the link (mail
 * scanners prefetch); only the confirmed erasure does.
 */
export function privacyLinkRoutes(deps: { privacy: PrivacyService; config: Config }): Router {
  const { privacy, config } = deps;
  const page = pageSender(config.privacyContact);
  const invalid = (res: Response) => page(res, 400, 'Lenken virker ikke', INVALID_LINK_BODY);
  const limit = limitPerToken({
    windowMs: 60_000,
    max: 30,
    onLimit: (_req, res) => page(res, 429, 'For mange forsøk', TOO_MANY_ATTEMPTS_BODY),
  });
  const r = Router();

  r.get(
    '/:token',
    limit,
    handler(async (req, res) => {
      const token = String(req.params.token);
      const doc = await privacy.exportByPrivacyLink(token);
      if (!doc) return invalid(res);
      page(res, 200, 'Dine opplysninger', dataPageBody(token, doc));
    }),
  );

  r.get(
    '/:token/data.json',
    limit,
    handler(async (req, res) => {
      const doc = await privacy.exportByPrivacyLink(String(req.params.token));
      if (!doc) return invalid(res);
      res
        .status(200)
        .set('Cache-Control', 'no-store')
        .set('Referrer-Policy', 'no-referrer')
        .set('Content-Disposition', 'attachment; filename="sothys-kundeklubb-opplysninger.json"')
        .type('application/json')
        .send(JSON.stringify(doc, null, 2));
    }),
  );

  r.post(
    '/:token/erase',
    limit,
    express.urlencoded({ extended: false, limit: '2kb' }),
    handler(async (req, res) => {
      const token = String(req.params.token);
      if (req.body?.confirm !== 'ja') {
        if (!(await privacy.checkPrivacyLink(token))) return invalid(res);
        return page(res, 200, 'Slett opplysningene dine', confirmEraseBody(token));
      }
      if (!(await privacy.eraseByPrivacyLink(token))) return invalid(res);
      page(res, 200, 'Opplysningene er slettet', ERASED_BODY);
    }),
  );
  return r;
}

/** OpenAPI descriptions of these pages. */
export const privacyLinkApi: RouteDoc[] = [
  {
    method: 'get',
    path: '/p/:token',
    tag: 'pages',
    summary: 'A readable copy of everything held',
    responses: { '200': htmlPage('Data page'), '400': htmlPage('Expired or used link') },
  },
  {
    method: 'get',
    path: '/p/:token/data.json',
    tag: 'pages',
    summary: 'Download everything held as JSON',
    responses: { '200': { description: 'JSON attachment' }, '400': htmlPage('Expired or used link') },
  },
  {
    method: 'post',
    path: '/p/:token/erase',
    tag: 'pages',
    summary: 'Erase everything (with a confirmation step)',
    responses: { '200': htmlPage('Confirmation step or erased'), '400': htmlPage('Expired or used link') },
  },
];
