import { escapeHtml } from '../http/pages';
import type { MemberExport } from './privacy.service';

/** Markup for the recipient-facing pages (/u/, /p/). Every value is escaped here. */

const dateTimeFormat = new Intl.DateTimeFormat('nb-NO', {
  timeZone: 'Europe/Oslo',
  day: '2-digit',
  month: '2-digit',
  year: 'numeric',
  hour: '2-digit',
  minute: '2-digit',
  hourCycle: 'h23',
});

/** `2026-11-25T10:00:00Z` → «25.11.2026 kl. 11.00» (Oslo time), assembled from parts so ICU versions agree. */
export function formatOsloDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p: Record<string, string> = {};
  for (const part of dateTimeFormat.formatToParts(d)) p[part.type] = part.value;
  return `${p.day}.${p.month}.${p.year} kl. ${p.hour}.${p.minute}`;
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

const STATUS: Record<string, string> = {
  pending: 'Venter på bekreftelse',
  active: 'Medlem',
  unsubscribed: 'Meldt av',
  restricted: 'Behandlingen er begrenset',
};
const SOURCE: Record<string, string> = {
  'osme-mobile': 'Sothys OSME Mobile',
  'cosmenor-partner': 'Cosmenor Partner',
  web: 'Nettsiden',
  admin: 'Kundeservice',
};
const EVENT: Record<string, string> = {
  signup: 'Innmelding med samtykke',
  confirmation: 'Bekreftet e-postadressen',
  withdrawal: 'Meldt av',
  restriction: 'Behandlingen begrenset',
  'restriction-lifted': 'Begrensningen opphevet',
  rectification: 'Opplysninger rettet',
  export: 'Innsyn i opplysningene',
  erasure: 'Sletting',
};
const PART_TITLE: Record<string, string> = {
  deliveries: 'Nyhetsbrev sendt til deg',
  privacyRequests: 'Henvendelser om personvern',
};
const CHANNEL: Record<string, string> = {
  'email-link': 'Lenke i e-post',
  link: 'Avmeldingslenken',
  'one-click': 'Avmelding i e-postprogrammet',
  app: 'Appen',
  'email-request': 'E-post til oss',
  email: 'E-post',
  phone: 'Telefon',
  letter: 'Brev',
  staff: 'Kundeservice',
  'privacy-link': 'Personvernlenken',
  request: 'Henvendelse',
  retention: 'Automatisk sletting',
};
/** Column names of the parts other rooms export; unknown ones are shown as they are. */
const KEY_LABEL: Record<string, string> = {
  campaignId: 'Nyhetsbrev nr.',
  subject: 'Emne',
  status: 'Status',
  sentAt: 'Sendt',
  type: 'Gjelder',
  email: 'E-post',
  receivedAt: 'Mottatt',
  dueAt: 'Svarfrist',
  channel: 'Kanal',
  note: 'Notat',
  outcome: 'Utfall',
  closedAt: 'Avsluttet',
  createdAt: 'Registrert',
  updatedAt: 'Sist endret',
  overdue: 'Forsinket',
};
const VALUE_LABEL: Record<string, Record<string, string>> = {
  status: {
    queued: 'I kø',
    sending: 'Sendes',
    sent: 'Sendt',
    failed: 'Kunne ikke leveres',
    skipped: 'Ikke sendt',
    open: 'Under behandling',
    done: 'Ferdig',
  },
  type: {
    access: 'Innsyn',
    rectification: 'Retting',
    erasure: 'Sletting',
    restriction: 'Begrensning',
    portability: 'Dataportabilitet',
    objection: 'Innsigelse',
    complaint: 'Klage',
  },
  channel: CHANNEL,
};

const cell = (v: unknown): string => {
  if (v === null || v === undefined || v === '') return '–';
  if (typeof v === 'string') return escapeHtml(ISO_TIME.test(v) ? formatOsloDateTime(v) : v);
  if (typeof v === 'number' || typeof v === 'boolean') return escapeHtml(String(v));
  return `<code>${escapeHtml(JSON.stringify(v))}</code>`;
};

const row = (label: string, value: unknown) =>
  `<tr><th scope="row">${escapeHtml(label)}</th><td>${cell(value)}</td></tr>`;

const labelled = (key: string, v: unknown): unknown => {
  if (typeof v === 'boolean') return v ? 'Ja' : 'Nei';
  return typeof v === 'string' ? (VALUE_LABEL[key]?.[v] ?? v) : v;
};

/** Another room's part of the export, whatever its shape: a table for a list of records, otherwise JSON text. */
function renderPart(name: string, value: unknown): string {
  const title = escapeHtml(PART_TITLE[name] ?? name);
  if (Array.isArray(value)) {
    if (value.length === 0) return `<h2>${title}</h2><p>Ingen.</p>`;
    if (value.every((v) => v && typeof v === 'object' && !Array.isArray(v))) {
      const keys = [...new Set(value.flatMap((v) => Object.keys(v as object)))];
      const head = keys.map((k) => `<th scope="col">${escapeHtml(KEY_LABEL[k] ?? k)}</th>`).join('');
      const body = value
        .map(
          (v) =>
            `<tr>${keys.map((k) => `<td>${cell(labelled(k, (v as Record<string, unknown>)[k]))}</td>`).join('')}</tr>`,
        )
        .join('\n');
      return `<h2>${title}</h2><table><thead><tr>${head}</tr></thead><tbody>${body}</tbody></table>`;
    }
  }
  return `<h2>${title}</h2><pre>${escapeHtml(JSON.stringify(value, null, 2))}</pre>`;
}

