import { html } from '../../presentation/escape';
import type { FieldError } from '../../errors';
import type { PrivacyRequestView } from '../../privacy/privacy-requests.service';
import { REQUEST_TYPES } from '../../privacy/privacy-request.entity';
import { CHANNEL_LABELS, REQUEST_TYPE_LABELS } from '../../presentation/labels';
import { formatDate, formatShort } from '../../presentation/oslo-time';
import { badge, csrfField, errorSummary, field, page, selectField, type PageContext } from './layout';

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
};

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
<td>${formatDate(r.receivedAt)}</td><td>${r.closedAt ? formatDate(r.closedAt) : '–'}</td><td>${r.outcome ?? '–'}</td></tr>`,
  );
  return page(
    { ...ctx, section: 'privacy' },
    'Personvern',
    html`<div class="page-head"><h1>Personvern</h1>
<p class="muted">Forespørsler fra medlemmer om innsyn, retting, sletting og mer. Fristen er én måned fra mottak.</p></div>
<section class="card flush" aria-labelledby="h-open"><h2 id="h-open" class="pad">Åpne forespørsler <span class="count">${d.open.length}</span>${overdue ? html` <span class="badge badge-overdue">${overdue} forfalt</span>` : ''}</h2>
${
  d.open.length
    ? html`<div class="table-wrap"><table class="data">
<thead><tr><th scope="col">Frist</th><th scope="col">Forespørsel</th><th scope="col">E-post</th><th scope="col">Mottatt</th><th scope="col">Kanal</th></tr></thead>
<tbody>${openRows}</tbody></table></div>`
    : html`<p class="empty">Ingen åpne forespørsler.</p>`
}
</section>
<div class="grid-2">
<section class="card" aria-labelledby="h-new"><h2 id="h-new">Registrer en forespørsel</h2>
${errorSummary(d.errors, (p) => REQUEST_FIELD_LABELS[p] ?? null)}
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
    ? html`<div class="table-wrap"><table class="data"><thead><tr><th scope="col">Forespørsel</th><th scope="col">Mottatt</th><th scope="col">Lukket</th><th scope="col">Utfall</th></tr></thead>
<tbody>${closedRows}</tbody></table></div>`
    : html`<p class="empty">Ingen lukkede forespørsler ennå.</p>`
}
</section>
</div>`,
    { wide: true },
  );
}

export function requestPage(
  ctx: PageContext,
  d: { request: PrivacyRequestView; errors: FieldError[]; outcome: string; note: string },
): string {
  const r = d.request;
  const errs = new Map(d.errors.map((e) => [e.path, [e.message]]));
  return page(
    { ...ctx, section: 'privacy' },
    `${REQUEST_TYPE_LABELS[r.type]} #${r.id}`,
    html`<div class="page-head"><p class="crumbs"><a href="/admin/privacy">Personvern</a></p>
<div class="row"><h1>${REQUEST_TYPE_LABELS[r.type]} #${r.id}</h1>${requestBadge(r)}</div></div>
<div class="grid-2">
<section class="card" aria-labelledby="h-facts"><h2 id="h-facts">Forespørselen</h2>
<dl class="facts">
<dt>Type</dt><dd>${REQUEST_TYPE_LABELS[r.type]}</dd>
<dt>E-post</dt><dd>${r.email ?? html`<span class="muted">Fjernet – personen har meldt seg ut eller er slettet</span>`}</dd>
${r.memberId ? html`<dt>Medlem</dt><dd><a href="/admin/members/${r.memberId}">Se medlemmet</a></dd>` : ''}
<dt>Mottatt</dt><dd>${formatShort(r.receivedAt)} (${CHANNEL_LABELS[r.channel] ?? r.channel})</dd>
<dt>Frist</dt><dd${r.overdue ? html` class="overdue-text"` : ''}>${formatDate(r.dueAt)}${r.overdue ? ' – forfalt' : ''}</dd>
${r.note ? html`<dt>Merknad</dt><dd class="prewrap">${r.note}</dd>` : ''}
${r.outcome ? html`<dt>Utfall</dt><dd>${r.outcome}</dd>` : ''}
${r.closedAt ? html`<dt>Lukket</dt><dd>${formatShort(r.closedAt)}</dd>` : ''}
</dl></section>
${
  r.status === 'open'
    ? html`<section class="card" aria-labelledby="h-close"><h2 id="h-close">Behandle</h2>
${
  r.type === 'erasure' && r.memberId
    ? html`<p><a class="button danger" href="/admin/privacy/requests/${r.id}/erase">Slett medlemmet og lukk forespørselen …</a></p>
<p class="hint">Du må bekrefte på neste side.</p><hr>`
    : r.type === 'erasure'
      ? html`<p class="muted">Ingen medlem har denne adressen nå. Lukk forespørselen med utfallet.</p>`
      : ''
}
<form method="post" action="/admin/privacy/requests/${r.id}/close" novalidate>
${csrfField(ctx)}
${field({ name: 'outcome', label: 'Utfall', value: d.outcome, maxlength: 200, hint: 'F.eks. «Innsyn sendt på e-post».', errors: errs.get('outcome') })}
${field({ name: 'note', label: 'Merknad', value: d.note || r.note || '', textarea: true, rows: 3, errors: errs.get('note') })}
<button type="submit" class="button primary">Lukk forespørselen</button>
</form></section>`
    : ''
}
</div>`,
    { wide: true },
  );
}
