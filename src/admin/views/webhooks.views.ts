import { html } from '../../presentation/escape';
import type { FieldError } from '../../errors';
import { EVENT_TYPES } from '../../events/event-log';
import type { WebhookView } from '../../events/webhooks.service';
import { EVENT_TYPE_LABELS, WEBHOOK_DISABLED_LABELS, labelOf } from '../../presentation/labels';
import { formatShort } from '../../presentation/oslo-time';
import { nbMessage } from '../../presentation/messages';
import { badge, csrfField, errorSummary, field, page, type PageContext } from './layout';

export interface WebhookForm {
  url: string;
  events: string[];
  sources: string;
}

const FIELD_LABELS: Record<string, string> = { url: 'Adresse', events: 'Hendelser', sources: 'Kilder' };

function status(w: WebhookView) {
  if (w.disabledAt)
    return html`${badge('Slått av', 'overdue')} <span class="muted">${labelOf(WEBHOOK_DISABLED_LABELS, w.disabledReason ?? '')}, ${formatShort(new Date(w.disabledAt))}</span>`;
  if (w.failingSince)
    return html`${badge('Feiler', 'paused')} <span class="muted">siden ${formatShort(new Date(w.failingSince))}</span>`;
  return badge('Aktiv', 'sent');
}

/** GET /admin/webhooks: the apps' endpoints, their last result, failures and state; add, test, delete. */
export function webhooksPage(
  ctx: PageContext,
  d: {
    items: WebhookView[];
    form: WebhookForm;
    errors: FieldError[];
    created?: { id: number; secret: string };
  },
): string {
  const errs = new Map<string, string[]>();
  for (const e of d.errors) {
    const key = e.path.split('.')[0];
    errs.set(key, [...(errs.get(key) ?? []), e.message]);
  }
  const rows = d.items.map(
    (w) => html`<tr>
<th scope="row">#${w.id} <code>${w.url}</code></th>
<td>${w.events.map((e) => labelOf(EVENT_TYPE_LABELS, e)).join(', ')}${w.sources ? html`<br><span class="muted">Kilder: ${w.sources.join(', ')}</span>` : ''}</td>
<td>${status(w)}</td>
<td>${w.lastAttemptAt ? html`${formatShort(new Date(w.lastAttemptAt))}: ${w.lastResult ?? ''}` : html`<span class="muted">ingen ennå</span>`}</td>
<td>${w.pendingDeliveries}</td>
<td><form method="post" action="/admin/webhooks/${w.id}/test" class="inline">${csrfField(ctx)}<button type="submit" class="button secondary">Send test</button></form>
<form method="post" action="/admin/webhooks/${w.id}/delete" class="inline">${csrfField(ctx)}<button type="submit" class="button danger">Slett</button></form></td>
</tr>`,
  );
  const eventErrors = errs.get('events') ?? [];
  return page(
    { ...ctx, section: 'webhooks' },
    'Webhooks',
    html`<div class="page-head"><h1>Webhooks</h1>
<p class="muted">Appene får vite hva som skjer med medlemmene de har meldt inn: bekreftelse, utmelding, sletting og mer. Hver melding signeres med mottakerens hemmelighet (Standard Webhooks).</p></div>
${
  d.created
    ? html`<div class="flash" role="status"><p><strong>Mottaker #${d.created.id} er lagt til.</strong> Kopier hemmeligheten nå; den vises bare denne ene gangen:</p>
<p><code>${d.created.secret}</code></p></div>`
    : ''
}
<section class="card flush" aria-labelledby="h-list"><h2 id="h-list" class="pad">Mottakere <span class="count">${d.items.length}</span></h2>
${
  d.items.length
    ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Mottakere"><table class="data"><thead><tr><th scope="col">Adresse</th><th scope="col">Hendelser</th><th scope="col">Tilstand</th><th scope="col">Siste forsøk</th><th scope="col">Venter</th><th scope="col"><span class="visually-hidden">Handlinger</span></th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="pad muted">Ingen mottakere ennå.</p>`
}
</section>
<section class="card" aria-labelledby="h-new"><h2 id="h-new">Ny mottaker</h2>
${errorSummary(d.errors, (p) => FIELD_LABELS[p.split('.')[0]] ?? null)}
<form method="post" action="/admin/webhooks">${csrfField(ctx)}
${field({ name: 'url', label: 'Adresse', value: d.form.url, type: 'url', required: true, errors: errs.get('url'), hint: 'https://… (http bare utenfor produksjon)' })}
<fieldset class="field${eventErrors.length ? ' has-error' : ''}"><legend>Hendelser</legend>
${eventErrors.length ? html`<p class="field-error">${eventErrors.map((e) => html`<span>${nbMessage(e)}</span> `)}</p>` : ''}
${EVENT_TYPES.map(
  (e) =>
    html`<label class="check"><input type="checkbox" name="events" value="${e}"${d.form.events.includes(e) ? html` checked` : ''}> ${EVENT_TYPE_LABELS[e]} <code>${e}</code></label>`,
)}
</fieldset>
${field({ name: 'sources', label: 'Kilder', value: d.form.sources, errors: errs.get('sources'), hint: 'Valgfritt: bare medlemmer fra disse kildene, kommaseparert (f.eks. osme-mobile)' })}
<button type="submit" class="button primary">Legg til</button>
</form></section>`,
  );
}
