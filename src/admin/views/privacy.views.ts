import { html, type HtmlValue } from '../../presentation/escape';
import type { FieldError } from '../../errors';
import type { PrivacyRequestView } from '../../privacy/privacy-requests.service';
import type { MemberView } from '../../members/members.service';
import { REQUEST_OUTCOMES, REQUEST_TYPES } from '../../privacy/privacy-request.entity';
import {
  CHANNEL_LABELS,
  MEMBER_STATUS_LABELS,
  REQUEST_OUTCOME_LABELS,
  REQUEST_TYPE_LABELS,
  labelOf,
} from '../../presentation/labels';
import { formatDate, formatShort } from '../../presentation/oslo-time';
import { badge, csrfField, errorSummary, field, page, selectField, type PageContext } from './layout';

/** The correction form: names, phone and salon as typed (an empty field clears the value). */
export interface RectifyForm {
  firstName: string;
  lastName: string;
  phone: string;
  partnerId: string;
}

export interface RequestForm {
  type: string;
  email: string;
  receivedAt: string;
  channel: string;
  note: string;
}

/** How a request can arrive; stored as the code, shown by its label. */
const REQUEST_CHANNELS = ['email', 'phone', 'letter', 'in-person', 'other'];

const REQUEST_FIELD_LABELS: Record<string, string> = {
  type: 'Type',
  email: 'E-postadresse',
  receivedAt: 'Mottatt',
  channel: 'Kanal',
  note: 'Merknad',
  outcome: 'Utfall',
  firstName: 'Fornavn',
  lastName: 'Etternavn',
  phone: 'Telefon',
  partnerId: 'Salong-ID',
};

const fieldLabel = (p: string) => REQUEST_FIELD_LABELS[p] ?? null;

function errorsByField(errors: FieldError[]): Map<string, string[]> {
  const errs = new Map<string, string[]>();
  for (const e of errors) errs.set(e.path, [...(errs.get(e.path) ?? []), e.message]);
  return errs;
}

function requestBadge(r: PrivacyRequestView) {
  if (r.status === 'done') return badge('Lukket', 'sent');
  return r.overdue ? badge('Forfalt', 'overdue') : badge('Åpen', 'open');
}

