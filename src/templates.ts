import fs from 'node:fs';
import path from 'node:path';
import { escapeHtml } from './presentation/escape';

export const TEMPLATES_DIR = path.join(__dirname, '..', 'templates');

const cache = new Map<string, string>();

/** Reads templates/<name> once. */
export function readTemplate(name: string): string {
  let t = cache.get(name);
  if (t === undefined) {
    t = fs.readFileSync(path.join(TEMPLATES_DIR, name), 'utf8');
    cache.set(name, t);
  }
  return t;
}

/**
 * `{{key}}` is replaced by the HTML-escaped value, `{{{key}}}` by the raw value (for markup the
 * caller built and escaped itself). Unknown keys are an error, so a typo never ships.
 */
export function fillTemplate(template: string, values: Record<string, string>, escape = true): string {
  return template.replace(/\{\{(\{)?([a-zA-Z0-9_]+)\}?\}\}/g, (_m, raw: string | undefined, key: string) => {
    if (!(key in values)) throw new Error(`template value missing: ${key}`);
    return raw || !escape ? values[key] : escapeHtml(values[key]);
  });
}
