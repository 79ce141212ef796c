import { html, attr, type SafeHtml } from '../../presentation/escape';
import type { FieldError } from '../../errors';
import type { CampaignView } from '../../campaigns/campaigns.service';
import type { CampaignStats } from '../../campaigns/campaigns.schema';
import { SOURCES } from '../../members/member.entity';
import {
  BLOCK_TYPE_LABELS,
  CAMPAIGN_STATUS_LABELS,
  PAUSED_REASON_LABELS,
  SOURCE_LABELS,
} from '../../presentation/labels';
import { nbMessage } from '../../presentation/messages';
import { BLOCK_TYPES, LIMITS } from '../../newsletter/blocks.schema';
import { MAX_NAME_LENGTH } from '../../campaigns/campaigns.schema';
import { newsletterLinks } from '../../newsletter/renderer';
import { MIN_REPORTED_CLICKS } from '../../clicks/clicks.schema';
import { linkClicksChart } from './chart';
import { formatActivityTime, formatLong, formatShort, formatValidUntil } from '../../presentation/oslo-time';
import {
  emptyBlock,
  errorsByField,
  pastDateWarning,
  PAST_DATE_WARNINGS,
  type BlockForm,
  type BlockType,
  type CampaignForm,
  type PastDate,
} from '../campaign-form';
import {
  badge,
  csrfField,
  errorSummary,
  field,
  fieldId,
  formatCount,
  page,
  progressBar,
  type PageContext,
} from './layout';

// ---- list ----

export function campaignListPage(ctx: PageContext, items: CampaignView[], nextCursor: string | null): string {
  const rows = items.map(
    (c) => html`<tr>
<th scope="row"><a href="/admin/campaigns/${c.id}">${c.name}</a></th>
<td>${c.subject}</td>
<td>${badge(CAMPAIGN_STATUS_LABELS[c.status], c.status)}</td>
<td class="num">${c.recipients === null ? '–' : formatCount(c.recipients)}</td>
<td>${c.status === 'scheduled' && c.scheduledAt ? `Planlagt ${formatShort(c.scheduledAt)}` : c.startedAt ? `Startet ${formatShort(c.startedAt)}` : `Endret ${formatShort(c.updatedAt)}`}</td>
</tr>`,
  );
  return page(
    { ...ctx, section: 'campaigns' },
    'Nyhetsbrev',
    html`<div class="page-head row"><h1>Nyhetsbrev</h1><a class="button primary" href="/admin/campaigns/new">Nytt nyhetsbrev</a></div>
${
  items.length
    ? html`<div class="card flush"><div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Nyhetsbrev"><table class="data">
<thead><tr><th scope="col">Navn</th><th scope="col">Emne</th><th scope="col">Status</th><th scope="col" class="num">Mottakere</th><th scope="col">Tid</th></tr></thead>
<tbody>${rows}</tbody></table></div></div>`
    : html`<div class="card"><p>Ingen nyhetsbrev ennå.</p></div>`
}
${nextCursor ? html`<p class="pager"><a href="/admin/campaigns?cursor=${nextCursor}">Eldre nyhetsbrev →</a></p>` : ''}`,
    { wide: true },
  );
}

// ---- editor ----

export interface EditorData {
  id: number | null;
  form: CampaignForm;
  errors: FieldError[];
  previewHtml: string | null;
  audienceCount: number | null;
  /** Block to move focus to after a server-side add/move/remove. */
  focusBlock: number | null;
  testAddress: string;
  /** For the warning beside a date that has passed. */
  now: Date;
}

const FIELD_LABELS: Record<string, string> = {
  name: 'Navn',
  subject: 'Emne',
  preheader: 'Forhåndstekst',
  'audience.sources': 'Kilder',
  'audience.partnerIds': 'Salong-ID-er',
  blocks: 'Blokker',
  title: 'Tittel',
  body: 'Tekst',
  startsAt: 'Tidspunkt',
  location: 'Sted',
  imageUrl: 'Bildeadresse',
  'link.url': 'Lenkeadresse',
  'link.label': 'Lenketekst',
  code: 'Rabattkode',
  validUntil: 'Gyldig til',
};

