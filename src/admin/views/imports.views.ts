import { html, type SafeHtml } from '../../presentation/escape';
import type { ImportView } from '../../imports/imports.schema';
import { IMPORT_STATUS_LABELS } from '../../presentation/labels';
import { nbMessage } from '../../presentation/messages';
import { formatShort } from '../../presentation/oslo-time';
import { badge, csrfField, formatCount, page, type PageContext } from './layout';

/** The column names of an import file, as staff read them. */
const COLUMN_LABELS: Record<string, string> = {
  email: 'E-post',
  firstName: 'Fornavn',
  lastName: 'Etternavn',
  phone: 'Telefon',
  partnerId: 'Salong-ID',
  externalId: 'Ekstern ID',
  consentTextVersion: 'Samtykketekst',
  consentGivenAt: 'Samtykke gitt',
};

const STATUS_BADGE: Record<string, string> = {
  running: 'sending',
  completed: 'sent',
  failed: 'overdue',
  interrupted: 'paused',
};

/** Why a file could not be taken at all, by problem type; the limit is filled in. */
export function fileProblemText(type: string, maxBytes: number): string {
  const texts: Record<string, string> = {
    'too-large': `Filen er for stor. En import kan være på høyst ${sizeText(maxBytes)}; del filen i flere.`,
    'empty-file': 'Filen er tom. Velg en CSV-fil med medlemmer.',
    'not-csv':
      'Filen er ikke en CSV-fil. Lagre regnearket som «CSV UTF-8 (kommadelt)» eller «CSV (semikolondelt)» i Excel, og velg den filen.',
    'no-header':
      'Filen mangler overskriftsraden. Den første raden må navngi kolonnene, for eksempel email;firstName;lastName.',
    'no-email-column':
      'Filen har ingen kolonne som heter email. Den første raden må ha en kolonne email med e-postadressene.',
    'duplicate-column': 'En kolonne står to ganger i overskriftsraden.',
    'no-file': 'Velg en fil.',
    'not-the-same-file':
      'Dette er ikke den samme filen som ble kontrollert. Kontroller filen på nytt før du importerer den.',
    aborted: 'Opplastingen ble avbrutt. Prøv igjen.',
  };
  return texts[type] ?? 'Filen kunne ikke leses.';
}

const n = (v: number) => formatCount(v);

/** «100 MB», or «1 kB» for a limit under a megabyte. */
export const sizeText = (bytes: number) =>
  bytes >= 1024 * 1024 ? `${n(Math.floor(bytes / 1024 / 1024))} MB` : `${n(Math.ceil(bytes / 1024))} kB`;
const percent = (v: ImportView) => Math.round(v.progress * 100);

function counts(v: ImportView, live: boolean): SafeHtml {
  const c = (key: string, value: number) =>
    live ? html`<span data-count="${key}">${n(value)}</span>` : html`${n(value)}`;
  const s = v.skipped;
  return html`<dl class="facts">
<dt>Rader lest</dt><dd>${c('rows', v.rows)}</dd>
<dt>Nye aktive medlemmer</dt><dd>${c('created', v.created)}</dd>
<dt>Nye som venter på bekreftelse</dt><dd>${c('pending', v.pending)}</dd>
<dt>Uendret (er medlem fra før)</dt><dd>${c('unchanged', v.unchanged)}</dd>
<dt>Hoppet over: meldt ut</dt><dd>${c('skipped.unsubscribed', s.unsubscribed)}</dd>
<dt>Hoppet over: slettet tidligere (sperreliste)</dt><dd>${c('skipped.suppressed', s.suppressed)}</dd>
<dt>Hoppet over: behandling begrenset</dt><dd>${c('skipped.restricted', s.restricted)}</dd>
<dt>Hoppet over: adressen virker ikke</dt><dd>${c('skipped.bounced', s.bounced)}</dd>
<dt>Hoppet over: feil i raden</dt><dd>${c('skipped.invalid', s.invalid)}</dd>
<dt>Hoppet over: adressen står flere ganger</dt><dd>${c('skipped.duplicate', s.duplicate)}</dd>
</dl>`;
}

function errorTable(v: ImportView): SafeHtml {
  if (v.errors.length === 0) return html``;
  const shown = v.errors.length;
  return html`<section class="card flush" aria-labelledby="h-errors"><h2 id="h-errors" class="pad">Rader med feil <span class="count">${v.skipped.invalid}</span></h2>
<p class="pad muted">${v.skipped.invalid > shown ? `De første ${shown} feilene. ` : ''}Radnummeret er raden i regnearket; overskriften er rad 1. Radene med feil er ikke importert.</p>
<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Rader med feil"><table class="data"><thead><tr><th scope="col">Rad</th><th scope="col">Kolonne</th><th scope="col">Feil</th></tr></thead>
<tbody>${v.errors.map(
    (e) =>
      html`<tr><th scope="row" class="num">${e.row}</th><td>${e.path ? (COLUMN_LABELS[e.path] ?? e.path) : 'Hele raden'}</td><td>${nbMessage(e.message)}</td></tr>`,
  )}</tbody></table></div></section>`;
}

