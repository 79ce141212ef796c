import { Router, type Request } from 'express';
import { AppError } from '../errors';
import { requireScope } from '../http/auth';
import { handler, idParam, parseQuery } from '../http/validate';
import { auth, problem, type RouteDoc } from '../http/openapi-kit';
import type { ImportsService } from './imports.service';
import { importQuerySchema } from './imports.schema';

/** What a CSV upload may be labelled: text/csv, and what browsers and spreadsheets call a .csv file. */
const CSV_TYPES = new Set(['text/csv', 'application/csv', 'text/plain', 'application/vnd.ms-excel']);

/** The declared body length, when the client sent one (a larger one is refused before reading). */
export function declaredLength(req: Request): number | undefined {
  const n = Number(req.get('content-length'));
  return Number.isFinite(n) && n >= 0 ? n : undefined;
}

/** /v1/imports (CONTRACT §11): the body streamed to the service; never parsed as a whole. */
export function importsRoutes(deps: { imports: ImportsService }): Router {
  const { imports } = deps;
  const r = Router();

  r.post(
    '/',
    requireScope('admin'),
    handler(async (req, res) => {
      const q = parseQuery(importQuerySchema, req.query);
      const type = (req.get('content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (!CSV_TYPES.has(type))
        throw new AppError(
          415,
          'unsupported-media-type',
          'Unsupported media type',
          'The body must be text/csv',
        );
      const file = await imports.receive(req, declaredLength(req));
      if (q.dryRun) {
        res.status(200).json(await imports.dryRun(file, q));
        return;
      }
      const view = await imports.start(file, {
        withoutConsent: q.withoutConsent,
        createdBy: `client:${req.principal!.clientId}`,
      });
      res.status(201).location(`/v1/imports/${view.id}`).json(view);
    }),
  );

  r.get(
    '/:id',
    requireScope('admin'),
    handler(async (req, res) => {
      res.json(await imports.get(idParam(req.params.id, 'import')));
    }),
  );

  return r;
}

/** OpenAPI descriptions of these routes. */
export const importsApi: RouteDoc[] = [
  {
    method: 'post',
    path: '/v1/imports',
    tag: 'imports',
    scope: 'admin',
    summary:
      'Import members from a CSV file (body text/csv: UTF-8 with or without BOM, or Windows-1252; `,` or `;`; a header row with email and any of firstName, lastName, phone, partnerId, externalId, consentTextVersion, consentGivenAt). Rows with a known consent text version and a past consentGivenAt become active; rows without evidence are skipped (withoutConsent=reject) or pending with a confirmation mail (confirm). Existing members are never changed; suppressed, unsubscribed, restricted and bounced addresses are skipped. The import runs in the background in batches, each one transaction; the file is not kept.',
    query: importQuerySchema,
    responses: {
      '201': {
        description: 'Received (its SHA-256 known); status "running": follow it with GET /v1/imports/:id',
        schema: 'Import',
      },
      '200': { description: 'Dry run: the same report, nothing written (id null)', schema: 'Import' },
      '400': problem,
      '413': { description: 'Larger than IMPORT_MAX_BYTES (100 MB unless set)', schema: 'Problem' },
      '415': { description: 'Not text/csv', schema: 'Problem' },
      '422': {
        description: 'An empty or binary file, no header row, no email column, a column twice',
        schema: 'Problem',
      },
      ...auth,
    },
  },
  {
    method: 'get',
    path: '/v1/imports/:id',
    tag: 'imports',
    scope: 'admin',
    summary: 'An import while it runs (counts so far, progress) and after (the final report)',
    responses: { '200': { description: 'Import', schema: 'Import' }, '404': problem, ...auth },
  },
];
