import { html } from '../../presentation/escape';
import type { FieldError } from '../../errors';
import type { ConsentEventView, MemberView } from '../../members/members.service';
import { MEMBER_STATUSES, SOURCES } from '../../members/member.entity';
import {
  CHANNEL_LABELS,
  CONSENT_EVENT_LABELS,
  MEMBER_STATUS_LABELS,
  SOURCE_LABELS,
} from '../../presentation/labels';
import { nbMessage } from '../../presentation/messages';
import { formatShort } from '../../presentation/oslo-time';
import { SEARCH_COUNT_CAP } from '../../members/member-search';
import { badge, csrfField, field, formatCount, page, selectField, type PageContext } from './layout';

export interface MemberFilters {
  q: string;
  email: string;
  status: string;
  source: string;
  partnerId: string;
}

const fullName = (m: MemberView) => [m.firstName, m.lastName].filter(Boolean).join(' ');

function query(f: MemberFilters, cursor?: string): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(f)) if (v) p.set(k, v);
  if (cursor) p.set('cursor', cursor);
  return p.toString();
}

export function memberListPage(
  ctx: PageContext,
  d: {
    filters: MemberFilters;
    items: MemberView[];
    nextCursor: string | null;
    /** Hits for a search or filter, counted up to SEARCH_COUNT_CAP; null for the whole list. */
    total: number | null;
    paged: boolean;
    errors: FieldError[];
  },
): string {
  const errs = new Map(d.errors.map((e) => [e.path, [e.message]]));
  const rows = d.items.map(
    (m) => html`<tr>
<th scope="row"><a href="/admin/members/${m.id}">${m.email ?? `Medlem ${m.id} (ingen adresse)`}</a></th>
<td>${fullName(m) || '–'}</td>
<td>${badge(MEMBER_STATUS_LABELS[m.status], m.status)}</td>
<td>${SOURCE_LABELS[m.source as keyof typeof SOURCE_LABELS] ?? m.source}</td>
<td>${m.partnerId ?? '–'}</td>
<td>${formatShort(m.createdAt)}</td></tr>`,
  );
  const filtered = Object.values(d.filters).some(Boolean);
  return page(
    { ...ctx, section: 'members' },
    'Medlemmer',
    html`<div class="page-head"><h1>Medlemmer</h1></div>
<form method="get" action="/admin/members" class="card filters" role="search" aria-label="Finn medlemmer" novalidate>
${field({ name: 'q', label: 'Navn eller e-postadresse', value: d.filters.q, type: 'search', hint: 'Begynnelsen av ord i navnet eller adressen holder, f.eks. «odeg» eller «kari nord». Store og små bokstaver, æ, ø og å spiller ingen rolle.', errors: errs.get('q'), autocomplete: 'off' })}
${d.filters.email ? field({ name: 'email', label: 'Hele e-postadressen', value: d.filters.email, type: 'email', errors: errs.get('email'), autocomplete: 'off' }) : ''}
${selectField({ name: 'status', label: 'Status', value: d.filters.status, options: [['', 'Alle'], ...MEMBER_STATUSES.map((s): [string, string] => [s, MEMBER_STATUS_LABELS[s]])] })}
${selectField({ name: 'source', label: 'Kilde', value: d.filters.source, options: [['', 'Alle'], ...SOURCES.map((s): [string, string] => [s, SOURCE_LABELS[s]])] })}
${field({ name: 'partnerId', label: 'Salong-ID', value: d.filters.partnerId, errors: errs.get('partnerId') })}
<div class="filter-actions"><button type="submit" class="button primary">Søk</button>${filtered ? html` <a href="/admin/members" class="button tertiary">Nullstill</a>` : ''}</div>
</form>
${d.errors.length ? html`<div class="error-summary" role="alert"><ul>${d.errors.map((e) => html`<li>${nbMessage(e.message)}</li>`)}</ul></div>` : ''}
<section class="card flush" aria-labelledby="h-results"><h2 id="h-results" class="visually-hidden">Treff</h2>
${d.total !== null && !d.errors.length ? html`<p class="pad result-count" role="status" id="treff">${hitCount(d.total)}</p>` : ''}
${
  d.items.length
    ? html`<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Medlemmer"><table class="data">
<thead><tr><th scope="col">E-post</th><th scope="col">Navn</th><th scope="col">Status</th><th scope="col">Kilde</th><th scope="col">Salong</th><th scope="col">Registrert</th></tr></thead>
<tbody>${rows}</tbody></table></div>`
    : html`<p class="empty">${filtered ? 'Ingen medlemmer passer til søket.' : 'Ingen medlemmer ennå.'}</p>`
}
</section>
<p class="pager">${d.paged ? html`<a href="/admin/members?${query(d.filters)}">← Første side</a>` : ''}${d.nextCursor ? html`<a href="/admin/members?${query(d.filters, d.nextCursor)}">Neste side →</a>` : ''}</p>`,
    { wide: true },
  );
}