export function privacyPage(
  ctx: PageContext,
  d: { open: PrivacyRequestView[]; closed: PrivacyRequestView[]; form: RequestForm; errors: FieldError[] },
): string {
  const errs = new Map<string, string[]>();
  for (const e of d.errors) errs.set(e.path, [...(errs.get(e.path) ?? []), e.message]);
  const overdue = d.open.filter((r) => r.overdue).length;
  const openRows = d.open.map(
    (r) => html`<tr${r.overdue ? html` class="overdue"` : ''}>
<td><strong>${formatDate(r.dueAt)}</strong>${r.overdue ? html` ${badge('Forfalt', 'overdue')}` : ''}</td>
<th scope="row"><a href="/admin/privacy/requests/${r.id}">${REQUEST_TYPE_LABELS[r.type]} #${r.id}</a></th>
<td>${r.email ? (r.memberId ? html`<a href="/admin/members/${r.memberId}">${r.email}</a>` : r.email) : html`<span class="muted">fjernet</span>`}</td>
<td>${formatDate(r.receivedAt)}</td>
<td>${CHANNEL_LABELS[r.channel] ?? r.channel}</td></tr>`,
  );
  const closedRows = d.closed.map(
    (
      r,
    ) => html`<tr><th scope="row"><a href="/admin/privacy/requests/${r.id}">${REQUEST_TYPE_LABELS[r.type]} #${r.id}</a></th>
<td>${formatDate(r.receivedAt)}</td><td>${r.closedAt ? formatDate(r.closedAt) : '–'}</td><td>${r.outcome ? labelOf(REQUEST_OUTCOME_LABELS, r.outcome) : '–'}</td></tr>`,
  );
  return page(
    { ...ctx, section: 'privacy' },
    'Personvern',
    html`<div class="page-head"><h1>Personvern</h1>
<p class="muted">Forespørsler fra medlemmer om innsyn, retting, sletting og mer. Fristen er én måned fra mottak.</p></div>
<section class="card flush" aria-labelledby="h-open"><h2 id="h-open" class="pad">Åpne forespørsler <span class="count">${d.open.length}</span>${overdue ? html` <span class="badge badge-overdue">${overdue} forfalt</span>` : ''}</h2>
${
  d.open.length
    ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Åpne forespørsler"><table class="data">
<thead><tr><th scope="col">Frist</th><th scope="col">Forespørsel</th><th scope="col">E-post</th><th scope="col">Mottatt</th><th scope="col">Kanal</th></tr></thead>
<tbody>${openRows}</tbody></table></div>`
    : html`<p class="empty">Ingen åpne forespørsler.</p>`
}
</section>
<div class="grid-2">
<section class="card" aria-labelledby="h-new"><h2 id="h-new">Registrer en forespørsel</h2>
${errorSummary(d.errors, fieldLabel)}
<form method="post" action="/admin/privacy/requests" novalidate>
${csrfField(ctx)}
${selectField({ name: 'type', label: 'Type', value: d.form.type, options: REQUEST_TYPES.map((t): [string, string] => [t, REQUEST_TYPE_LABELS[t]]), errors: errs.get('type') })}
${field({ name: 'email', label: 'Personens e-postadresse', value: d.form.email, type: 'email', required: true, autocomplete: 'off', errors: errs.get('email') })}
<div class="pair">
${field({ name: 'receivedAt', label: 'Mottatt (norsk tid)', value: d.form.receivedAt, type: 'datetime-local', required: true, errors: errs.get('receivedAt') })}
${selectField({ name: 'channel', label: 'Kanal', value: d.form.channel, options: REQUEST_CHANNELS.map((c): [string, string] => [c, CHANNEL_LABELS[c] ?? c]), errors: errs.get('channel') })}
</div>
${field({ name: 'note', label: 'Merknad', value: d.form.note, textarea: true, rows: 3, hint: 'Valgfritt. Skriv bare det som trengs for å behandle saken.', errors: errs.get('note') })}
<button type="submit" class="button primary">Registrer</button>
</form></section>
<section class="card flush" aria-labelledby="h-closed"><h2 id="h-closed" class="pad">Sist lukket</h2>
${
  d.closed.length
    ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Sist lukket"><table class="data"><thead><tr><th scope="col">Forespørsel</th><th scope="col">Mottatt</th><th scope="col">Lukket</th><th scope="col">Utfall</th></tr></thead>
<tbody>${closedRows}</tbody></table></div>`
    : html`<p class="empty">Ingen lukkede forespørsler ennå.</p>`
}
</section>
</div>`,
    { wide: true },
  );
}

/** What each type of request asks staff to do, before closing it with an outcome. */
const TYPE_GUIDANCE: Record<string, string> = {
  access: 'Last ned en kopi av opplysningene og send den til personen på en sikker måte.',
  portability: 'Last ned opplysningene (JSON, et maskinlesbart format) og send filen til personen.',
  rectification: 'Rett opplysningene slik personen ber om. Endringen registreres i samtykkehistorikken.',
  restriction: 'Begrens behandlingen: medlemmet beholdes, men får ingen e-post før begrensningen oppheves.',
  objection:
    'Begrens behandlingen mens innsigelsen vurderes, eller slett medlemmet hvis personen ikke vil ha nyhetsbrev.',
  erasure: 'Slett medlemmet. Forespørselen lukkes samtidig.',
  complaint: 'Klager behandles utenfor tjenesten. Skriv kort i merknaden hva som er gjort.',
};

