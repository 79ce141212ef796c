import type { FieldError } from '../errors';
import type { CampaignView } from '../campaigns/campaigns.service';
import { BLOCK_TYPES, type Block } from '../newsletter/blocks.schema';
import {
  formatActivityTime,
  formatValidUntil,
  localInputToIso,
  osloDateText,
  osloLocalToDate,
  toLocalInput,
} from '../presentation/oslo-time';

/**
 * The campaign editor's form, field for field as the browser posts it. Field names are the
 * service's validation paths (`blocks.2.link.url`), so a 422 lands next to its field.
 */

export type BlockType = (typeof BLOCK_TYPES)[number];

export interface BlockForm {
  type: BlockType;
  title: string;
  body: string;
  /** datetime-local text, Oslo time. */
  startsAt: string;
  location: string;
  imageUrl: string;
  linkUrl: string;
  linkLabel: string;
  code: string;
  validUntil: string;
}

export interface CampaignForm {
  name: string;
  subject: string;
  preheader: string;
  sources: string[];
  /** As typed: comma- or line-separated. */
  partnerIds: string;
  blocks: BlockForm[];
}

/** More than the validator allows, so it is the validator that says "at most 30". */
const MAX_POSTED_BLOCKS = 40;

export const emptyBlock = (type: BlockType): BlockForm => ({
  type,
  title: '',
  body: '',
  startsAt: '',
  location: '',
  imageUrl: '',
  linkUrl: '',
  linkLabel: '',
  code: '',
  validUntil: '',
});

export const emptyCampaignForm = (): CampaignForm => ({
  name: '',
  subject: '',
  preheader: '',
  sources: [],
  partnerIds: '',
  blocks: [],
});

type Body = Record<string, unknown>;

function field(body: Body, key: string): string {
  if (!Object.prototype.hasOwnProperty.call(body, key)) return '';
  const v = body[key];
  if (typeof v === 'string') return v;
  if (Array.isArray(v) && typeof v[0] === 'string') return v[0];
  return '';
}