function hitCount(n: number): string {
  if (n > SEARCH_COUNT_CAP) return `Over ${formatCount(SEARCH_COUNT_CAP)} treff`;
  return n === 0 ? 'Ingen treff' : `${formatCount(n)} treff`;
}

export function memberPage(
  ctx: PageContext,
  d: { member: MemberView; history: ConsentEventView[]; canPrivacy: boolean },
): string {
  const m = d.member;
  const dd = (v: string | null | undefined) => (v ? v : '–');
  const events = d.history.map(
    (e) => html`<tr>
<td>${formatShort(e.occurredAt)}</td>
<th scope="row">${CONSENT_EVENT_LABELS[e.type] ?? e.type}</th>
<td>${e.source ? (SOURCE_LABELS[e.source as keyof typeof SOURCE_LABELS] ?? e.source) : '–'}${e.sourceVersion ? ` ${e.sourceVersion}` : ''}</td>
<td>${e.textVersion ? html`<span title="SHA-256 ${e.textSha256 ?? ''}">${e.textVersion}</span>` : '–'}</td>
<td>${e.channel ? (CHANNEL_LABELS[e.channel] ?? e.channel) : '–'}</td></tr>`,
  );
  return page(
    { ...ctx, section: 'members' },
    m.email ?? `Medlem ${m.id}`,
    html`<div class="page-head"><p class="crumbs"><a href="/admin/members">Medlemmer</a></p>
<div class="row"><h1>${m.email ?? `Medlem ${m.id}`}</h1>${badge(MEMBER_STATUS_LABELS[m.status], m.status)}</div></div>
<div class="grid-2">
<section class="card" aria-labelledby="h-profile"><h2 id="h-profile">Profil</h2>
<dl class="facts">
<dt>E-post</dt><dd>${m.email ?? 'Fjernet (meldt ut)'}</dd>
<dt>Navn</dt><dd>${fullName(m) || '–'}</dd>
<dt>Telefon</dt><dd>${dd(m.phone)}</dd>
<dt>Kilde</dt><dd>${SOURCE_LABELS[m.source as keyof typeof SOURCE_LABELS] ?? m.source}${m.sourceVersion ? ` (versjon ${m.sourceVersion})` : ''}</dd>
<dt>Salong</dt><dd>${dd(m.partnerId)}</dd>
<dt>Ekstern ID</dt><dd>${dd(m.externalId)}</dd>
<dt>Registrert</dt><dd>${formatShort(m.createdAt)}</dd>
<dt>Bekreftet</dt><dd>${m.confirmedAt ? formatShort(m.confirmedAt) : '–'}</dd>
${m.leftAt ? html`<dt>Meldt ut</dt><dd>${formatShort(m.leftAt)}</dd>` : ''}
</dl></section>
${d.canPrivacy ? privacyActions(ctx, m) : ''}
</div>
<section class="card" aria-labelledby="h-history"><h2 id="h-history">Samtykkehistorikk</h2>
<p class="muted small">Hver innmelding, bekreftelse, utmelding og begrensning, eldst først. Ingen IP-adresser lagres.</p>
<div class="table-wrap" tabindex="0" role="region" aria-label="Tabell: Samtykkehistorikk"><table class="data">
<thead><tr><th scope="col">Tid</th><th scope="col">Hendelse</th><th scope="col">Kilde</th><th scope="col">Samtykketekst</th><th scope="col">Kanal</th></tr></thead>
<tbody>${events}</tbody></table></div></section>`,
    { wide: true },
  );
}

function privacyActions(ctx: PageContext, m: MemberView) {
  const restricted = m.status === 'restricted';
  return html`<section class="card" aria-labelledby="h-privacy"><h2 id="h-privacy">Personvern</h2>
<div class="stack">
<form method="post" action="/admin/privacy/members/${m.id}/export">${csrfField(ctx)}
<button type="submit" class="button secondary">Last ned innsyn (JSON)</button>
<p class="hint">Alle opplysninger om medlemmet. Utleveringen registreres i historikken.</p></form>
${
  m.email
    ? html`<form method="post" action="/admin/privacy/members/${m.id}/restrict">${csrfField(ctx)}
<input type="hidden" name="restricted" value="${restricted ? 'false' : 'true'}">
<button type="submit" class="button secondary">${restricted ? 'Opphev begrensning' : 'Begrens behandling'}</button>
<p class="hint">${restricted ? 'Medlemmet får nyhetsbrev igjen hvis det var aktivt før.' : 'Medlemmet beholdes, men får ingen e-post og endres ikke av nye innmeldinger (art. 18).'}</p></form>`
    : ''
}
${
  m.email
    ? html`<div><a class="button secondary" href="/admin/privacy/members/${m.id}/rectify">Rett opplysninger …</a>
<p class="hint">Navn, telefon og salong, når medlemmet ber om det (retting).</p></div>`
    : ''
}
<div><a class="button danger-outline" href="/admin/privacy/members/${m.id}/erase">Slett medlemmet …</a>
<p class="hint">Sletter alle opplysninger permanent. Du må bekrefte på neste side.</p></div>
</div></section>`;
}