export function campaignFieldLabel(path: string): string | null {
  const m = /^blocks\.(\d+)(?:\.(.+))?$/.exec(path);
  if (m) return `Blokk ${Number(m[1]) + 1}${m[2] ? ` – ${FIELD_LABELS[m[2]] ?? m[2]}` : ''}`;
  return FIELD_LABELS[path] ?? null;
}

/** One block's fields. `index` is a number, or '__i__' in the templates the script clones. */
export function blockFieldset(
  b: BlockForm,
  index: number | '__i__',
  count: number,
  errors: Map<string, string[]>,
  now: Date | null = null,
): SafeHtml {
  const n = (name: string) => `blocks.${index}.${name}`;
  const e = (name: string) => errors.get(n(name));
  const number = typeof index === 'number' ? index + 1 : '';
  const blockErrors = errors.get(`blocks.${index}`) ?? [];
  const specific = blockFields(b, n, e, now ? pastDateWarning(b, now) : null);
  const first = index === 0;
  const last = typeof index === 'number' && index === count - 1;
  return html`<li class="block block-${b.type}" id="block-${index}" data-block tabindex="-1">
<fieldset>
<legend><span class="block-kind">${BLOCK_TYPE_LABELS[b.type]}</span> <span class="block-no">Blokk <span data-block-number>${number}</span></span></legend>
<input type="hidden" name="${n('type')}" value="${b.type}">
<div class="block-tools">
<button type="submit" name="op" value="up:${index}" class="tool" data-op${attr('disabled', first)}><span aria-hidden="true">↑</span> Flytt opp</button>
<button type="submit" name="op" value="down:${index}" class="tool" data-op${attr('disabled', last)}><span aria-hidden="true">↓</span> Flytt ned</button>
<button type="submit" name="op" value="remove:${index}" class="tool tool-danger" data-op>Fjern</button>
</div>
${blockErrors.length ? html`<p class="field-error">${blockErrors.map((m) => html`<span>${nbMessage(m)}</span> `)}</p>` : ''}
${specific}
</fieldset></li>`;
}

/**
 * Beside a date field: the warning once the date has passed. The script shows and hides it as the
 * date is typed (its text is in `data-warning`), the server draws it for a saved draft.
 */
function pastDateNote(name: string, kind: keyof typeof PAST_DATE_WARNINGS, warning: string | null): SafeHtml {
  return html`<p class="field-warning" id="${fieldId(name)}-warning" data-past-date="${kind}" data-warning="${PAST_DATE_WARNINGS[kind]}" aria-live="polite">${warning ?? ''}</p>`;
}

/** The fields of one block type: title, text, link and image, plus what an activity or offer adds. */
function blockFields(
  b: BlockForm,
  n: (name: string) => string,
  e: (name: string) => string[] | undefined,
  warning: string | null,
): SafeHtml {
  const common = {
    title: field({
      name: n('title'),
      label: 'Tittel',
      value: b.title,
      required: true,
      maxlength: LIMITS.title,
      errors: e('title'),
    }),
    body: field({
      name: n('body'),
      label: 'Tekst',
      value: b.body,
      textarea: true,
      rows: 4,
      maxlength: LIMITS.body,
      hint: 'Ren tekst. En tom linje gir nytt avsnitt.',
      errors: e('body'),
    }),
    link: html`<div class="pair">
${field({ name: n('link.url'), label: 'Lenkeadresse', value: b.linkUrl, type: 'url', placeholder: 'https://', inputmode: 'url', hint: 'Må begynne med https://', errors: e('link.url') })}
${field({ name: n('link.label'), label: 'Lenketekst (knapp)', value: b.linkLabel, maxlength: LIMITS.linkLabel, errors: e('link.label') })}
</div>`,
    image: field({
      name: n('imageUrl'),
      label: 'Bildeadresse',
      value: b.imageUrl,
      type: 'url',
      placeholder: 'https://',
      inputmode: 'url',
      hint: 'Valgfritt. Adressen til et bilde, som begynner med https://',
      errors: e('imageUrl'),
    }),
  };
  if (b.type === 'activity') {
    return html`${common.title}
<div class="pair">
<div>${field({ name: n('startsAt'), label: 'Tidspunkt', value: b.startsAt, type: 'datetime-local', required: true, hint: 'Norsk tid.', errors: e('startsAt') })}
${pastDateNote(n('startsAt'), 'activity', warning)}</div>
${field({ name: n('location'), label: 'Sted', value: b.location, maxlength: LIMITS.location, errors: e('location') })}
</div>
${common.body}${common.image}${common.link}`;
  }
  if (b.type === 'news') return html`${common.title}${common.body}${common.image}${common.link}`;
  return html`${common.title}${common.body}
<div class="pair">
${field({ name: n('code'), label: 'Rabattkode', value: b.code, maxlength: LIMITS.code, errors: e('code') })}
<div>${field({ name: n('validUntil'), label: 'Gyldig til og med', value: b.validUntil, type: 'date', errors: e('validUntil') })}
${pastDateNote(n('validUntil'), 'offer', warning)}</div>
</div>
${common.link}`;
}