function list(body: Body, key: string): string[] {
  if (!Object.prototype.hasOwnProperty.call(body, key)) return [];
  const v = body[key];
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

const isBlockType = (s: string): s is BlockType => (BLOCK_TYPES as readonly string[]).includes(s);

/** Reads the posted form; blocks come in the order of their indices. */
export function parseCampaignForm(body: Body): CampaignForm {
  const indices = Object.keys(body)
    .map((k) => /^blocks\.(\d{1,3})\.type$/.exec(k))
    .filter((m): m is RegExpExecArray => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b)
    .slice(0, MAX_POSTED_BLOCKS);
  const blocks: BlockForm[] = [];
  for (const i of indices) {
    const type = field(body, `blocks.${i}.type`);
    if (!isBlockType(type)) continue;
    const f = (name: string) => field(body, `blocks.${i}.${name}`);
    blocks.push({
      type,
      title: f('title'),
      // Browsers post a textarea's line breaks as CRLF; counted as typed (one character each).
      body: f('body').replace(/\r\n?/g, '\n'),
      startsAt: f('startsAt'),
      location: f('location'),
      imageUrl: f('imageUrl'),
      linkUrl: f('link.url'),
      linkLabel: f('link.label'),
      code: f('code'),
      validUntil: f('validUntil'),
    });
  }
  return {
    name: field(body, 'name'),
    subject: field(body, 'subject'),
    preheader: field(body, 'preheader'),
    sources: list(body, 'audience.sources'),
    partnerIds: field(body, 'audience.partnerIds'),
    blocks,
  };
}

export function splitPartnerIds(text: string): string[] {
  return text
    .split(/[\s,;]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

const opt = (s: string) => (s.trim() === '' ? undefined : s);

/** A block as the service takes it; empty optional fields are left out. */
export function blockInput(b: BlockForm): Record<string, unknown> {
  const out: Record<string, unknown> = { type: b.type, title: b.title };
  if (opt(b.body)) out.body = b.body;
  if (b.type === 'activity') out.startsAt = opt(b.startsAt) ? localInputToIso(b.startsAt) : undefined;
  if (b.type === 'activity' && opt(b.location)) out.location = b.location;
  if (b.type !== 'offer' && opt(b.imageUrl)) out.imageUrl = b.imageUrl;
  if (b.type === 'offer' && opt(b.code)) out.code = b.code;
  if (b.type === 'offer' && opt(b.validUntil)) out.validUntil = b.validUntil;
  // Half a link is kept, so the validator names the missing half.
  if (opt(b.linkUrl) || opt(b.linkLabel)) out.link = { url: b.linkUrl, label: b.linkLabel };
  return out;
}

export function audienceInput(form: CampaignForm): { sources?: string[]; partnerIds?: string[] } | null {
  const partnerIds = splitPartnerIds(form.partnerIds);
  const audience: { sources?: string[]; partnerIds?: string[] } = {};
  if (form.sources.length) audience.sources = form.sources;
  if (partnerIds.length) audience.partnerIds = partnerIds;
  return audience.sources || audience.partnerIds ? audience : null;
}

/** Body for CampaignsService.create (validated by createCampaignSchema). */
export function createInput(form: CampaignForm): Record<string, unknown> {
  return {
    name: form.name,
    subject: form.subject,
    ...(opt(form.preheader) ? { preheader: form.preheader } : {}),
    audience: audienceInput(form),
    blocks: form.blocks.map(blockInput),
  };
}

/** Body for CampaignsService.update: the whole draft replaced (validated by patchCampaignSchema). */
export function patchInput(form: CampaignForm): Record<string, unknown> {
  return {
    name: form.name,
    subject: form.subject,
    preheader: opt(form.preheader) ? form.preheader : null,
    audience: audienceInput(form),
    blocks: form.blocks.map(blockInput),
  };
}

export function campaignToForm(c: CampaignView): CampaignForm {
  return {
    name: c.name,
    subject: c.subject,
    preheader: c.preheader ?? '',
    sources: [...(c.audience?.sources ?? [])],
    partnerIds: (c.audience?.partnerIds ?? []).join(', '),
    blocks: c.blocks.map(blockToForm),
  };
}

function blockToForm(b: Block): BlockForm {
  const f = emptyBlock(b.type);
  f.title = b.title;
  f.body = b.body ?? '';
  f.linkUrl = b.link?.url ?? '';
  f.linkLabel = b.link?.label ?? '';
  if (b.type === 'activity') {
    f.startsAt = toLocalInput(b.startsAt);
    f.location = b.location ?? '';
    f.imageUrl = b.imageUrl ?? '';
  } else if (b.type === 'news') {
    f.imageUrl = b.imageUrl ?? '';
  } else {
    f.code = b.code ?? '';
    f.validUntil = b.validUntil ?? '';
  }
  return f;
}

export type EditorOp =
  | { kind: 'add'; type: BlockType }
  | { kind: 'remove' | 'up' | 'down'; index: number }
  | { kind: 'save' | 'preview' | 'test' | 'send' | 'copy' | 'autosave' };

/** The submit button that was pressed (`op`): structural edits work without JavaScript too. */
export function parseOp(value: string): EditorOp {
  const m = /^(add|remove|up|down):([a-z0-9]{1,10})$/.exec(value);
  if (m) {
    if (m[1] === 'add') return isBlockType(m[2]) ? { kind: 'add', type: m[2] } : { kind: 'save' };
    if (/^\d+$/.test(m[2])) return { kind: m[1] as 'remove' | 'up' | 'down', index: Number(m[2]) };
  }
  if (['preview', 'test', 'send', 'copy', 'autosave'].includes(value))
    return { kind: value as 'preview' | 'test' | 'send' | 'copy' | 'autosave' };
  return { kind: 'save' };
}

/** Returns the form after a structural op, and the block index to scroll to. */
export function applyStructuralOp(
  form: CampaignForm,
  op: EditorOp,
): { form: CampaignForm; focus: number | null } {
  const blocks = [...form.blocks];
  let focus: number | null = null;
  if (op.kind === 'add') {
    blocks.push(emptyBlock(op.type));
    focus = blocks.length - 1;
  } else if (op.kind === 'remove' && op.index < blocks.length) {
    blocks.splice(op.index, 1);
    focus = Math.min(op.index, blocks.length - 1);
  } else if (op.kind === 'up' && op.index > 0 && op.index < blocks.length) {
    [blocks[op.index - 1], blocks[op.index]] = [blocks[op.index], blocks[op.index - 1]];
    focus = op.index - 1;
  } else if (op.kind === 'down' && op.index + 1 < blocks.length) {
    [blocks[op.index + 1], blocks[op.index]] = [blocks[op.index], blocks[op.index + 1]];
    focus = op.index + 1;
  }
  return { form: { ...form, blocks }, focus: focus !== null && focus >= 0 ? focus : null };
}

/** Errors keyed by the form field they belong to (list items roll up to their list). */
export function errorsByField(errors: FieldError[]): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const e of errors) {
    const key = e.path.replace(/^audience\.(sources|partnerIds)\.\d+$/, 'audience.$1');
    out.set(key, [...(out.get(key) ?? []), e.message]);
  }
  return out;
}

// ---- dates that have passed ----

/** Shown beside an activity's time or an offer's last day once that has passed (editor and script alike). */
export const PAST_DATE_WARNINGS = {
  activity: 'Tidspunktet har allerede vært. Sjekk dato og år.',
  offer: 'Datoen har allerede vært, så tilbudet er utløpt. Sjekk dato og år.',
} as const;

/** The editor's warning for a block as typed, or null: only a readable date in the past warns. */
export function pastDateWarning(b: BlockForm, now: Date): string | null {
  if (b.type === 'activity') {
    const at = osloLocalToDate(b.startsAt);
    return at && at.getTime() <= now.getTime() ? PAST_DATE_WARNINGS.activity : null;
  }
  if (b.type === 'offer' && /^\d{4}-\d{2}-\d{2}$/.test(b.validUntil))
    return b.validUntil < osloDateText(now) ? PAST_DATE_WARNINGS.offer : null;
  return null;
}

export interface PastDate {
  index: number;
  type: 'activity' | 'offer';
  title: string;
  /** As the newsletter writes it, with the year when it is not this year's. */
  when: string;
}

/**
 * The blocks whose date has passed by `at` (when the campaign goes out): an activity that has
 * begun, an offer whose last day is over. The send page asks before sending these.
 */
export function pastDates(blocks: Block[], at: Date, now: Date = at): PastDate[] {
  const out: PastDate[] = [];
  blocks.forEach((b, index) => {
    if (b.type === 'activity' && Date.parse(b.startsAt) <= at.getTime())
      out.push({ index, type: b.type, title: b.title, when: formatActivityTime(b.startsAt, now) });
    if (b.type === 'offer' && b.validUntil && b.validUntil < osloDateText(at))
      out.push({ index, type: b.type, title: b.title, when: formatValidUntil(b.validUntil, now) });
  });
  return out;
}
