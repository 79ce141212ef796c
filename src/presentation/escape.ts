/**
 * HTML escaping for every page and mail. `html\`<p>${value}</p>\`` escapes each interpolated
 * value unless it is already SafeHtml (built by `html` itself); arrays are joined, and
 * null/undefined/false render nothing. MJML copies text and attribute values verbatim, so the
 * newsletter renderer escapes with the same escapeHtml.
 */

const HTML_SPECIAL = /[&<>"']/g;
const HTML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function escapeHtml(value: string): string {
  return value.replace(HTML_SPECIAL, (ch) => HTML_ENTITIES[ch]);
}

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

export type HtmlValue = SafeHtml | string | number | null | undefined | false | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0];
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1];
  return new SafeHtml(out);
}

/** `selected`/`checked`/`disabled` attributes. */
export const attr = (name: string, on: boolean): SafeHtml => new SafeHtml(on ? ` ${name}` : '');
