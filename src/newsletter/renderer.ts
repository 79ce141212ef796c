import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { type Block, type NewsletterContent, newsletterContentSchema } from './blocks.schema';
import { escapeHtml } from '../presentation/escape';
import { formatActivityTime, formatValidUntil } from '../presentation/oslo-time';
import { PreEncodedText } from '../mail/quoted-printable';

/**
 * MJML → HTML and plain text once per campaign, with placeholders for the per-recipient values;
 * `fillNewsletter` then only joins precomputed segments (listmonk's "compile once" model).
 */

export interface Brand {
  publicUrl: string;
  privacyContact: string;
}

/**
 * A link the renderer writes into a newsletter (a block's button and its image): `n` is its place
 * in the campaign, counting from 1 in the order the blocks come. The footer's unsubscribe and
 * privacy links are the person's own and not among them.
 */
export interface NewsletterLink {
  n: number;
  url: string;
  label: string;
  blockType: Block['type'];
  /** Index of the block in the campaign. */
  block: number;
}

/**
 * Where the mail's links point, fixed for the whole campaign (so they cost nothing per recipient):
 * `href(link)` for each link (default: its own URL), `webVersionUrl` for «Vis i nettleser».
 */
export interface LinkTargets {
  href?: (link: NewsletterLink) => string;
  webVersionUrl?: string;
}

/**
 * `html` and `text` still contain the per-recipient placeholders, which carry `nonce`. Stored
 * renders keep their nonce, so only this compile's own placeholders are ever filled.
 */
export interface CompiledNewsletter {
  subject: string;
  html: string;
  text: string;
  nonce: string;
}

export interface RecipientValues {
  firstName?: string | null;
  unsubscribeUrl: string;
}

export interface RenderIssue {
  path: string;
  message: string;
}

export class NewsletterRenderError extends Error {
  readonly errors: RenderIssue[];

  constructor(errors: RenderIssue[]) {
    super(
      `Newsletter cannot be rendered: ${errors.map((e) => `${e.path || '(root)'}: ${e.message}`).join('; ')}`,
    );
    this.name = 'NewsletterRenderError';
    this.errors = errors;
  }
}

// ---------------------------------------------------------------------------------------------
// MJML (CommonJS, no type declarations)

interface MjmlIssue {
  line: number;
  message: string;
  tagName: string;
}

type Mjml2Html = (
  mjml: string,
  options: { validationLevel: 'strict'; keepComments: boolean; fonts: Record<string, string> },
) => Promise<{ html: string; errors: MjmlIssue[] }>;

let mjml2html: Mjml2Html | undefined;

/**
 * The MJML compiler (about 60 MB of a process), loaded on the first compile: a worker process
 * sends stored renders and never compiles, so it never loads it.
 */
function loadMjml(): Mjml2Html {
  // mjml ships no types; this is its documented CommonJS entry point.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return (mjml2html ??= require('mjml') as Mjml2Html);
}

function isMjmlValidationError(err: unknown): err is Error & { errors: MjmlIssue[] } {
  return err instanceof Error && Array.isArray((err as { errors?: unknown }).errors);
}

// ---------------------------------------------------------------------------------------------
// Templates: `{{name}}` inserts an already-escaped value, `{{#name}}…{{/name}}` keeps its content
// only when the value is non-empty (optional fields). No nesting.

const TEMPLATES_DIR = path.join(__dirname, '..', '..', 'templates', 'newsletter');
type TemplateName = 'layout' | Block['type'];
type TemplateValues = Record<string, string | undefined>;

