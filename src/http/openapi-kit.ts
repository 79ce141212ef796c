import { z } from 'zod';
import { escapeHtml } from '../presentation/escape';

/**
 * OpenAPI 3.1 from the same zod schemas the handlers validate with. Each room describes its
 * routes next to its router (`RouteDoc[]`); the app assembles them into one document.
 */

export type Method = 'get' | 'post' | 'patch' | 'delete';

export interface RouteDoc {
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

const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.number().int(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })),
});

export const problem = { description: 'Problem (RFC 9457)', schema: 'Problem' };
export const auth = {
  '401': { description: 'Missing or invalid token', schema: 'Problem' },
  '403': { description: 'Token lacks the scope', schema: 'Problem' },
};
export const htmlPage = (description: string) => ({ description, media: 'text/html' });

const toOpenApiPath = (p: string) => p.replace(/:([A-Za-z]+)/g, '{$1}');

export function jsonSchema(schema: z.ZodType): unknown {
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

export function buildOpenApiDocument(routes: RouteDoc[], schemas: Record<string, z.ZodType>): object {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
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
  return {
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
      schemas: Object.fromEntries(
        Object.entries({ ...schemas, Problem: problemSchema }).map(([name, schema]) => [
          name,
          jsonSchema(schema),
        ]),
      ),
    },
  };
}

/** A readable docs page rendered on the server (no CDN, no script). */
export function docsPage(routes: RouteDoc[]): string {
  const rows = routes
    .map(
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
    )
    .join('\n');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Kundeklubb API</title>
<style>body{font:15px/1.5 Helvetica,Arial,sans-serif;color:#1d2a44;max-width:960px;margin:0 auto;padding:24px}section{border-top:1px solid #e5dfd3;padding:8px 0}pre{background:#f7f4ef;padding:12px;overflow:auto;font-size:12px}code{font-size:14px}</style></head>
<body><h1>Sothys Kundeklubb API</h1><p>Machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Errors are <code>application/problem+json</code>.</p>${rows}</body></html>`;
}
