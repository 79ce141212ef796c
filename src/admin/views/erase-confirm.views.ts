import { attr, html } from '../../presentation/escape';
import type { MemberView } from '../../members/members.service';
import { MEMBER_STATUS_LABELS } from '../../presentation/labels';
import { csrfField, field, page, type PageContext } from './layout';

/** The confirmation step before an erasure, from the member page or from a request. */
export function eraseConfirmPage(
  ctx: PageContext,
  d: { member: MemberView; action: string; back: string; error: string | null; requestId?: number },
): string {
  const m = d.member;
  return page(
    { ...ctx, section: 'privacy' },
    'Slette medlemmet?',
    html`<section class="card narrow">
<h1>Slette medlemmet permanent?</h1>
${d.error ? html`<div class="error-summary" role="alert"><p>${d.error}</p></div>` : ''}
<dl class="facts">
<dt>E-post</dt><dd>${m.email ?? `Medlem ${m.id} (ingen adresse)`}</dd>
<dt>Status</dt><dd>${MEMBER_STATUS_LABELS[m.status]}</dd>
${d.requestId ? html`<dt>Forespørsel</dt><dd>#${d.requestId} (lukkes samtidig)</dd>` : ''}
</dl>
<p>Profilen, tokenene og utsendelseshistorikken slettes. Samtykkehistorikken beholdes uten kobling til personen, og bare en nøkkel av adressen blir igjen, så den ikke får e-post fra oss igjen. <strong>Dette kan ikke angres.</strong></p>
<form method="post" action="${d.action}" novalidate>
${csrfField(ctx)}
${
  m.email
    ? field({
        name: 'confirmEmail',
        label: 'Skriv e-postadressen for å bekrefte',
        value: '',
        type: 'email',
        autocomplete: 'off',
        required: true,
        errors: d.error ? ['Adressen stemmer ikke.'] : [],
      })
    : html`<label class="check"><input type="checkbox" name="confirm" value="yes"${attr('aria-invalid="true"', !!d.error)}> Jeg bekrefter at medlemmet skal slettes</label>`
}
<div class="actions"><button type="submit" class="button danger">Slett permanent</button> <a class="button secondary" href="${d.back}">Avbryt</a></div>
</form></section>`,
  );
}