export function requestPage(
  ctx: PageContext,
  d: {
    request: PrivacyRequestView;
    /** The member with the request's address now, if any. */
    member: MemberView | null;
    close: { outcome: string; note: string; errors: FieldError[] };
    rectify: { form: RectifyForm; errors: FieldError[] } | null;
  },
): string {
  const r = d.request;
  const m = d.member;
  const closeErrs = errorsByField(d.close.errors);
  const open = r.status === 'open';
  return page(
    { ...ctx, section: 'privacy' },
    `${REQUEST_TYPE_LABELS[r.type]} #${r.id}`,
    html`<div class="page-head"><p class="crumbs"><a href="/admin/privacy">Personvern</a></p>
<div class="row"><h1>${REQUEST_TYPE_LABELS[r.type]} #${r.id}</h1>${requestBadge(r)}</div></div>
${errorSummary(d.close.errors, fieldLabel, 'Noe må rettes før forespørselen kan lukkes')}
${errorSummary(d.rectify?.errors ?? [], fieldLabel)}
<div class="grid-2">
<section class="card" aria-labelledby="h-facts"><h2 id="h-facts">Forespørselen</h2>
<dl class="facts">
<dt>Type</dt><dd>${REQUEST_TYPE_LABELS[r.type]}</dd>
<dt>E-post</dt><dd>${r.email ?? html`<span class="muted">Fjernet – personen har meldt seg ut eller er slettet</span>`}</dd>
<dt>Mottatt</dt><dd>${formatShort(r.receivedAt)} (${CHANNEL_LABELS[r.channel] ?? r.channel})</dd>
<dt>Frist</dt><dd${r.overdue ? html` class="overdue-text"` : ''}>${formatDate(r.dueAt)}${r.overdue ? ' – forfalt' : ''}</dd>
${r.note ? html`<dt>Merknad</dt><dd class="prewrap">${r.note}</dd>` : ''}
${r.outcome ? html`<dt>Utfall</dt><dd>${labelOf(REQUEST_OUTCOME_LABELS, r.outcome)}</dd>` : ''}
${r.closedAt ? html`<dt>Lukket</dt><dd>${formatShort(r.closedAt)}</dd>` : ''}
</dl></section>
${memberCard(m)}
</div>
${open ? actionsCard(ctx, r, m, d.rectify) : ''}
${
  open
    ? html`<section class="card" aria-labelledby="h-close"><h2 id="h-close">Lukk forespørselen</h2>
<p class="hint">Når saken er behandlet: velg utfallet. Det blir stående i loggen som dokumentasjon.</p>
<form method="post" action="/admin/privacy/requests/${r.id}/close" novalidate>
${csrfField(ctx)}
${selectField({ name: 'outcome', label: 'Utfall (må velges)', value: d.close.outcome, options: [['', 'Velg utfall …'], ...REQUEST_OUTCOMES.map((o): [string, string] => [o, REQUEST_OUTCOME_LABELS[o]])], errors: closeErrs.get('outcome') })}
${field({ name: 'note', label: 'Merknad', value: d.close.note, textarea: true, rows: 3, hint: 'Valgfritt. Skriv bare det som trengs som dokumentasjon.', errors: closeErrs.get('note') })}
<button type="submit" class="button primary">Lukk forespørselen</button>
</form></section>`
    : ''
}`,
    { wide: true },
  );
}

function memberCard(m: MemberView | null) {
  if (!m)
    return html`<section class="card" aria-labelledby="h-member"><h2 id="h-member">Medlemmet</h2>
<p class="muted">Ingen medlem har denne adressen nå. Lukk forespørselen med utfallet.</p></section>`;
  const name = [m.firstName, m.lastName].filter(Boolean).join(' ');
  return html`<section class="card" aria-labelledby="h-member"><h2 id="h-member">Medlemmet</h2>
<dl class="facts">
<dt>Status</dt><dd>${badge(MEMBER_STATUS_LABELS[m.status], m.status)}</dd>
<dt>Navn</dt><dd>${name || '–'}</dd>
<dt>Telefon</dt><dd>${m.phone ?? '–'}</dd>
<dt>Salong</dt><dd>${m.partnerId ?? '–'}</dd>
</dl>
<p><a href="/admin/members/${m.id}">Se medlemmet og samtykkehistorikken</a></p></section>`;
}

