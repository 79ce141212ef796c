import type { StaffUser } from '../../staff/staff-user.entity';
import { html, attr, type HtmlValue, type SafeHtml } from '../../presentation/escape';
import { assetUrl } from '../assets';
import { roleHasScope } from '../../staff/roles';
import { ROLE_LABELS } from '../../presentation/labels';
import { nbMessage } from '../../presentation/messages';
import type { FieldError } from '../../errors';

export type Section = 'dashboard' | 'campaigns' | 'members' | 'imports' | 'privacy' | 'webhooks' | null;

/** What every page needs to know about the request. */
export interface PageContext {
  user: StaffUser | null;
  csrf: string | null;
  section?: Section;
  /** A short confirmation shown at the top (after a redirect). */
  flash?: string | null;
}

export interface PageOptions {
  /** Reload this often when JavaScript is off (progress view). */
  noscriptRefreshSeconds?: number;
  wide?: boolean;
}

export function csrfField(ctx: PageContext): SafeHtml {
  return html`<input type="hidden" name="_csrf" value="${ctx.csrf ?? ''}">`;
}

function nav(ctx: PageContext): SafeHtml {
  const user = ctx.user;
  if (!user) return html``;
  const items: Array<[Section, string, string, boolean]> = [
    ['dashboard', '/admin', 'Oversikt', true],
    ['campaigns', '/admin/campaigns', 'Nyhetsbrev', roleHasScope(user.role, 'campaigns')],
    ['members', '/admin/members', 'Medlemmer', roleHasScope(user.role, 'members:read')],
    ['imports', '/admin/imports', 'Import', roleHasScope(user.role, 'admin')],
    ['privacy', '/admin/privacy', 'Personvern', roleHasScope(user.role, 'privacy')],
    ['webhooks', '/admin/webhooks', 'Webhooks', roleHasScope(user.role, 'admin')],
  ];
  return html`<nav class="mainnav" aria-label="Hovedmeny"><ul>${items
    .filter((i) => i[3])
    .map(
      ([section, href, label]) =>
        html`<li><a href="${href}"${section === ctx.section ? html` aria-current="page"` : ''}>${label}</a></li>`,
    )}</ul></nav>
<div class="who"><span class="who-name">${user.email}</span> <span class="who-role">${ROLE_LABELS[user.role]}</span>
<form method="post" action="/admin/logout" class="inline">${csrfField(ctx)}<button type="submit" class="linkbutton">Logg ut</button></form></div>`;
}

export function page(ctx: PageContext, title: string, body: SafeHtml, opts: PageOptions = {}): string {
  return html`<!doctype html>
<html lang="nb">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow">
${ctx.csrf ? html`<meta name="csrf-token" content="${ctx.csrf}">` : ''}
${opts.noscriptRefreshSeconds ? html`<noscript><meta http-equiv="refresh" content="${opts.noscriptRefreshSeconds}"></noscript>` : ''}
<title>${title} – Sothys Kundeklubb</title>
<link rel="stylesheet" href="${assetUrl('admin.css')}">
<script src="${assetUrl('admin.js')}" defer></script>
</head>
<body>
<a class="skip" href="#innhold">Hopp til innholdet</a>
<header class="topbar"><div class="topbar-inner${opts.wide ? ' wide' : ''}">
<a class="brand" href="/admin"><span class="brand-mark">SOTHYS</span><span class="brand-sub">Kundeklubb · administrasjon</span></a>
${nav(ctx)}
</div></header>
<main id="innhold" class="content${opts.wide ? ' wide' : ''}" tabindex="-1">
${ctx.flash ? html`<div class="flash" role="status">${ctx.flash}</div>` : ''}
${body}
</main>
<footer class="pagefoot${opts.wide ? ' wide' : ''}">Cosmenor AS · distributør av Sothys i Norge</footer>
</body>
</html>`.value;
}

/** Form error summary: every message, each linking to its field (GOV.UK pattern). */
export function errorSummary(
  errors: FieldError[],
  fieldLabel: (path: string) => string | null,
  heading = 'Noe må rettes før det kan lagres',
): SafeHtml {
  if (errors.length === 0) return html``;
  return html`<div class="error-summary" role="alert" tabindex="-1" id="feil">
<h2>${heading}</h2>
<ul>${errors.map((e) => {
    const label = fieldLabel(e.path);
    return html`<li><a href="#${fieldId(e.path)}">${label ? `${label}: ` : ''}${nbMessage(e.message)}</a></li>`;
  })}</ul></div>`;
}

