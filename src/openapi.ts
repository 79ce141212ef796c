import { z } from 'zod';
import { leaveSchema, listQuerySchema, rectifySchema, signUpSchema } from './members/members.schema';
import { MEMBER_STATUSES, SOURCES } from './members/member.entity';
import {
  audienceCountBodySchema,
  audienceCountQuerySchema,
  createCampaignSchema,
  listCampaignsQuerySchema,
  patchCampaignSchema,
  previewQuerySchema,
  testSendSchema,
} from './campaigns/campaigns.schema';
import { CAMPAIGN_STATUSES } from './campaigns/campaign.entity';
import { sendSchema } from './delivery/delivery.routes';
import {
  createRequestSchema,
  listRequestsQuerySchema,
  restrictSchema,
  updateRequestSchema,
} from './privacy/privacy.schema';
import { escapeHtml } from './templates';

/**
 * OpenAPI 3.1 for the external surface (CONTRACT.md), generated from the same zod schemas the
 * handlers validate with. A test checks that every documented route exists and every mounted
 * route is documented.
 */

type Method = 'get' | 'post' | 'patch' | 'delete';

interface RouteDoc {
  method: Method;
  /** Express-style path, e.g. /v1/members/:id */
  path: string;
  summary: string;
  tag: string;
  scope?: string;
  body?: z.ZodType;
  query?: z.ZodType;
  /** status → description; the schema is the named component or a media type. */
  responses: Record<string, { description: string; schema?: string; media?: string }>;
}

const problem = { description: 'Problem (RFC 9457)', schema: 'Problem' };
const auth = {
  '401': { description: 'Missing or invalid token', schema: 'Problem' },
  '403': { description: 'Token lacks the scope', schema: 'Problem' },
};
const html = (description: string) => ({ description, media: 'text/html' });

const memberView = z.object({
  id: z.number().int(),
  email: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  phone: z.string().nullable(),
  source: z.enum(SOURCES),
  sourceVersion: z.string().nullable(),
  externalId: z.string().nullable(),
  partnerId: z.string().nullable(),
  status: z.enum(MEMBER_STATUSES),
  createdAt: z.string(),
  updatedAt: z.string(),
  confirmedAt: z.string().nullable(),
  leftAt: z.string().nullable(),
});
const stats = z.object({
  status: z.enum(CAMPAIGN_STATUSES),
  total: z.number().int(),
  queued: z.number().int(),
  sent: z.number().int(),
  failed: z.number().int(),
  skipped: z.number().int(),
  sending: z.number().int(),
});
const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});

