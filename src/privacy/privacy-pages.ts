import { html, type HtmlValue, type SafeHtml } from '../presentation/escape';
import {
  PUBLIC_CHANNEL_LABELS,
  PUBLIC_CONSENT_EVENT_LABELS,
  PUBLIC_DELIVERY_STATUS_LABELS,
  PUBLIC_EXPORT_COLUMN_LABELS,
  PUBLIC_EXPORT_PART_TITLES,
  PUBLIC_MEMBER_STATUS_LABELS,
  PUBLIC_REQUEST_STATUS_LABELS,
  PUBLIC_REQUEST_TYPE_LABELS,
  PUBLIC_SOURCE_LABELS,
  REPORT_KIND_LABELS,
  REQUEST_OUTCOME_LABELS,
  labelOf,
} from '../presentation/labels';
import { formatShort } from '../presentation/oslo-time';
import type { MemberExport } from './privacy.service';

/** Markup for the recipient-facing pages (/u/, /p/), built with the escaping `html` tag. */

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** Codes in the parts other rooms export, shown by their names (by column). */
const VALUE_LABELS: Record<string, Record<string, string>> = {
  status: { ...PUBLIC_DELIVERY_STATUS_LABELS, ...PUBLIC_REQUEST_STATUS_LABELS },
  type: PUBLIC_REQUEST_TYPE_LABELS,
  channel: PUBLIC_CHANNEL_LABELS,
  kind: REPORT_KIND_LABELS,
  outcome: REQUEST_OUTCOME_LABELS,
};

const cell = (v: unknown): HtmlValue => {
  if (v === null || v === undefined || v === '') return '–';
  if (typeof v === 'string') return ISO_TIME.test(v) ? formatShort(v) : v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return html`<code>${JSON.stringify(v)}</code>`;
};

const row = (label: string, value: unknown) =>
  html`<tr><th scope="row">${label}</th><td>${cell(value)}</td></tr>`;

const labelled = (key: string, v: unknown): unknown => {
  if (typeof v === 'boolean') return v ? 'Ja' : 'Nei';
  return typeof v === 'string' && VALUE_LABELS[key] ? labelOf(VALUE_LABELS[key], v) : v;
};

/**
 * A table of records that becomes one labelled block per row on a phone (`.rows` in
 * templates/pages/layout.html), so a member reads it without scrolling sideways; the roles keep
 * it a table for screen readers when the CSS changes how its rows display.
 */
function rowsTable(columns: string[], rows: HtmlValue[][]): SafeHtml {
  const head = columns.map((c) => html`<th scope="col" role="columnheader">${c}</th>`);
  const body = rows.map(
    (r) =>
      html`<tr role="row">${r.map((v, i) => html`<td role="cell" data-label="${columns[i]}">${v}</td>`)}</tr>`,
  );
  return html`<table class="rows" role="table"><thead role="rowgroup"><tr role="row">${head}</tr></thead><tbody role="rowgroup">${body}</tbody></table>`;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/** Another room's part of the export, whatever its shape: a table for a list of records, otherwise JSON text. */
function renderPart(name: string, value: unknown): SafeHtml {
  const title = labelOf(PUBLIC_EXPORT_PART_TITLES, name);
  if (Array.isArray(value)) {
    if (value.length === 0) return html`<h2>${title}</h2><p>Ingen.</p>`;
    if (value.every(isRecord)) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v)))];
      const columns = keys.map((k) => labelOf(PUBLIC_EXPORT_COLUMN_LABELS, k));
      const rows = value.map((v) => keys.map((k) => cell(labelled(k, v[k]))));
      return html`<h2>${title}</h2>${rowsTable(columns, rows)}`;
    }
  }
  return html`<h2>${title}</h2><pre>${JSON.stringify(value, null, 2)}</pre>`;
}

/** Base path of one privacy link, e.g. `/p/TOKEN`. */
export const privacyPath = (token: string) => `/p/${encodeURIComponent(token)}`;
export const unsubscribePath = (token: string) => `/u/${encodeURIComponent(token)}`;

export function unsubscribeFormBody(token: string, maskedEmail: string): SafeHtml {
  const path = unsubscribePath(token);
  return html`<h1>Meld deg av nyhetsbrevet</h1>
<p>Vil du melde <strong>${maskedEmail}</strong> av Sothys Kundeklubb? Da får du ikke flere nyhetsbrev fra oss, og vi sletter opplysningene om deg.</p>
<form method="post" action="${path}"><button type="submit">Meld meg av</button></form>
<p>Vil du først se hvilke opplysninger vi har om deg, eller be oss slette dem? Vi sender en lenke til e-postadressen din.</p>
<form method="post" action="${path}/privacy-link"><button type="submit" class="secondary">Se eller slett dine opplysninger</button></form>`;
}

