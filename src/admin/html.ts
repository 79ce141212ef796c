import { escapeHtml } from '../templates';

/**
 * A tiny HTML builder: `html\`<p>${value}</p>\`` escapes every interpolated value unless it is
 * already SafeHtml (built by `html` itself). Arrays are joined; null/undefined/false render nothing.
 */
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

/** Markup produced by trusted code elsewhere (an SVG built here, never user input). */
export function trusted(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** `selected`/`checked`/`disabled` attributes. */
export const attr = (name: string, on: boolean): SafeHtml => new SafeHtml(on ? ` ${name}` : '');