function audienceSection(
  form: CampaignForm,
  errors: Map<string, string[]>,
  audienceCount: number | null,
): SafeHtml {
  const srcErrors = errors.get('audience.sources') ?? [];
  return html`<section class="card" aria-labelledby="h-audience"><h2 id="h-audience">Mottakere</h2>
<fieldset class="checks${srcErrors.length ? ' has-error' : ''}" id="${fieldId('audience.sources')}">
<legend>Kilde</legend>
<p class="hint">Ingen avkrysning betyr alle aktive medlemmer, uansett kilde.</p>
${srcErrors.length ? html`<p class="field-error">${srcErrors.map((m) => html`<span>${nbMessage(m)}</span> `)}</p>` : ''}
<div class="check-row">${SOURCES.map(
    (s) =>
      html`<label class="check"><input type="checkbox" name="audience.sources" value="${s}"${attr('checked', form.sources.includes(s))}> ${SOURCE_LABELS[s]}</label>`,
  )}</div>
</fieldset>
${field({ name: 'audience.partnerIds', label: 'Salong-ID-er', value: form.partnerIds, hint: 'Valgfritt. Bare medlemmer knyttet til disse salongene, adskilt med komma.', errors: errors.get('audience.partnerIds') })}
<p class="audience-count" data-audience-count aria-live="polite">${audienceCount === null ? html`Antall mottakere vises når innholdet er gyldig.` : audienceText(audienceCount)}</p>
</section>`;
}

export function audienceText(count: number): SafeHtml {
  return html`<strong>${formatCount(count)}</strong> ${count === 1 ? 'medlem' : 'medlemmer'} får dette nyhetsbrevet`;
}