export const UNSUBSCRIBED_BODY = html`<h1>Du er meldt av</h1>
<p>Du får ikke flere nyhetsbrev fra Sothys Kundeklubb. Navnet, e-postadressen og telefonnummeret ditt er slettet hos oss.</p>
<p>Vi tar bare vare på en kryptografisk kontrollsum av adressen, slik at vi aldri sender nyhetsbrev til den igjen med mindre du melder deg inn på nytt.</p>`;

export const LINK_SENT_BODY = html`<h1>Sjekk e-posten din</h1>
<p>Vi har sendt en lenke til e-postadressen din. Med den kan du se alle opplysningene vi har om deg, laste dem ned eller be oss slette dem. Lenken virker i 24 timer.</p>`;

export const INVALID_LINK_BODY = html`<h1>Lenken virker ikke</h1>
<p>Lenken er brukt, utløpt eller ugyldig. Ingenting er endret.</p>`;

export function dataPageBody(token: string, doc: MemberExport): SafeHtml {
  const m = doc.member;
  const path = privacyPath(token);
  const name = [m.firstName, m.lastName].filter(Boolean).join(' ');
  const profile = [
    row('Navn', name),
    row('E-post', m.email),
    row('Telefon', m.phone),
    row('Status', labelOf(PUBLIC_MEMBER_STATUS_LABELS, m.status)),
    row('Meldt inn via', labelOf(PUBLIC_SOURCE_LABELS, m.source)),
    row('Appversjon', m.sourceVersion),
    row('Kundenummer i appen', m.externalId),
    row('Salong (partner)', m.partnerId),
    row('Registrert', m.createdAt),
    row('Bekreftet', m.confirmedAt),
    row('Sist endret', m.updatedAt),
  ];
  const events = doc.consentEvents.map((e) => [
    cell(e.occurredAt),
    labelOf(PUBLIC_CONSENT_EVENT_LABELS, e.type),
    cell(e.source && labelOf(PUBLIC_SOURCE_LABELS, e.source)),
    cell(e.textVersion),
    cell(e.channel && labelOf(PUBLIC_CHANNEL_LABELS, e.channel)),
  ]);
  const parts = Object.entries(doc)
    .filter(([k]) => !['exportedAt', 'member', 'consentEvents'].includes(k))
    .map(([k, v]) => renderPart(k, v));
  return html`<h1>Opplysningene vi har om deg</h1>
<p>Dette er en kopi av alt Sothys Kundeklubb har lagret om deg, per ${formatShort(doc.exportedAt)}.</p>
<p><a class="button secondary" href="${path}/data.json" download>Last ned (JSON)</a></p>
<h2>Profil</h2>
<table>${profile}</table>
<h2>Samtykker og endringer</h2>
${rowsTable(['Tid', 'Hva', 'Fra', 'Samtykketekst', 'Kanal'], events)}
${parts}
<h2>Slett opplysningene dine</h2>
<p>Du kan be oss slette alt vi har om deg. Da blir du meldt av, og vi tar bare vare på en kryptografisk kontrollsum av e-postadressen slik at vi aldri sender deg nyhetsbrev igjen med mindre du melder deg inn på nytt.</p>
<form method="post" action="${path}/erase"><button type="submit" class="danger">Slett opplysningene mine</button></form>`;
}

export function confirmEraseBody(token: string): SafeHtml {
  const path = privacyPath(token);
  return html`<h1>Er du sikker?</h1>
<p>Når vi sletter opplysningene dine, kan det ikke angres. Du blir meldt av Sothys Kundeklubb og får ingen flere nyhetsbrev.</p>
<form method="post" action="${path}/erase"><input type="hidden" name="confirm" value="ja"><button type="submit" class="danger">Ja, slett alt</button></form>
<p><a href="${path}">Nei, gå tilbake</a></p>`;
}

export const ERASED_BODY = html`<h1>Opplysningene dine er slettet</h1>
<p>Vi har slettet alt vi hadde om deg. Vi tar bare vare på en kryptografisk kontrollsum av e-postadressen, slik at vi aldri sender nyhetsbrev til den igjen med mindre du melder deg inn på nytt.</p>`;
