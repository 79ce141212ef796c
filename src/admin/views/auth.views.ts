import { html } from '../../presentation/escape';
import type { FieldError } from '../../errors';
import { errorSummary, field, page, type PageContext } from './layout';

const LOGIN_FIELD_LABELS: Record<string, string> = { email: 'E-postadresse', password: 'Passord' };

export function loginPage(o: {
  loginToken: string;
  email: string;
  next: string;
  error?: string | null;
  /** Fields left empty: said beside each field, and no attempt was made. */
  errors?: FieldError[];
}): string {
  const ctx: PageContext = { user: null, csrf: null };
  const errors = o.errors ?? [];
  const errs = (name: string) => errors.filter((e) => e.path === name).map((e) => e.message);
  return page(
    ctx,
    'Logg inn',
    html`<section class="login card">
<h1>Logg inn</h1>
<p class="lead">For ansatte i Cosmenor som sender nyhetsbrev og behandler personvernforespørsler.</p>
${o.error ? html`<div class="error-summary" role="alert"><p>${o.error}</p></div>` : ''}
${errorSummary(errors, (p) => LOGIN_FIELD_LABELS[p] ?? null, 'Fyll ut det som mangler')}
<form method="post" action="/admin/login" novalidate>
<input type="hidden" name="_csrf" value="${o.loginToken}">
<input type="hidden" name="next" value="${o.next}">
${field({ name: 'email', label: 'E-postadresse', value: o.email, type: 'email', autocomplete: 'username', required: true, errors: errs('email') })}
${field({ name: 'password', label: 'Passord', value: '', type: 'password', autocomplete: 'current-password', required: true, errors: errs('password') })}
<button type="submit" class="button primary">Logg inn</button>
</form>
<p class="hint">Brukere opprettes av driften med <code>kundeklubb users create</code>.</p>
</section>`,
  );
}

/** 403/404/409/500 and the refused-form page: what happened, and a way on. */
export function messagePage(
  ctx: PageContext,
  o: { title: string; message: string; links?: Array<[string, string]> },
): string {
  return page(
    ctx,
    o.title,
    html`<section class="card narrow">
<h1>${o.title}</h1>
<p>${o.message}</p>
${o.links?.length ? html`<p class="actions">${o.links.map(([href, label]) => html`<a class="button secondary" href="${href}">${label}</a> `)}</p>` : ''}
</section>`,
  );
}