export function editorPage(ctx: PageContext, d: EditorData): string {
  const errors = errorsByField(d.errors);
  const action = d.id ? `/admin/campaigns/${d.id}/edit` : '/admin/campaigns/new';
  const title = d.id ? `Rediger «${d.form.name || 'uten navn'}»` : 'Nytt nyhetsbrev';
  const blocks = d.form.blocks.map((b, i) => blockFieldset(b, i, d.form.blocks.length, errors, d.now));
  const blockListErrors = errors.get('blocks') ?? [];
  const templates = BLOCK_TYPES.map(
    (t: BlockType) =>
      html`<template id="tpl-block-${t}">${blockFieldset(emptyBlock(t), '__i__', 0, new Map())}</template>`,
  );
  return page(
    { ...ctx, section: 'campaigns' },
    title,
    html`<div class="page-head"><p class="crumbs"><a href="/admin/campaigns">Nyhetsbrev</a></p>
<div class="row"><h1>${title}</h1>${badge('Utkast', 'draft')}${d.id ? html`<button type="submit" form="campaign-editor" name="op" value="copy" class="button secondary">Lag kopi</button>` : ''}</div></div>
${errorSummary(d.errors, campaignFieldLabel)}
<div class="editor"${d.focusBlock !== null ? html` data-focus-block="${d.focusBlock}"` : ''}>
<form id="campaign-editor" class="editor-form" method="post" action="${action}" novalidate data-preview-url="/admin/campaigns/preview">
${csrfField(ctx)}
<section class="card" aria-labelledby="h-content"><h2 id="h-content">Innhold</h2>
${field({ name: 'name', label: 'Navn', value: d.form.name, required: true, maxlength: MAX_NAME_LENGTH, hint: 'Bare til internt bruk, f.eks. «Desember 2026».', errors: errors.get('name') })}
${field({ name: 'subject', label: 'Emne', value: d.form.subject, required: true, maxlength: LIMITS.subject, hint: 'Emnefeltet mottakerne ser i innboksen.', errors: errors.get('subject') })}
${field({ name: 'preheader', label: 'Forhåndstekst', value: d.form.preheader, maxlength: LIMITS.preheader, hint: 'Valgfritt. Kort tekst som vises etter emnet i mange e-postprogrammer.', errors: errors.get('preheader') })}
</section>
<section class="card" aria-labelledby="h-blocks"><h2 id="h-blocks">Blokker</h2>
<p class="hint">Aktiviteter, nyheter og tilbud vises i denne rekkefølgen.</p>
${blockListErrors.length ? html`<p class="field-error" id="${fieldId('blocks')}">${blockListErrors.map((m) => html`<span>${nbMessage(m)}</span> `)}</p>` : ''}
<ol class="blocks" data-blocks>${blocks}</ol>
<p class="blocks-empty" data-blocks-empty${attr('hidden', d.form.blocks.length > 0)}>Ingen blokker ennå. Legg til en aktivitet, en nyhet eller et tilbud.</p>
<div class="add-blocks" role="group" aria-labelledby="add-label"><span id="add-label" class="add-label">Legg til:</span>
${BLOCK_TYPES.map((t) => html`<button type="submit" name="op" value="add:${t}" class="button secondary" data-op>+ ${BLOCK_TYPE_LABELS[t]}</button> `)}
</div>
</section>
${audienceSection(d.form, errors, d.audienceCount)}
<div class="editor-actions">
<button type="submit" name="op" value="save" class="button primary">Lagre utkast</button>
<button type="submit" name="op" value="test" class="button secondary" aria-describedby="test-hint">Send test til meg</button>
<button type="submit" name="op" value="send" class="button secondary">Gå videre til sending →</button>
<button type="submit" name="op" value="preview" class="button tertiary" data-noscript-only>Oppdater forhåndsvisning</button>
<p class="autosave-status small" data-autosave-status aria-live="polite"></p>
<p class="hint actions-hint" id="test-hint">Alle knappene lagrer først. Testen går til ${d.testAddress}, merket [TEST].</p>
</div>
</form>
<aside class="preview-pane" aria-labelledby="h-preview">
<div class="preview-head"><h2 id="h-preview">Forhåndsvisning</h2>
<fieldset class="segmented"><legend class="visually-hidden">Bredde</legend>
<input type="radio" name="preview-width" id="pw-desktop" value="600" checked><label for="pw-desktop">Desktop 600 px</label>
<input type="radio" name="preview-width" id="pw-mobile" value="375"><label for="pw-mobile">Mobil 375 px</label>
</fieldset></div>
<p class="preview-status muted small" data-preview-status aria-live="polite">${d.previewHtml ? 'Slik ser medlemmene nyhetsbrevet (med «Kari» som eksempelnavn).' : 'Forhåndsvisningen vises når emne og minst én gyldig blokk er fylt inn.'}</p>
<ul class="preview-errors" data-preview-errors hidden></ul>
<div class="preview-frame"><iframe title="Forhåndsvisning av nyhetsbrevet" sandbox srcdoc="${d.previewHtml ?? emptyPreview}" data-preview-frame></iframe></div>
</aside>
</div>
${templates}`,
    { wide: true },
  );
}