export const ROUTES: RouteDoc[] = [
  {
    method: 'get',
    path: '/healthz',
    tag: 'operations',
    summary: 'The process is up',
    responses: { '200': { description: 'ok' } },
  },
  {
    method: 'get',
    path: '/readyz',
    tag: 'operations',
    summary: 'The database is reachable',
    responses: { '200': { description: 'ready' }, '503': { description: 'database unreachable' } },
  },
  {
    method: 'get',
    path: '/metrics',
    tag: 'operations',
    summary: 'Prometheus metrics',
    responses: { '200': { description: 'Prometheus text', media: 'text/plain' } },
  },
  {
    method: 'get',
    path: '/openapi.json',
    tag: 'operations',
    summary: 'This document',
    responses: { '200': { description: 'OpenAPI 3.1' } },
  },

  {
    method: 'post',
    path: '/v1/members',
    tag: 'members',
    scope: 'members:write',
    summary: 'Sign up (idempotent by normalised address; consent required)',
    body: signUpSchema,
    responses: {
      '201': { description: 'New member', schema: 'Member' },
      '200': {
        description:
          'Existing member; the new consent recorded. The whole Member with members:read, else only { id, status }',
        schema: 'Member',
      },
      '400': problem,
      '422': problem,
      ...auth,
    },
  },
  {
    method: 'get',
    path: '/v1/members',
    tag: 'members',
    scope: 'members:read',
    summary: 'List with filters and cursor pagination',
    query: listQuerySchema,
    responses: { '200': { description: '{ items: Member[], nextCursor }' }, '400': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/members/:id',
    tag: 'members',
    scope: 'members:read',
    summary: 'One member',
    responses: { '200': { description: 'Member', schema: 'Member' }, '404': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/members/:id/consents',
    tag: 'members',
    scope: 'members:read',
    summary: 'Consent history (append-only)',
    responses: { '200': { description: '{ items: ConsentEvent[] }' }, '404': problem, ...auth },
  },
  {
    method: 'patch',
    path: '/v1/members/:id',
    tag: 'members',
    scope: 'members:write',
    summary: 'Rectify names, phone, partner',
    body: rectifySchema,
    responses: {
      '200': { description: 'Member', schema: 'Member' },
      '400': problem,
      '404': problem,
      '409': problem,
      '422': problem,
      ...auth,
    },
  },
  {
    method: 'post',
    path: '/v1/members/:id/unsubscribe',
    tag: 'members',
    scope: 'members:write',
    summary: 'Leave the club (same effect as the link)',
    body: leaveSchema,
    responses: {
      '200': { description: 'Member (anonymous)', schema: 'Member' },
      '404': problem,
      '422': problem,
      ...auth,
    },
  },
  {
    method: 'get',
    path: '/v1/members/:id/export',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Everything held about the member (art. 15/20)',
    responses: {
      '200': { description: '{ exportedAt, member, consentEvents, deliveries, privacyRequests }' },
      '404': problem,
      ...auth,
    },
  },
  {
    method: 'delete',
    path: '/v1/members/:id',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Erase (art. 17); a suppression HMAC remains',
    responses: { '204': { description: 'Erased' }, '404': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/members/:id/restrict',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Restrict processing (art. 18) or lift it',
    body: restrictSchema,
    responses: {
      '200': { description: 'Member', schema: 'Member' },
      '404': problem,
      '409': problem,
      ...auth,
    },
  },
  {
    method: 'post',
    path: '/v1/privacy-requests',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Log a request received by e-mail or phone; dueAt = one calendar month',
    body: createRequestSchema,
    responses: { '201': { description: 'Request' }, '400': problem, '422': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/privacy-requests',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'List requests; ?open=true lists open ones, overdue first',
    query: listRequestsQuerySchema,
    responses: { '200': { description: '{ items: Request[] }' }, ...auth },
  },
  {
    method: 'get',
    path: '/v1/privacy-requests/:id',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'One request',
    responses: { '200': { description: 'Request' }, '404': problem, ...auth },
  },
  {
    method: 'patch',
    path: '/v1/privacy-requests/:id',
    tag: 'privacy',
    scope: 'privacy',
    summary: 'Close a request (an erasure request can perform the erasure)',
    body: updateRequestSchema,
    responses: { '200': { description: 'Request' }, '404': problem, '422': problem, ...auth },
  },

  {
    method: 'post',
    path: '/v1/campaigns',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Create a draft newsletter from blocks',
    body: createCampaignSchema,
    responses: { '201': { description: 'Campaign' }, '400': problem, '422': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'List campaigns, newest first',
    query: listCampaignsQuerySchema,
    responses: { '200': { description: '{ items: Campaign[], nextCursor }' }, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/audience-count',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'How many active members an audience reaches',
    query: audienceCountQuerySchema,
    responses: { '200': { description: '{ count }' }, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/audience-count',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'How many active members an audience reaches',
    body: audienceCountBodySchema,
    responses: { '200': { description: '{ count }' }, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'One campaign',
    responses: { '200': { description: 'Campaign' }, '404': problem, ...auth },
  },
  {
    method: 'patch',
    path: '/v1/campaigns/:id',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Edit a draft (anything else → 409)',
    body: patchCampaignSchema,
    responses: { '200': { description: 'Campaign' }, '409': problem, '422': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/:id/preview',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'The rendered newsletter (HTML, or ?format=text)',
    query: previewQuerySchema,
    responses: {
      '200': { description: 'text/html or text/plain', media: 'text/html' },
      '404': problem,
      ...auth,
    },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/test',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Send a «[TEST]» copy to listed addresses now',
    body: testSendSchema,
    responses: { '200': { description: '{ sent }' }, '422': problem, '502': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/send',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Send now or at scheduledAt',
    body: sendSchema,
    responses: { '202': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/pause',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Pause sending',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/resume',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Resume sending',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'post',
    path: '/v1/campaigns/:id/cancel',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Cancel',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '409': problem, ...auth },
  },
  {
    method: 'get',
    path: '/v1/campaigns/:id/stats',
    tag: 'campaigns',
    scope: 'campaigns',
    summary: 'Progress: total, queued, sent, failed, skipped',
    responses: { '200': { description: 'Stats', schema: 'Stats' }, '404': problem, ...auth },
  },

  {
    method: 'get',
    path: '/c/:token',
    tag: 'pages',
    summary: 'Confirmation page (changes nothing)',
    responses: { '200': html('Page with a button'), '400': html('Invalid or expired link') },
  },
  {
    method: 'post',
    path: '/c/:token',
    tag: 'pages',
    summary: 'Confirm the membership (double opt-in)',
    responses: { '200': html('Confirmed'), '400': html('Invalid or expired link') },
  },
  {
    method: 'get',
    path: '/u/:token',
    tag: 'pages',
    summary: 'Unsubscribe page with the masked address (changes nothing)',
    responses: { '200': html('Page with one button'), '400': html('Forged or unknown token') },
  },
  {
    method: 'post',
    path: '/u/:token',
    tag: 'pages',
    summary: 'One-click unsubscribe (RFC 8058): any body, no auth; erases the profile',
    responses: { '200': html('Unsubscribed'), '400': html('Forged or unknown token') },
  },
  {
    method: 'post',
    path: '/u/:token/privacy-link',
    tag: 'pages',
    summary: 'Mail a 24-hour privacy link to the member’s own address',
    responses: { '200': html('Link sent'), '400': html('Forged or unknown token') },
  },
  {
    method: 'get',
    path: '/p/:token',
    tag: 'pages',
    summary: 'A readable copy of everything held',
    responses: { '200': html('Data page'), '400': html('Expired or used link') },
  },
  {
    method: 'get',
    path: '/p/:token/data.json',
    tag: 'pages',
    summary: 'Download everything held as JSON',
    responses: { '200': { description: 'JSON attachment' }, '400': html('Expired or used link') },
  },
  {
    method: 'post',
    path: '/p/:token/erase',
    tag: 'pages',
    summary: 'Erase everything (with a confirmation step)',
    responses: { '200': html('Confirmation step or erased'), '400': html('Expired or used link') },
  },
];

const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z]+)/g, '{$1}');

function jsonSchema(schema: z.ZodType): unknown {
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as Record<string, unknown>;
  return rest;
}

function queryParameters(schema: z.ZodType): unknown[] {
  const js = jsonSchema(schema) as { properties?: Record<string, unknown>; required?: string[] };
  return Object.entries(js.properties ?? {}).map(([name, s]) => ({
    name,
    in: 'query',
    required: js.required?.includes(name) ?? false,
    schema: s,
  }));
}

let cached: object | undefined;

export function openApiDocument(): object {
  if (cached) return cached;
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    const p = toOpenApiPath(r.path);
    const params = [...r.path.matchAll(/:([A-Za-z]+)/g)].map((m) => ({
      name: m[1],
      in: 'path',
      required: true,
      schema: { type: 'string' },
    }));
    const responses = Object.fromEntries(
      Object.entries(r.responses).map(([status, d]) => [
        status,
        {
          description: d.description,
          ...(d.schema
            ? {
                content: {
                  [d.schema === 'Problem' ? 'application/problem+json' : 'application/json']: {
                    schema: { $ref: `#/components/schemas/${d.schema}` },
                  },
                },
              }
            : d.media
              ? { content: { [d.media]: {} } }
              : {}),
        },
      ]),
    );
    (paths[p] ??= {})[r.method] = {
      summary: r.summary,
      tags: [r.tag],
      ...(r.scope ? { security: [{ bearer: [r.scope] }], 'x-scope': r.scope } : {}),
      parameters: [...params, ...(r.query ? queryParameters(r.query) : [])],
      ...(r.body
        ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(r.body) } } } }
        : {}),
      responses,
    };
  }
  cached = {
    openapi: '3.1.0',
    info: {
      title: 'Sothys Kundeklubb',
      version: '1',
      description:
        'Club membership, newsletters and the rights of the person, for Cosmenor AS. Tokens come from `npx kundeklubb clients create`.',
    },
    paths,
    components: {
      securitySchemes: {
        bearer: {
          type: 'http',
          scheme: 'bearer',
          description: 'Scopes: members:write, members:read, campaigns, privacy, admin (admin holds all)',
        },
      },
      schemas: {
        Member: jsonSchema(memberView),
        Stats: jsonSchema(stats),
        Problem: jsonSchema(problemSchema),
      },
    },
  };
  return cached;
}

/** A readable docs page rendered on the server (no CDN, no script). */
export function docsPage(): string {
  const rows = ROUTES.map(
    (r) =>
      `<section><h3><code>${r.method.toUpperCase()} ${escapeHtml(r.path)}</code></h3><p>${escapeHtml(r.summary)}${r.scope ? ` — scope <code>${escapeHtml(r.scope)}</code>` : ''}</p>${
        r.body
          ? `<details><summary>Body</summary><pre>${escapeHtml(JSON.stringify(jsonSchema(r.body), null, 2))}</pre></details>`
          : ''
      }${r.query ? `<details><summary>Query</summary><pre>${escapeHtml(JSON.stringify(jsonSchema(r.query), null, 2))}</pre></details>` : ''}<p>${Object.entries(
        r.responses,
      )
        .map(([s, d]) => `<code>${s}</code> ${escapeHtml(d.description)}`)
        .join(' · ')}</p></section>`,
  ).join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Kundeklubb API</title>
<style>body{font:15px/1.5 Helvetica,Arial,sans-serif;color:#1d2a44;max-width:960px;margin:0 auto;padding:24px}section{border-top:1px solid #e5dfd3;padding:8px 0}pre{background:#f7f4ef;padding:12px;overflow:auto;font-size:12px}code{font-size:14px}</style></head>
<body><h1>Sothys Kundeklubb API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are <code>application/problem+json</code>.</p>${rows}</body></html>`;
}
