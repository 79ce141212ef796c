import type { z } from 'zod';
import { buildOpenApiDocument, docsPage as renderDocsPage, type RouteDoc } from './http/openapi-kit';
import { membersApi } from './members/members.routes';
import { eventsApi } from './events/events.routes';
import { confirmationApi } from './members/confirmation.routes';
import { memberViewSchema } from './members/members.schema';
import { campaignsApi } from './campaigns/campaigns.routes';
import { campaignSendingApi } from './campaigns/campaign-sending.routes';
import { campaignStatsSchema } from './campaigns/campaigns.schema';
import { privacyApi } from './privacy/privacy.routes';
import { unsubscribeApi } from './privacy/unsubscribe.routes';
import { privacyLinkApi } from './privacy/privacy-link.routes';
import { bounceWebhooksApi } from './bounces/webhooks.routes';
import { clicksApi } from './clicks/clicks.routes';
import { webVersionApi } from './campaigns/web-version.routes';
import { importsApi } from './imports/imports.routes';
import { importViewSchema } from './imports/imports.schema';

/**
 * The external surface (CONTRACT.md) as one OpenAPI 3.1 document, assembled from the routes each
 * room describes next to its router. A test checks that every documented route exists and every
 * mounted route is documented.
 */

const operationsApi: RouteDoc[] = [
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
];

export const ROUTES: RouteDoc[] = [
  ...operationsApi,
  ...membersApi,
  ...eventsApi,
  ...privacyApi,
  ...campaignsApi,
  ...campaignSendingApi,
  ...confirmationApi,
  ...unsubscribeApi,
  ...privacyLinkApi,
  ...clicksApi,
  ...webVersionApi,
  ...bounceWebhooksApi,
  ...importsApi,
];

const SCHEMAS: Record<string, z.ZodType> = {
  Member: memberViewSchema,
  Stats: campaignStatsSchema,
  Import: importViewSchema,
};

let cached: object | undefined;

export function openApiDocument(): object {
  return (cached ??= buildOpenApiDocument(ROUTES, SCHEMAS));
}

export function docsPage(): string {
  return renderDocsPage(ROUTES);
}