const emptyPreview =
  '<!doctype html><html lang="nb"><body style="margin:0;font:15px/1.5 Helvetica,Arial,sans-serif;color:#555;background:#f7f4ef;display:flex;align-items:center;justify-content:center;height:90vh"><p>Ingen forhåndsvisning ennå.</p></body></html>';

// ---- send ----

export function describeAudience(c: CampaignView): string {
  const parts: string[] = [];
  if (c.audience?.sources?.length)
    parts.push(`fra ${c.audience.sources.map((s) => SOURCE_LABELS[s]).join(', ')}`);
  if (c.audience?.partnerIds?.length) parts.push(`knyttet til ${c.audience.partnerIds.join(', ')}`);
  return parts.length ? `Aktive medlemmer ${parts.join(' og ')}` : 'Alle aktive medlemmer';
}

/**
 * Dates in the newsletter that have passed when it goes out: listed, and sending needs a tick
 * (`confirmPast`) that says the sender has seen them.
 */
function pastDatesWarning(past: PastDate[], confirmed: boolean, errors: string[] | undefined): SafeHtml | '' {
  if (past.length === 0) return '';
  const id = fieldId('confirmPast');
  return html`<div class="date-warning${errors?.length ? ' has-error' : ''}" data-past-dates>
<h2>Datoer som har vært</h2>
<ul>${past.map((p) => html`<li>Blokk ${p.index + 1}, ${p.type === 'activity' ? html`aktiviteten «${p.title}»: ${p.when}` : html`tilbudet «${p.title}»: gjaldt til og med ${p.when}`}</li>`)}</ul>
<p>Medlemmene får da en invitasjon til noe som har vært, eller et tilbud som er utløpt. Gå tilbake og rett datoene, eller bekreft at det skal sendes slik.</p>
${errors?.length ? html`<p class="field-error" id="${id}-error">${errors.map((m) => html`<span>${m}</span> `)}</p>` : ''}
<label class="check"><input type="checkbox" id="${id}" name="confirmPast" value="yes"${attr('checked', confirmed)}${errors?.length ? html` aria-invalid="true" aria-describedby="${id}-error"` : ''}> Jeg har sjekket datoene og vil sende likevel</label>
</div>`;
}

/** Each activity's time and offer's last day, with the year when it is not this year. */
function blockDates(c: CampaignView, now: Date): SafeHtml | '' {
  const dated = c.blocks.flatMap((b) =>
    b.type === 'activity'
      ? [html`<li>${b.title}: ${formatActivityTime(b.startsAt, now)}</li>`]
      : b.type === 'offer' && b.validUntil
        ? [html`<li>${b.title}: til og med ${formatValidUntil(b.validUntil, now)}</li>`]
        : [],
  );
  return dated.length ? html`<dt>Datoer</dt><dd><ul class="plain">${dated}</ul></dd>` : '';
}