/** The actions the request's type needs, each returning to this page. */
function actionsCard(
  ctx: PageContext,
  r: PrivacyRequestView,
  m: MemberView | null,
  rectify: { form: RectifyForm; errors: FieldError[] } | null,
) {
  if (!m) return '';
  const back = html`<input type="hidden" name="requestId" value="${r.id}">`;
  const exportForm = html`<form method="post" action="/admin/privacy/members/${m.id}/export">${csrfField(ctx)}
<button type="submit" class="button secondary">Last ned opplysningene (JSON)</button>
<p class="hint">Alle opplysninger om medlemmet. Utleveringen registreres i samtykkehistorikken.</p></form>`;
  const restricted = m.status === 'restricted';
  const restrictForm = html`<form method="post" action="/admin/privacy/members/${m.id}/restrict">${csrfField(ctx)}${back}
<input type="hidden" name="restricted" value="${restricted ? 'false' : 'true'}">
<button type="submit" class="button secondary">${restricted ? 'Opphev begrensningen' : 'Begrens behandlingen'}</button>
<p class="hint">${restricted ? 'Medlemmet får nyhetsbrev igjen hvis det var aktivt før.' : 'Medlemmet beholdes, men får ingen e-post og endres ikke av nye innmeldinger (art. 18).'}</p></form>`;
  const eraseLink =
    r.type === 'erasure'
      ? html`<div><a class="button danger" href="/admin/privacy/requests/${r.id}/erase">Slett medlemmet og lukk forespørselen …</a>
<p class="hint">Du må bekrefte på neste side.</p></div>`
      : html`<div><a class="button danger-outline" href="/admin/privacy/members/${m.id}/erase?request=${r.id}">Slett medlemmet …</a>
<p class="hint">Du må bekrefte på neste side.</p></div>`;
  const actions: Record<string, HtmlValue> = {
    access: exportForm,
    portability: exportForm,
    rectification: rectify ? rectifyFields(ctx, m, rectify.form, rectify.errors, r.id) : '',
    restriction: restrictForm,
    objection: html`${restrictForm}${eraseLink}`,
    erasure: eraseLink,
    complaint: '',
  };
  return html`<section class="card" aria-labelledby="h-actions"><h2 id="h-actions">Behandle</h2>
<p>${TYPE_GUIDANCE[r.type] ?? ''}</p>
<div class="stack">${actions[r.type] ?? ''}</div></section>`;
}

/** The correction form, on a request's page or its own; it posts to the members room's rectification. */
function rectifyFields(
  ctx: PageContext,
  m: MemberView,
  form: RectifyForm,
  errors: FieldError[],
  requestId: number | undefined,
) {
  const errs = errorsByField(errors);
  return html`<form method="post" action="/admin/privacy/members/${m.id}/rectify" novalidate>
${csrfField(ctx)}${requestId ? html`<input type="hidden" name="requestId" value="${requestId}">` : ''}
<div class="pair">
${field({ name: 'firstName', label: 'Fornavn', value: form.firstName, maxlength: 100, autocomplete: 'off', errors: errs.get('firstName') })}
${field({ name: 'lastName', label: 'Etternavn', value: form.lastName, maxlength: 100, autocomplete: 'off', errors: errs.get('lastName') })}
</div>
<div class="pair">
${field({ name: 'phone', label: 'Telefon', value: form.phone, inputmode: 'tel', autocomplete: 'off', hint: 'F.eks. +4791234567.', errors: errs.get('phone') })}
${field({ name: 'partnerId', label: 'Salong-ID', value: form.partnerId, maxlength: 100, autocomplete: 'off', errors: errs.get('partnerId') })}
</div>
<p class="hint">Et tomt felt fjerner opplysningen. E-postadressen rettes av medlemmet selv, i appen.</p>
<button type="submit" class="button primary">Lagre rettingen</button>
</form>`;
}

/** /admin/privacy/members/:id/rectify: the correction on its own page, with a way back. */
export function rectifyPage(
  ctx: PageContext,
  d: {
    member: MemberView;
    form: RectifyForm;
    errors: FieldError[];
    requestId: number | undefined;
    back: string;
  },
): string {
  const m = d.member;
  return page(
    { ...ctx, section: 'privacy' },
    'Rett opplysninger',
    html`<div class="page-head"><p class="crumbs"><a href="${d.back}">${d.requestId ? `Forespørsel #${d.requestId}` : (m.email ?? `Medlem ${m.id}`)}</a></p>
<h1>Rett opplysninger</h1>
<p class="muted">${m.email ?? `Medlem ${m.id}`}</p></div>
${errorSummary(d.errors, fieldLabel)}
<section class="card narrow">
${rectifyFields(ctx, m, d.form, d.errors, d.requestId)}
<p><a href="${d.back}">Avbryt</a></p>
</section>`,
  );
}
