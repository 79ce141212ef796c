import type { IncomingHttpHeaders } from 'node:http';
import { createIsbotFromList, list } from 'isbot';

/**
 * Link checkers of mail security gateways, which fetch every link of a mail before (or when) a
 * person opens it. isbot knows crawlers in general; these are added where their user agents name
 * them (Barracuda «Barracuda Sentinel (EE)», Proofpoint URL Defense, Mimecast URL Protect) and for
 * Microsoft's Office and Outlook fetches (Defender Safe Links: «MSOffice», «ms-office»). A checker
 * that sends a plain browser's user agent cannot be told from a person by the user agent alone;
 * one that sends none is not counted either (every browser sends one).
 */
export const LINK_CHECKER_PATTERNS = [
  'barracuda',
  'proofpoint',
  'mimecast',
  'safe ?links',
  'ms-?office',
  'microsoft (?:office|outlook)',
];

const isKnownBot = createIsbotFromList([...list, ...LINK_CHECKER_PATTERNS]);

/**
 * Whether a request to a newsletter link counts as a person's click: a GET (not HEAD), with a
 * user agent that is no known bot or link checker, and not a browser's speculative prefetch.
 * The headers are read here and nowhere kept.
 */
export function isCountableClick(req: { method: string; headers: IncomingHttpHeaders }): boolean {
  if (req.method !== 'GET') return false;
  const purpose = String(req.headers['sec-purpose'] ?? req.headers.purpose ?? '');
  if (/prefetch|prerender/i.test(purpose)) return false;
  const agent = req.headers['user-agent']?.trim();
  return !!agent && !isKnownBot(agent);
}