export function sendConfirmPage(
  ctx: PageContext,
  d: {
    campaign: CampaignView;
    count: number;
    when: string;
    scheduledAt: string;
    errors: FieldError[];
    now: Date;
    pastDates: PastDate[];
    confirmPast: boolean;
  },
): string {
  const c = d.campaign;
  const errors = errorsByField(d.errors);
  return page(
    { ...ctx, section: 'campaigns' },
    `Send «${c.name}»`,
    html`<div class="page-head"><p class="crumbs"><a href="/admin/campaigns">Nyhetsbrev</a> › <a href="/admin/campaigns/${c.id}/edit">${c.name}</a></p>
<h1>Send «${c.name}»</h1></div>
${errorSummary(d.errors, (p) => (p === 'scheduledAt' ? 'Tidspunkt' : p === 'confirmPast' ? 'Datoer' : null))}
<section class="card narrow confirm">
<p class="recipient-count" data-recipient-count>${audienceText(d.count)}.</p>
<dl class="facts">
<dt>Emne</dt><dd>${c.subject}</dd>
${c.preheader ? html`<dt>Forhåndstekst</dt><dd>${c.preheader}</dd>` : ''}
<dt>Mottakere</dt><dd>${describeAudience(c)}</dd>
<dt>Blokker</dt><dd>${c.blocks.length}</dd>
${blockDates(c, d.now)}
</dl>
<p class="muted small">Antallet gjelder nå. Den endelige mottakerlisten låses når utsendelsen starter, og medlemmer som melder seg ut før sin tur, hoppes over.</p>
<form method="post" action="/admin/campaigns/${c.id}/send" novalidate>
${csrfField(ctx)}
<fieldset class="when"><legend>Når skal det sendes?</legend>
<label class="check"><input type="radio" name="when" value="now"${attr('checked', d.when !== 'later')}> Nå</label>
<label class="check"><input type="radio" name="when" value="later"${attr('checked', d.when === 'later')}> Senere, på et bestemt tidspunkt</label>
${field({ name: 'scheduledAt', label: 'Tidspunkt (norsk tid)', value: d.scheduledAt, type: 'datetime-local', hint: 'Brukes bare når «Senere» er valgt.', errors: errors.get('scheduledAt') })}
</fieldset>
${pastDatesWarning(d.pastDates, d.confirmPast, errors.get('confirmPast'))}
<div class="actions">
<button type="submit" class="button primary" data-confirm-send>Bekreft utsendelse til ${formatCount(d.count)} ${d.count === 1 ? 'medlem' : 'medlemmer'}</button>
<a class="button secondary" href="/admin/campaigns/${c.id}/edit">Tilbake til redigering</a>
</div>
</form>
</section>`,
  );
}

// ---- progress ----

export function progressPage(
  ctx: PageContext,
  d: {
    campaign: CampaignView;
    stats: CampaignStats;
    previewHtml: string | null;
    /** The guardrail's limits (BOUNCE_PAUSE_RATE, COMPLAINT_PAUSE_RATE), shown beside the rates. */
    limits?: { bounced: number; complained: number };
  },
): string {
  const c = d.campaign;
  const s = d.stats;
  return page(
    { ...ctx, section: 'campaigns' },
    c.name,
    html`<div class="page-head"><p class="crumbs"><a href="/admin/campaigns">Nyhetsbrev</a></p>
<div class="row"><h1>${c.name}</h1><span data-status-badge>${badge(CAMPAIGN_STATUS_LABELS[s.status], s.status)}</span></div>
<p class="muted">${c.subject}</p>
<form method="post" action="/admin/campaigns/${c.id}/copy" class="inline">${csrfField(ctx)}<button type="submit" class="button secondary">Lag kopi</button></form></div>
<div class="progress-layout">
<div>
${progressCard(ctx, c, s, d.limits)}
<section class="card" aria-labelledby="h-facts"><h2 id="h-facts">Om utsendelsen</h2>
<dl class="facts">
<dt>Emne</dt><dd>${c.subject}</dd>
${c.preheader ? html`<dt>Forhåndstekst</dt><dd>${c.preheader}</dd>` : ''}
<dt>Mottakere</dt><dd>${describeAudience(c)}</dd>
<dt>Blokker</dt><dd>${c.blocks.map((b) => b.title).join(' · ')}</dd>
${c.startedAt ? html`<dt>Startet</dt><dd>${formatLong(c.startedAt)}</dd>` : ''}
${c.finishedAt ? html`<dt>${s.status === 'cancelled' ? 'Avbrutt' : 'Ferdig'}</dt><dd>${formatLong(c.finishedAt)}</dd>` : ''}
</dl>
<p class="muted small">«Hoppet over» er medlemmer som meldte seg ut eller fikk begrenset behandling før sin tur. Hver mottaker får nyhetsbrevet én gang.</p>
</section>
${clicksCard(c, s)}
</div>
${
  d.previewHtml
    ? html`<aside class="card preview-side" aria-labelledby="h-sent-preview"><h2 id="h-sent-preview">Nyhetsbrevet</h2>
<p class="muted small">Slik det sendes, her i mobilbredde.</p>
<div class="preview-frame"><iframe title="Nyhetsbrevet slik det sendes" sandbox srcdoc="${d.previewHtml}"></iframe></div></aside>`
    : ''
}
</div>`,
    { noscriptRefreshSeconds: isLive(s) ? 5 : undefined, wide: true },
  );
}