const templateCache = new Map<TemplateName, string>();
const SECTION = /\{\{#(\w+)\}\}([\s\S]*?)\{\{\/\1\}\}/g;
const VARIABLE = /\{\{(\w+)\}\}/g;

function template(name: TemplateName): string {
  let source = templateCache.get(name);
  if (source === undefined) {
    source = fs.readFileSync(path.join(TEMPLATES_DIR, `${name}.mjml`), 'utf8');
    templateCache.set(name, source);
  }
  return source;
}

function interpolate(source: string, values: TemplateValues): string {
  return source
    .replace(SECTION, (_match, name: string, inner: string) => (values[name] ? inner : ''))
    .replace(VARIABLE, (_match, name: string) => {
      const value = values[name];
      if (value === undefined) throw new Error(`Newsletter template value missing: ${name}`);
      return value;
    });
}

// ---------------------------------------------------------------------------------------------
// Escaping: MJML copies text and attribute values verbatim, so every user string passes here.

function optionalHtml(value: string | undefined): string | undefined {
  return value ? escapeHtml(value) : undefined;
}

/** Blank lines separate paragraphs; a single newline is a line break. */
function paragraphsHtml(body: string | undefined): string | undefined {
  const paragraphs = (body ?? '')
    .replace(/\r\n?/g, '\n')
    .split(/\n[ \t]*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (paragraphs.length === 0) return undefined;
  return paragraphs.map((p) => `<p>${escapeHtml(p).replace(/[ \t]*\n[ \t]*/g, '<br>')}</p>`).join('');
}

// ---------------------------------------------------------------------------------------------
// Blocks

/** The campaign's links in order; the same numbering the compiled mail uses. */
export function newsletterLinks(content: Pick<NewsletterContent, 'blocks'>): NewsletterLink[] {
  const links: NewsletterLink[] = [];
  content.blocks.forEach((block, index) => {
    if (block.link)
      links.push({
        n: links.length + 1,
        url: block.link.url,
        label: block.link.label,
        blockType: block.type,
        block: index,
      });
  });
  return links;
}

/** `now` decides whether a date shows its year (only when it is not this year's). */
function blockValues(block: Block, href: string | undefined, now: Date | undefined): TemplateValues {
  const linkUrl = optionalHtml(href);
  const common: TemplateValues = {
    title: escapeHtml(block.title),
    body: paragraphsHtml(block.body),
    linkUrl,
    linkLabel: optionalHtml(block.link?.label),
    // An empty href leaves the image unlinked (MJML writes no <a>).
    imageHref: linkUrl ?? '',
  };
  switch (block.type) {
    case 'activity':
      return {
        ...common,
        time: escapeHtml(formatActivityTime(block.startsAt, now)),
        location: optionalHtml(block.location),
        imageUrl: optionalHtml(block.imageUrl),
      };
    case 'news':
      return { ...common, imageUrl: optionalHtml(block.imageUrl) };
    case 'offer':
      return {
        ...common,
        code: optionalHtml(block.code),
        validUntil: block.validUntil ? escapeHtml(formatValidUntil(block.validUntil, now)) : undefined,
      };
  }
}

// ---------------------------------------------------------------------------------------------
// Per-recipient placeholders. A fresh random nonce per compile, kept with the render (also when
// stored), means no campaign text can contain (and so hijack) a placeholder of its rendering;
// the campaign schema refuses placeholder-like text besides.

type Slot = 'greeting' | 'unsubscribeUrl';
const SLOT_BY_MARKER_NAME: Record<string, Slot> = { GREETING: 'greeting', UNSUB: 'unsubscribeUrl' };
const NONCE = /^[0-9a-f]{24}$/;

interface Markers {
  greeting: string;
  unsubscribeUrl: string;
}

function markersOf(nonce: string): Markers {
  return { greeting: `%%KK_${nonce}_GREETING%%`, unsubscribeUrl: `%%KK_${nonce}_UNSUB%%` };
}

/** Exactly this render's placeholders: a slot with any other nonce is plain text. */
function markerPattern(nonce: string): RegExp {
  if (!NONCE.test(nonce)) throw new Error('Compiled newsletter has no valid placeholder nonce');
  return new RegExp(`%%KK_${nonce}_(GREETING|UNSUB)%%`, 'g');
}

/** `parts` interleave with `slots`: parts[0] slots[0] parts[1] … parts[n]. */
interface FillPlan {
  parts: string[];
  slots: Slot[];
}

interface CompiledPlans {
  html: FillPlan;
  text: FillPlan;
  /** The same plans quoted-printable encoded, made on the first `encodeNewsletter`. */
  encoded?: { html: PreEncodedText<Slot>; text: PreEncodedText<Slot> };
}

const plans = new WeakMap<CompiledNewsletter, CompiledPlans>();

function planFill(document: string, pattern: RegExp): FillPlan {
  const parts: string[] = [];
  const slots: Slot[] = [];
  let last = 0;
  for (const match of document.matchAll(pattern)) {
    parts.push(document.slice(last, match.index));
    slots.push(SLOT_BY_MARKER_NAME[match[1]]);
    last = match.index + match[0].length;
  }
  parts.push(document.slice(last));
  if (!slots.includes('unsubscribeUrl'))
    throw new Error('Compiled newsletter has no unsubscribe placeholder');
  return { parts, slots };
}

function planCompiled(compiled: CompiledNewsletter): CompiledPlans {
  const pattern = markerPattern(compiled.nonce);
  return { html: planFill(compiled.html, pattern), text: planFill(compiled.text, pattern) };
}

/** Each compiled object (also one loaded from storage) is planned once, on first fill, with its own nonce. */
function plansOf(compiled: CompiledNewsletter): CompiledPlans {
  let found = plans.get(compiled);
  if (!found) {
    found = planCompiled(compiled);
    plans.set(compiled, found);
  }
  return found;
}

function joinPlan(plan: FillPlan, values: Record<Slot, string>): string {
  // join() yields one flat string; `+=` would build a rope that nodemailer's per-character
  // encoding scans then walk through an extra indirection (measured: ~15 % slower per message).
  const pieces = new Array<string>(plan.parts.length * 2 - 1);
  pieces[0] = plan.parts[0];
  for (let i = 0; i < plan.slots.length; i++) {
    pieces[2 * i + 1] = values[plan.slots[i]];
    pieces[2 * i + 2] = plan.parts[i + 1];
  }
  return pieces.join('');
}

function greetingFor(firstName: string | null | undefined): string {
  const name = firstName?.replace(/\s+/g, ' ').trim();
  return name ? `Hei ${name},` : 'Hei,';
}

// ---------------------------------------------------------------------------------------------
// Compile

interface LineRange {
  start: number;
  end: number;
}

function countNewlines(text: string, from = 0, to = text.length): number {
  let count = 0;
  for (let i = text.indexOf('\n', from); i !== -1 && i < to; i = text.indexOf('\n', i + 1)) count++;
  return count;
}

function composeMjml(
  content: NewsletterContent,
  brand: Brand,
  markers: Markers,
  targets: LinkTargets,
  now: Date | undefined,
) {
  const hrefOf = targets.href ?? ((link: NewsletterLink) => link.url);
  const hrefs = new Map(newsletterLinks(content).map((link) => [link.block, hrefOf(link)]));
  const blockSources = content.blocks.map((block, i) =>
    interpolate(template(block.type), blockValues(block, hrefs.get(i), now)),
  );
  const source = interpolate(template('layout'), {
    webVersionUrl: escapeHtml(targets.webVersionUrl ?? `${brand.publicUrl}/n/forhandsvisning`),
    subject: escapeHtml(content.subject),
    preheader: optionalHtml(content.preheader),
    greeting: markers.greeting,
    blocks: blockSources.join('\n'),
    privacyContact: escapeHtml(brand.privacyContact),
    unsubscribeUrl: markers.unsubscribeUrl,
  });
  return { source, blockLines: blockLineRanges(source, blockSources) };
}

/** Line ranges let an MJML error name the block it came from. */
function blockLineRanges(source: string, blockSources: string[]): LineRange[] {
  let line = 1 + countNewlines(source, 0, source.indexOf(blockSources[0]));
  return blockSources.map((block) => {
    const range = { start: line, end: line + countNewlines(block) };
    line = range.end + 1;
    return range;
  });
}

function toRenderIssue(issue: MjmlIssue, blockLines: LineRange[]): RenderIssue {
  const index = blockLines.findIndex((r) => issue.line >= r.start && issue.line <= r.end);
  return {
    path: index === -1 ? 'template' : `blocks.${index}`,
    message: `MJML <${issue.tagName}> line ${issue.line}: ${issue.message}`,
  };
}

function mjmlError(issues: MjmlIssue[], blockLines: LineRange[]): NewsletterRenderError {
  return new NewsletterRenderError(issues.map((issue) => toRenderIssue(issue, blockLines)));
}

async function renderMjml(source: string, blockLines: LineRange[]): Promise<string> {
  let result: Awaited<ReturnType<Mjml2Html>>;
  try {
    // fonts: {} — Helvetica/Arial are system fonts; no web-font links to third parties.
    result = await loadMjml()(source, { validationLevel: 'strict', keepComments: false, fonts: {} });
  } catch (err) {
    throw isMjmlValidationError(err) ? mjmlError(err.errors, blockLines) : err;
  }
  if (result.errors.length > 0) throw mjmlError(result.errors, blockLines);
  // MJML's indentation is about a quarter of the bytes, and Gmail clips messages over 102 kB
  // (hiding the unsubscribe footer). Safe: no <pre>, and user text holds no raw newlines.
  return result.html.replace(/\n[ \t]+/g, '\n');
}

type HtmlToText = (html: string) => string;
let htmlToText: HtmlToText | undefined;

/** html-to-text is needed only where MJML is compiled: loaded with it, on the first compile. */
function loadHtmlToText(): HtmlToText {
  if (htmlToText) return htmlToText;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { compile } = require('html-to-text') as typeof import('html-to-text');
  return (htmlToText = compile({
    wordwrap: 76,
    selectors: [
      { selector: 'img', format: 'skip' },
      // An image's link is the button's link below it; once is enough in plain text.
      { selector: '.kk-image', format: 'skip' },
      // mj-preview's hidden preheader: inbox preview only, noise in the text part.
      { selector: 'div[style*="display:none"]', format: 'skip' },
      { selector: 'a', options: { hideLinkHrefIfSameAsText: true, linkBrackets: ['[', ']'] } },
      { selector: 'a[href^="mailto:"]', format: 'inline' },
      { selector: 'h2', options: { uppercase: false } },
    ],
  }));
}

function renderText(html: string): string {
  return `${loadHtmlToText()(html)
    .replace(/[ \t]+$/gm, '')
    .replace(/\n{3,}/g, '\n\n')
    .trim()}\n`;
}

function validateContent(content: NewsletterContent): NewsletterContent {
  const parsed = newsletterContentSchema.safeParse(content);
  if (!parsed.success) {
    throw new NewsletterRenderError(
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    );
  }
  return parsed.data;
}

/**
 * Once per campaign. Throws NewsletterRenderError for invalid content or MJML errors. `now` (the
 * time of the render) makes a date in another year show its year; without it no year is shown.
 */
export async function compileNewsletter(
  content: NewsletterContent,
  brand: Brand,
  targets: LinkTargets = {},
  now?: Date,
): Promise<CompiledNewsletter> {
  const valid = validateContent(content);
  const nonce = crypto.randomBytes(12).toString('hex');
  const { source, blockLines } = composeMjml(valid, brand, markersOf(nonce), targets, now);
  const html = await renderMjml(source, blockLines);
  // Frozen so the cached segments can never drift from html/text.
  const compiled: CompiledNewsletter = Object.freeze({
    subject: valid.subject,
    html,
    text: renderText(html),
    nonce,
  });
  plans.set(compiled, planCompiled(compiled));
  return compiled;
}

function slotValues(values: RecipientValues): { html: Record<Slot, string>; text: Record<Slot, string> } {
  const greeting = greetingFor(values.firstName);
  return {
    html: { greeting: escapeHtml(greeting), unsubscribeUrl: escapeHtml(values.unsubscribeUrl) },
    text: { greeting, unsubscribeUrl: values.unsubscribeUrl },
  };
}

/** Once per recipient: joins precomputed segments; values are HTML-escaped in html, raw in text. */
export function fillNewsletter(
  compiled: CompiledNewsletter,
  values: RecipientValues,
): { subject: string; html: string; text: string } {
  const { html, text } = plansOf(compiled);
  const v = slotValues(values);
  return { subject: compiled.subject, html: joinPlan(html, v.html), text: joinPlan(text, v.text) };
}

/**
 * Once per recipient, ready for the wire: the same html and text as `fillNewsletter`, quoted-printable
 * encoded. Lines without a per-recipient value were encoded once per campaign (see PreEncodedText).
 */
export function encodeNewsletter(
  compiled: CompiledNewsletter,
  values: RecipientValues,
): { subject: string; encoded: { html: string; text: string } } {
  const compiledPlans = plansOf(compiled);
  const plan = (compiledPlans.encoded ??= {
    html: PreEncodedText.fromPlan(compiledPlans.html.parts, compiledPlans.html.slots),
    text: PreEncodedText.fromPlan(compiledPlans.text.parts, compiledPlans.text.slots),
  });
  const v = slotValues(values);
  return {
    subject: compiled.subject,
    encoded: { html: plan.html.fill(v.html), text: plan.text.fill(v.text) },
  };
}

/** Stands in for the unsubscribe URL in the web version, where it is then replaced by a note. */
const WEB_VERSION_UNSUBSCRIBE = 'https://nettversjon.invalid/';
const WEB_VERSION_UNSUBSCRIBE_LINK = /<a href="https:\/\/nettversjon\.invalid\/"[^>]*>[\s\S]*?<\/a>/g;

/**
 * The newsletter as one web page for everyone (`/n/{publicId}`): the greeting without a name,
 * and the footer's unsubscribe link, which is each member's own, replaced by where to find it.
 */
export function renderWebVersion(compiled: CompiledNewsletter): string {
  const { html } = fillNewsletter(compiled, { firstName: null, unsubscribeUrl: WEB_VERSION_UNSUBSCRIBE });
  const page = html.replace(
    WEB_VERSION_UNSUBSCRIBE_LINK,
    'Du kan melde deg av med lenken nederst i e-posten du fikk.',
  );
  if (page.includes(WEB_VERSION_UNSUBSCRIBE)) throw new Error('web version: the unsubscribe link is left');
  return page;
}