export const fieldId = (name: string) => `f-${name.replace(/[^A-Za-z0-9_-]/g, '-')}`;

export interface FieldOptions {
  name: string;
  label: string;
  value: string;
  type?: 'text' | 'email' | 'url' | 'date' | 'datetime-local' | 'password' | 'search';
  hint?: HtmlValue;
  errors?: string[];
  required?: boolean;
  autocomplete?: string;
  placeholder?: string;
  maxlength?: number;
  textarea?: boolean;
  rows?: number;
  inputmode?: string;
}

/** A labelled input with its hint and errors wired up for screen readers. */
export function field(o: FieldOptions): SafeHtml {
  const id = fieldId(o.name);
  const hintId = `${id}-hint`;
  const errId = `${id}-error`;
  const errors = o.errors ?? [];
  const describedBy = [o.hint ? hintId : '', errors.length ? errId : ''].filter(Boolean).join(' ');
  const common = html` id="${id}" name="${o.name}"${describedBy ? html` aria-describedby="${describedBy}"` : ''}${attr('aria-invalid="true"', errors.length > 0)}${
    o.required ? html` aria-required="true"` : ''
  }${o.autocomplete ? html` autocomplete="${o.autocomplete}"` : ''}${o.placeholder ? html` placeholder="${o.placeholder}"` : ''}${
    o.maxlength ? html` maxlength="${o.maxlength}"` : ''
  }${o.inputmode ? html` inputmode="${o.inputmode}"` : ''}`;
  const control = o.textarea
    ? html`<textarea${common} rows="${o.rows ?? 4}">${o.value}</textarea>`
    : html`<input type="${o.type ?? 'text'}"${common} value="${o.value}">`;
  return html`<div class="field${errors.length ? ' has-error' : ''}">
<label for="${id}">${o.label}${o.required ? html` <span class="req">(må fylles ut)</span>` : ''}</label>
${o.hint ? html`<p class="hint" id="${hintId}">${o.hint}</p>` : ''}
${errors.length ? html`<p class="field-error" id="${errId}">${errors.map((e) => html`<span>${nbMessage(e)}</span> `)}</p>` : ''}
${control}
</div>`;
}

export function selectField(o: {
  name: string;
  label: string;
  value: string;
  options: Array<[string, string]>;
  errors?: string[];
  hint?: string;
}): SafeHtml {
  const id = fieldId(o.name);
  const errors = o.errors ?? [];
  return html`<div class="field${errors.length ? ' has-error' : ''}">
<label for="${id}">${o.label}</label>
${o.hint ? html`<p class="hint" id="${id}-hint">${o.hint}</p>` : ''}
${errors.length ? html`<p class="field-error" id="${id}-error">${errors.map((e) => html`<span>${nbMessage(e)}</span> `)}</p>` : ''}
<select id="${id}" name="${o.name}"${o.hint || errors.length ? html` aria-describedby="${[o.hint ? `${id}-hint` : '', errors.length ? `${id}-error` : ''].filter(Boolean).join(' ')}"` : ''}>
${o.options.map(([value, label]) => html`<option value="${value}"${attr('selected', value === o.value)}>${label}</option>`)}
</select></div>`;
}

/** A bar with its numbers in text too; JS updates it in place (data-* hooks). */
export function progressBar(
  s: { total: number; sent: number; failed: number; skipped: number; queued: number },
  label: string,
): SafeHtml {
  const done = s.sent + s.failed + s.skipped;
  const pct = s.total > 0 ? Math.min(100, (done / s.total) * 100) : 100;
  const sentPct = s.total > 0 ? (s.sent / s.total) * 100 : 0;
  return html`<div class="progress" role="progressbar" aria-label="${label}" aria-valuemin="0" aria-valuemax="${s.total}" aria-valuenow="${done}" data-progress>
<div class="progress-done" style="width:${pct.toFixed(1)}%" data-progress-done></div>
<div class="progress-sent" style="width:${sentPct.toFixed(1)}%" data-progress-sent></div>
</div>`;
}

export function badge(text: string, kind: string): SafeHtml {
  return html`<span class="badge badge-${kind}">${text}</span>`;
}

/** «12 345» */
export const formatCount = (n: number) => n.toLocaleString('nb-NO');