/** «under 10»: a count withheld so that no one person's click can be read off. */
export const WITHHELD_CLICKS = `under ${MIN_REPORTED_CLICKS}`;

/** Clicks per block once sending began: counts without persons, withheld below the threshold. */
function clicksCard(c: CampaignView, s: CampaignStats): SafeHtml | '' {
  if (s.status === 'draft' || s.status === 'scheduled') return '';
  // The stats number the links as the render did; the blocks say which block each is in.
  const blockOf = new Map(newsletterLinks({ blocks: c.blocks }).map((l) => [l.n, l.block]));
  const links = s.clicks.map((k) => {
    const block = blockOf.get(k.n) ?? 0;
    return {
      label: `Blokk ${block + 1} · ${BLOCK_TYPE_LABELS[k.blockType]}: ${c.blocks[block]?.title ?? ''}`,
      detail: k.label,
      url: k.url,
      count: k.count,
      className: `bar-${k.blockType}`,
    };
  });
  return html`<section class="card" aria-labelledby="h-clicks"><h2 id="h-clicks">Klikk per blokk</h2>
${links.length ? linkClicksChart(links, WITHHELD_CLICKS) : html`<p>Nyhetsbrevet har ingen lenker å telle.</p>`}
<p class="muted small">Bare antallet klikk på hver lenke telles, aldri hvem som klikket. Færre enn ${MIN_REPORTED_CLICKS} klikk vises som «${WITHHELD_CLICKS}», så ingens klikk kan leses ut. Lenkesjekkere i e-postsystemer, forhåndsvisninger og testutsendelser telles ikke.</p>
</section>`;
}

const isLive = (s: CampaignStats) =>
  s.status === 'sending' || s.status === 'paused' || s.status === 'scheduled';

/** The figures the script keeps fresh, and the buttons the current status allows. */
function progressCard(
  ctx: PageContext,
  c: CampaignView,
  s: CampaignStats,
  limits?: { bounced: number; complained: number },
): SafeHtml {
  const action = (name: string, label: string, cls: string) =>
    html`<form method="post" action="/admin/campaigns/${c.id}/${name}" class="inline">${csrfField(ctx)}<button type="submit" class="button ${cls}">${label}</button></form>`;
  const actions = [
    s.status === 'sending' ? action('pause', 'Pause', 'secondary') : '',
    s.status === 'paused' ? action('resume', 'Fortsett', 'primary') : '',
    s.status === 'scheduled' ? action('send', 'Send nå i stedet', 'primary') : '',
    isLive(s)
      ? html`<a class="button danger-outline" href="/admin/campaigns/${c.id}/cancel">Avbryt utsendelsen</a>`
      : '',
  ];
  const pct = s.total > 0 ? Math.round(((s.sent + s.failed + s.skipped) / s.total) * 100) : 100;
  // A cancelled campaign has nothing in the queue: what was left is counted as not sent.
  const waiting =
    s.status === 'cancelled'
      ? html`<div><dt>Ikke sendt (avbrutt)</dt><dd data-stat="unsent">${formatCount(Math.max(0, s.total - s.sent - s.failed - s.skipped))}</dd></div>`
      : html`<div><dt>I kø</dt><dd data-stat="queued">${formatCount(s.queued)}</dd></div>`;
  return html`<section class="card progress-card" data-stats-url="/admin/campaigns/${c.id}/stats.json" data-status="${s.status}" aria-labelledby="h-progress">
<h2 id="h-progress">Fremdrift</h2>
${guardrailBanner(ctx, c, s, limits)}
${
  s.status === 'scheduled'
    ? html`<p class="big">Planlagt sendt <strong>${c.scheduledAt ? formatLong(c.scheduledAt) : ''}</strong> til ${audienceText(c.recipients ?? 0)}.</p>`
    : html`<p class="big"><strong data-stat="sent">${formatCount(s.sent)}</strong> av <strong data-stat="total">${formatCount(s.total)}</strong> sendt <span class="pct" data-stat-pct>${pct} %</span></p>
${progressBar(s, 'Sendt av totalt')}
<dl class="stat-row">
<div><dt>Sendt</dt><dd data-stat="sent">${formatCount(s.sent)}</dd></div>
${waiting}
<div><dt>Hoppet over</dt><dd data-stat="skipped">${formatCount(s.skipped)}</dd></div>
<div><dt>Feilet</dt><dd data-stat="failed">${formatCount(s.failed)}</dd></div>
<div><dt>Kom i retur</dt><dd data-stat="bounced">${formatCount(s.bounced)}</dd></div>
<div><dt>Spamklager</dt><dd data-stat="complained">${formatCount(s.complained)}</dd></div>
</dl>`
}
<p class="status-line" aria-live="polite" data-status-line>${statusLine(s.status)}</p>
<div class="actions">${actions}</div>
</section>`;
}

