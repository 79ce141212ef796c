import type { z } from 'zod';
import {
  audienceCountBodySchema,
  audienceCountQuerySchema,
  createCampaignSchema,
  listCampaignsQuerySchema,
  patchCampaignSchema,
  previewQuerySchema,
  sendSchema,
  testSendSchema,
} from '../../src/campaigns/campaigns.schema';
import { leaveSchema, listQuerySchema, rectifySchema, signUpSchema } from '../../src/members/members.schema';
import {
  createRequestSchema,
  listRequestsQuerySchema,
  restrictSchema,
  updateRequestSchema,
} from '../../src/privacy/privacy.schema';
import { MSG, nbMessage } from '../../src/presentation/messages';
import { buildCampaign } from '../support/factories';

/** Each input schema with a body it accepts; the test breaks the body everywhere it can. */
const SCHEMAS: Array<[string, z.ZodType, unknown]> = [
  [
    'sign-up',
    signUpSchema,
    {
      email: 'kari@example.no',
      firstName: 'Kari',
      lastName: 'Nordmann',
      phone: '+4791234567',
      source: 'osme-mobile',
      sourceVersion: '4.2.0',
      externalId: 'k-1',
      partnerId: 'salong-7',
      consent: { textVersion: 'kundeklubb-2024-05', givenAt: '2026-11-20T10:00:00+01:00' },
    },
  ],
  ['rectify', rectifySchema, { firstName: 'Kari', lastName: null, phone: '+4791234567', partnerId: 'x' }],
  ['leave', leaveSchema, { channel: 'app' }],
  [
    'member list query',
    listQuerySchema,
    { status: 'active', source: 'web', partnerId: 'x', email: 'a@b.no', limit: '10', cursor: '5' },
  ],
  [
    'create campaign',
    createCampaignSchema,
    buildCampaign({ audience: { sources: ['web'], partnerIds: ['x'] } }),
  ],
  ['patch campaign', patchCampaignSchema, { name: 'Desember', preheader: null }],
  ['campaign list query', listCampaignsQuerySchema, { status: 'draft', limit: '10', cursor: '5' }],
  ['audience count query', audienceCountQuerySchema, { sources: 'web,admin', partnerIds: ['x', 'y'] }],
  ['audience count body', audienceCountBodySchema, { audience: { sources: ['web'] } }],
  ['test send', testSendSchema, { to: ['kari@example.no'] }],
  ['preview query', previewQuerySchema, { format: 'text' }],
  ['send', sendSchema, { scheduledAt: '2026-12-01T09:00:00+01:00' }],
  ['restrict', restrictSchema, { restricted: true }],
  [
    'create request',
    createRequestSchema,
    {
      type: 'access',
      email: 'kari@example.no',
      receivedAt: '2026-11-20T10:00:00+01:00',
      channel: 'email',
      note: 'Ringte',
    },
  ],
  ['update request', updateRequestSchema, { status: 'done', note: 'x', outcome: 'Sendt', erase: true }],
  ['request list query', listRequestsQuerySchema, { open: 'true', limit: '10' }],
];

const BAD_VALUES: unknown[] = [
  undefined,
  null,
  0,
  1.5,
  -1,
  true,
  '',
  '   ',
  'x',
  'x'.repeat(6000),
  'a\u0000b',
  'a\nb',
  '%%KK_x',
  'javascript:alert(1)',
  '2026-02-30',
  [],
  ['x'],
  Array(40).fill('x'),
  {},
  { x: 1 },
];

type Json = unknown;

/** The body with the value at `path` replaced (or removed, for undefined). */
function replaced(body: Json, path: Array<string | number>, value: unknown): Json {
  if (path.length === 0) return value;
  const [head, ...rest] = path;
  const copy = (Array.isArray(body) ? [...body] : { ...(body as object) }) as Record<string | number, Json>;
  const next = replaced(copy[head], rest, value);
  if (next === undefined && !Array.isArray(copy)) delete copy[head];
  else copy[head] = next;
  return copy;
}

function paths(body: Json, prefix: Array<string | number> = []): Array<Array<string | number>> {
  const out = [prefix];
  if (body && typeof body === 'object')
    for (const [k, v] of Object.entries(body))
      out.push(...paths(v, [...prefix, Array.isArray(body) ? Number(k) : k]));
  return out;
}

function messagesOf(schema: z.ZodType, body: Json): string[] {
  const result = schema.safeParse(body);
  return result.success ? [] : result.error.issues.map((i) => i.message);
}

describe('validation messages', () => {
  it.each(SCHEMAS)(
    '%s: every message a bad body can get is one of ours, with its Norwegian text',
    (_n, schema, valid) => {
      expect(schema.safeParse(valid).success).toBe(true);
      const seen = new Set<string>();
      for (const path of paths(valid)) {
        for (const bad of BAD_VALUES)
          for (const m of messagesOf(schema, replaced(valid, path, bad))) seen.add(m);
        // An unknown field beside the known ones is named, in the API's own words.
        const value = path.reduce<Json>((v, k) => (v as Record<string | number, Json>)[k], valid);
        if (value && typeof value === 'object' && !Array.isArray(value))
          for (const m of messagesOf(schema, replaced(valid, path, { ...value, extra: 1 }))) seen.add(m);
      }
      const foreign = [...seen].filter((m) => !m.startsWith('unknown field(s): ') && nbMessage(m) === m);
      expect(foreign).toEqual([]);
      expect(seen.size).toBeGreaterThan(1);
    },
  );

  it('gives the admin the Norwegian text of our English message, and leaves other text alone', () => {
    expect(nbMessage('must be at most 200 characters')).toBe('Kan ha høyst 200 tegn.');
    expect(nbMessage(MSG.email.en)).toBe('Må være en gyldig e-postadresse.');
    expect(nbMessage('Tidspunktet må være frem i tid.')).toBe('Tidspunktet må være frem i tid.');
    expect(nbMessage('Too big: expected string to have <=200 characters')).toBe(
      'Too big: expected string to have <=200 characters',
    );
  });

  it('reports a missing field as missing, an empty one as empty', () => {
    const missing = createRequestSchema.safeParse({ type: 'access', email: 'a@b.no', channel: 'email' });
    expect(missing.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['receivedAt', 'must be given'],
    ]);
    const empty = createRequestSchema.safeParse({
      type: 'access',
      email: 'a@b.no',
      receivedAt: '2026-11-20T10:00:00+01:00',
      channel: 'email',
      note: ' ',
    });
    expect(empty.error?.issues.map((i) => i.message)).toEqual(['must not be empty']);
    expect(nbMessage('must be given')).toBe(nbMessage('must not be empty'));
  });
});