function ignored(v: ImportView): SafeHtml {
  if (v.ignoredColumns.length === 0) return html``;
  return html`<p>Disse kolonnene kjenner importen ikke, og de er hoppet over: ${v.ignoredColumns.map((c, i) => html`${i ? ', ' : ''}<code>${c}</code>`)}.</p>`;
}

function consentChoice(value: string): SafeHtml {
  return html`<fieldset><legend>Rader uten samtykke</legend>
<label class="check"><input type="radio" name="withoutConsent" value="reject"${value !== 'confirm' ? html` checked` : ''}> Hopp over dem</label>
<label class="check"><input type="radio" name="withoutConsent" value="confirm"${value === 'confirm' ? html` checked` : ''}> Send dem en e-post der de bekrefter medlemskapet (de blir medlem først når de har bekreftet)</label>
</fieldset>`;
}

/** GET /admin/imports: what a file must hold, the upload for the check, the latest imports. */
export function importsPage(
  ctx: PageContext,
  d: { maxBytes: number; items: ImportView[]; problem?: string; withoutConsent?: string },
): string {
  const rows = d.items.map(
    (v) => html`<tr>
<th scope="row"><a href="/admin/imports/${v.id}">${formatShort(v.createdAt)}</a></th>
<td>${badge(IMPORT_STATUS_LABELS[v.status], STATUS_BADGE[v.status])}</td>
<td class="num">${n(v.rows)}</td><td class="num">${n(v.created)}</td><td class="num">${n(v.pending)}</td><td class="num">${n(v.unchanged)}</td>
<td class="num">${n(Object.values(v.skipped).reduce((a, b) => a + b, 0))}</td></tr>`,
  );
  return page(
    { ...ctx, section: 'imports' },
    'Importer medlemmer',
    html`<div class="page-head"><h1>Importer medlemmer</h1>
<p class="muted">Hent inn eksisterende medlemmer fra en CSV-fil, for eksempel fra salongenes lister. Filen kontrolleres først, uten at noe lagres.</p></div>
${d.problem ? html`<div class="error-summary" role="alert" tabindex="-1" id="feil"><h2>Filen kan ikke importeres</h2><p>${d.problem}</p></div>` : ''}
<div class="grid-2">
<section class="card" aria-labelledby="h-upload"><h2 id="h-upload">1. Kontroller filen</h2>
<form method="post" action="/admin/imports/check" enctype="multipart/form-data">${csrfField(ctx)}
${consentChoice(d.withoutConsent ?? 'reject')}
<div class="field"><label for="f-file">CSV-fil</label>
<p class="hint" id="f-file-hint">Høyst ${sizeText(d.maxBytes)}. Filen lagres ikke: den leses, og så slettes den.</p>
<input type="file" id="f-file" name="file" accept=".csv,text/csv" required aria-describedby="f-file-hint"></div>
<button type="submit" class="button primary">Kontroller filen</button>
</form></section>
<section class="card" aria-labelledby="h-format"><h2 id="h-format">Slik må filen være</h2>
<ul>
<li>Lagret fra Excel som «CSV (semikolondelt)» eller «CSV UTF-8»: semikolon eller komma, UTF-8 eller Windows-1252 (æ, ø og å blir riktige).</li>
<li>Første rad navngir kolonnene. <code>email</code> må være med; ellers brukes <code>firstName</code>, <code>lastName</code>, <code>phone</code>, <code>partnerId</code>, <code>externalId</code>, <code>consentTextVersion</code> og <code>consentGivenAt</code>. Andre kolonner hoppes over.</li>
<li>Med samtykke: <code>consentTextVersion</code> er versjonen av samtykketeksten personen godtok (f.eks. <code>kundeklubb-2024-05</code>), og <code>consentGivenAt</code> når, som <code>24.12.2025</code> eller <code>2025-12-24 10:30</code>. Da blir personen aktivt medlem, og samtykket lagres som bevis med filens kontrollsum og radnummer.</li>
<li>Eksisterende medlemmer endres aldri. Den som har meldt seg ut, er slettet, har begrenset behandling eller har en adresse som ikke virker, importeres ikke.</li>
<li>Høyst ${sizeText(d.maxBytes)} per fil.</li>
</ul></section>
</div>
<section class="card flush" aria-labelledby="h-recent"><h2 id="h-recent" class="pad">Siste importer</h2>
${
  d.items.length
    ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Siste importer"><table class="data"><thead><tr><th scope="col">Startet</th><th scope="col">Status</th><th scope="col" class="num">Rader</th><th scope="col" class="num">Nye</th><th scope="col" class="num">Venter</th><th scope="col" class="num">Uendret</th><th scope="col" class="num">Hoppet over</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="empty">Ingen importer ennå.</p>`
}
</section>`,
    { wide: true },
  );
}

/** POST /admin/imports/check: the dry run's report, then the import of the very same file. */
export function checkPage(ctx: PageContext, d: { report: ImportView }): string {
  const v = d.report;
  const joining = v.created + v.pending;
  return page(
    { ...ctx, section: 'imports' },
    'Kontroll av filen',
    html`<div class="page-head"><p class="crumbs"><a href="/admin/imports">Importer medlemmer</a></p><h1>Kontroll av filen</h1>
<p class="muted">Ingenting er lagret ennå. Slik blir importen:</p></div>
<div class="grid-2">
<section class="card" aria-labelledby="h-result"><h2 id="h-result">Resultat av kontrollen</h2>
${counts(v, false)}
${ignored(v)}
</section>
<section class="card" aria-labelledby="h-import"><h2 id="h-import">2. Importer</h2>
${
  joining === 0
    ? html`<p>Ingen i filen blir nye medlemmer.</p>`
    : html`<p><strong>${n(joining)}</strong> ${joining === 1 ? 'person blir' : 'personer blir'} nye medlemmer${v.pending ? html`, og ${n(v.pending)} av dem får en e-post der de bekrefter medlemskapet` : ''}.</p>`
}
<form method="post" action="/admin/imports" enctype="multipart/form-data">${csrfField(ctx)}
<input type="hidden" name="withoutConsent" value="${v.withoutConsent}">
<input type="hidden" name="sha256" value="${v.sha256}">
<div class="field"><label for="f-file">Den samme filen en gang til</label>
<p class="hint" id="f-file-hint">Filen ble ikke lagret. Velg den samme filen igjen; importen sjekker at det er nøyaktig den som ble kontrollert.</p>
<input type="file" id="f-file" name="file" accept=".csv,text/csv" required aria-describedby="f-file-hint"></div>
<button type="submit" class="button primary">Importer</button>
<a href="/admin/imports" class="button tertiary">Avbryt</a>
</form></section>
</div>
${errorTable(v)}`,
    { wide: true },
  );
}

/** GET /admin/imports/:id: the progress while it runs (the script follows it), then the final report. */
export function importPage(ctx: PageContext, v: ImportView): string {
  const running = v.status === 'running';
  const pct = percent(v);
  return page(
    { ...ctx, section: 'imports' },
    `Import ${formatShort(v.createdAt)}`,
    html`<div class="page-head"><p class="crumbs"><a href="/admin/imports">Importer medlemmer</a></p>
<div class="row"><h1>Import ${formatShort(v.createdAt)}</h1>${badge(IMPORT_STATUS_LABELS[v.status], STATUS_BADGE[v.status])}</div></div>
<section class="card" aria-labelledby="h-progress"${running ? html` data-import-url="/admin/imports/${v.id}/status.json"` : ''}>
<h2 id="h-progress">${running ? 'Importen pågår' : 'Resultat'}</h2>
${
  running
    ? html`<div class="progress" role="progressbar" aria-label="Andel av filen lest" aria-valuemin="0" aria-valuemax="100" aria-valuenow="${pct}" data-progress>
<div class="progress-sent" style="width:${pct}%" data-progress-done></div></div>
<p><span data-percent>${pct} %</span> av filen er lest. Siden oppdaterer seg selv; du kan lukke den uten at importen stopper.</p>`
    : ''
}
${v.status === 'completed' ? html`<p>Importen er ferdig. ${n(v.created + v.pending)} nye medlemmer.</p>` : ''}
${
  v.status === 'failed' || v.status === 'interrupted'
    ? html`<p>Importen stoppet før hele filen var lest. Radene som var importert, er med. Importer den samme filen på nytt for å fullføre: det som allerede er inne, blir stående uendret.</p>`
    : ''
}
${counts(v, running)}
${ignored(v)}
<p class="muted small">Filens kontrollsum (SHA-256): <code>${v.sha256}</code> · ${n(Math.ceil(v.size / 1024))} kB</p>
</section>
${errorTable(v)}`,
    { wide: true, noscriptRefreshSeconds: running ? 3 : undefined },
  );
}