/** Share as «1,2 %» (Norwegian decimal comma). */
const percent = (part: number, whole: number) =>
  `${(whole > 0 ? (part / whole) * 100 : 0).toLocaleString('nb-NO', { maximumFractionDigits: 2 })} %`;

/**
 * When the guardrail paused the send (CONTRACT §9): why, the rates against their limits, and the
 * one way on, which is a person's decision.
 */
function guardrailBanner(
  ctx: PageContext,
  c: CampaignView,
  s: CampaignStats,
  limits?: { bounced: number; complained: number },
): SafeHtml | string {
  if (s.status !== 'paused' || (s.pausedReason !== 'bounce-rate' && s.pausedReason !== 'complaint-rate'))
    return '';
  const limit = (share: number | undefined) =>
    share === undefined ? '' : html` (grensen er ${percent(share, 1)})`;
  return html`<div class="guardrail" role="alert">
<h3>${PAUSED_REASON_LABELS[s.pausedReason]}</h3>
<p>${formatCount(s.bounced)} av ${formatCount(s.sent)} sendte kom i retur fordi adressen ikke virker: <strong>${percent(s.bounced, s.sent)}</strong>${limit(limits?.bounced)}. ${formatCount(s.complained)} mottakere meldte nyhetsbrevet som søppelpost: <strong>${percent(s.complained, s.sent)}</strong>${limit(limits?.complained)}.</p>
<p>Mange returer og klager får e-postleverandørene til å sortere all e-post fra oss som søppelpost. Sjekk hvor adressene kommer fra før du fortsetter.</p>
<form method="post" action="/admin/campaigns/${c.id}/resume" class="inline">${csrfField(ctx)}<button type="submit" class="button primary">Fortsett likevel</button></form>
</div>`;
}

export function statusLine(status: CampaignStats['status']): string {
  switch (status) {
    case 'sending':
      return 'Sendes nå. Siden oppdateres hvert sekund.';
    case 'paused':
      return 'Pauset. Ingen flere sendes før du fortsetter.';
    case 'scheduled':
      return 'Venter på planlagt tidspunkt.';
    case 'sent':
      return 'Ferdig sendt.';
    case 'cancelled':
      return 'Avbrutt. Ingen flere blir sendt.';
    default:
      return 'Utkast.';
  }
}

export function cancelConfirmPage(ctx: PageContext, c: CampaignView, s: CampaignStats): string {
  return page(
    { ...ctx, section: 'campaigns' },
    'Avbryte utsendelsen?',
    html`<section class="card narrow">
<h1>Avbryte «${c.name}»?</h1>
<p>${formatCount(s.sent)} av ${formatCount(s.total)} er allerede sendt. ${s.status === 'scheduled' ? 'Nyhetsbrevet blir ikke sendt.' : `De ${formatCount(s.queued)} som står i kø, får det ikke.`} Dette kan ikke angres.</p>
<form method="post" action="/admin/campaigns/${c.id}/cancel" class="actions">
${csrfField(ctx)}
<button type="submit" class="button danger">Ja, avbryt utsendelsen</button>
<a class="button secondary" href="/admin/campaigns/${c.id}">Nei, gå tilbake</a>
</form></section>`,
  );
}