/** Base path of one privacy link, e.g. `/p/TOKEN`. */
export const privacyPath = (token: string) => `/p/${encodeURIComponent(token)}`;
export const unsubscribePath = (token: string) => `/u/${encodeURIComponent(token)}`;

export function unsubscribeFormBody(token: string, maskedEmail: string): string {
  const path = escapeHtml(unsubscribePath(token));
  return `<h1>Meld deg av nyhetsbrevet</h1>
<p>Vil du melde <strong>${escapeHtml(maskedEmail)}</strong> av Sothys Kundeklubb? Da får du ikke flere nyhetsbrev fra oss, og vi sletter opplysningene om deg.</p>
<form method="post" action="${path}"><button type="submit">Meld meg av</button></form>
<p>Vil du først se hvilke opplysninger vi har om deg, eller be oss slette dem? Vi sender en lenke til e-postadressen din.</p>
<form method="post" action="${path}/privacy-link"><button type="submit" class="secondary">Se eller slett dine opplysninger</button></form>`;
}

export const UNSUBSCRIBED_BODY = `<h1>Du er meldt av</h1>
<p>Du får ikke flere nyhetsbrev fra Sothys Kundeklubb. Navnet, e-postadressen og telefonnummeret ditt er slettet hos oss.</p>
<p>Vi tar bare vare på en kryptografisk kontrollsum av adressen, slik at vi aldri sender nyhetsbrev til den igjen med mindre du melder deg inn på nytt.</p>`;

export const LINK_SENT_BODY = `<h1>Sjekk e-posten din</h1>
<p>Vi har sendt en lenke til e-postadressen din. Med den kan du se alle opplysningene vi har om deg, laste dem ned eller be oss slette dem. Lenken virker i 24 timer.</p>`;

export function invalidLinkBody(): string {
  return `<h1>Lenken virker ikke</h1>
<p>Lenken er brukt, utløpt eller ugyldig. Ingenting er endret.</p>`;
}

export function dataPageBody(token: string, doc: MemberExport): string {
  const m = doc.member;
  const path = escapeHtml(privacyPath(token));
  const name = [m.firstName, m.lastName].filter(Boolean).join(' ');
  const profile = [
    row('Navn', name),
    row('E-post', m.email),
    row('Telefon', m.phone),
    row('Status', STATUS[m.status] ?? m.status),
    row('Meldt inn via', SOURCE[m.source] ?? m.source),
    row('Appversjon', m.sourceVersion),
    row('Kundenummer i appen', m.externalId),
    row('Salong (partner)', m.partnerId),
    row('Registrert', m.createdAt),
    row('Bekreftet', m.confirmedAt),
    row('Sist endret', m.updatedAt),
  ].join('\n');
  const events = doc.consentEvents
    .map(
      (e) =>
        `<tr><td>${cell(e.occurredAt)}</td><td>${escapeHtml(EVENT[e.type] ?? e.type)}</td><td>${cell(e.source ? (SOURCE[e.source] ?? e.source) : null)}</td><td>${cell(e.textVersion)}</td><td>${cell(e.channel ? (CHANNEL[e.channel] ?? e.channel) : null)}</td></tr>`,
    )
    .join('\n');
  const parts = Object.entries(doc)
    .filter(([k]) => !['exportedAt', 'member', 'consentEvents'].includes(k))
    .map(([k, v]) => renderPart(k, v))
    .join('\n');
  return `<h1>Opplysningene vi har om deg</h1>
<p>Dette er en kopi av alt Sothys Kundeklubb har lagret om deg, per ${escapeHtml(formatOsloDateTime(doc.exportedAt))}.</p>
<p><a class="button secondary" href="${path}/data.json" download>Last ned (JSON)</a></p>
<h2>Profil</h2>
<table>${profile}</table>
<h2>Samtykker og endringer</h2>
<table><thead><tr><th scope="col">Tid</th><th scope="col">Hva</th><th scope="col">Fra</th><th scope="col">Samtykketekst</th><th scope="col">Kanal</th></tr></thead><tbody>${events}</tbody></table>
${parts}
<h2>Slett opplysningene dine</h2>
<p>Du kan be oss slette alt vi har om deg. Da blir du meldt av, og vi tar bare vare på en kryptografisk kontrollsum av e-postadressen slik at vi aldri sender deg nyhetsbrev igjen med mindre du melder deg inn på nytt.</p>
<form method="post" action="${path}/erase"><button type="submit" class="danger">Slett opplysningene mine</button></form>`;
}

export function confirmEraseBody(token: string): string {
  const path = escapeHtml(privacyPath(token));
  return `<h1>Er du sikker?</h1>
<p>Når vi sletter opplysningene dine, kan det ikke angres. Du blir meldt av Sothys Kundeklubb og får ingen flere nyhetsbrev.</p>
<form method="post" action="${path}/erase"><input type="hidden" name="confirm" value="ja"><button type="submit" class="danger">Ja, slett alt</button></form>
<p><a href="${path}">Nei, gå tilbake</a></p>`;
}

export const ERASED_BODY = `<h1>Opplysningene dine er slettet</h1>
<p>Vi har slettet alt vi hadde om deg. Vi tar bare vare på en kryptografisk kontrollsum av e-postadressen, slik at vi aldri sender nyhetsbrev til den igjen med mindre du melder deg inn på nytt.</p>`;
