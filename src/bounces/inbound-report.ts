import { simpleParser, type Attachment } from 'mailparser';
import type { BounceReport } from './bounce-report.entity';

interface NodemailerMimeFuncs {
  parseHeaderValue(
    str: string,
    options?: { stripComments?: boolean },
  ): { value: string; params: Record<string, string> };
}
// nodemailer's documented `nodemailer/lib/mime-funcs` export (its Content-Type parser: quoted
// values, comments, RFC 2231 continuations); its types are not reachable under this project's
// `moduleResolution: node`, hence the typed require (as in mail/quoted-printable.ts).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const mimeFuncs = require('nodemailer/lib/mime-funcs') as NodemailerMimeFuncs;

/** A `multipart/report` as far as reading it needs: its report type and the body of a part by type. */
interface ReportStructure {
  reportType: string;
  /** The decoded body of the first part of this content type, as text; undefined when there is none. */
  part(contentType: string): string | undefined;
}

/**
 * Reads a message that arrived at the bounce listener. Two kinds are understood, by their
 * `multipart/report` type; anything else (auto-replies, out-of-office, plain text) is null:
 * - RFC 3464 delivery status notification: the first per-recipient block whose `Action` is
 *   `failed` (5.x.x → hard, 4.x.x → soft) or `delayed` (soft);
 * - RFC 5965 feedback report with `Feedback-Type: abuse` → complaint. A report without the
 *   original message (or its headers), which RFC 5965 requires, is not understood.
 * The message itself is never kept: only the outcome, status code and diagnostic text leave here.
 *
 * The MIME structure is read by `readReportStructure` when the report has the plain shape every
 * MTA sends (RFC 3462: the report's parts side by side, the status part in 7bit), and by
 * mailparser otherwise; mailparser alone cost about as much CPU per report as applying it.
 */
export async function readInboundReport(
  raw: Buffer,
  findTags: (text: string) => string[],
): Promise<Omit<BounceReport, 'source'> | null> {
  const plain = readReportStructure(raw);
  const report = plain === 'not plain' ? await parseWithMailparser(raw) : plain;
  if (!report) return null;

  if (report.reportType === 'delivery-status') {
    const status = report.part('message/delivery-status');
    if (status === undefined) return null;
    const outcome = deliveryOutcome(status);
    if (!outcome) return null;
    return { ...outcome, tags: findTags(raw.toString('latin1')) };
  }
  if (report.reportType === 'feedback-report') {
    const feedback = report.part('message/feedback-report');
    if (feedback === undefined) return null;
    const fields = readFields(feedback);
    if ((fields.get('feedback-type') ?? '').toLowerCase() !== 'abuse') return null;
    if (!/^content-type:\s*(message\/rfc822|text\/rfc822-headers)/im.test(raw.toString('latin1')))
      return null;
    return {
      kind: 'complaint',
      statusCode: null,
      diagnostic: null,
      tags: findTags(raw.toString('latin1')),
    };
  }
  return null;
}

async function parseWithMailparser(raw: Buffer): Promise<ReportStructure | null> {
  const parsed = await simpleParser(raw, {
    keepDeliveryStatus: true,
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipTextLinks: true,
    skipImageLinks: true,
  });
  const type = parsed.headers.get('content-type') as
    { value?: string; params?: Record<string, string> } | undefined;
  if (type?.value?.toLowerCase() !== 'multipart/report') return null;
  return {
    reportType: (type.params?.['report-type'] ?? '').toLowerCase(),
    part: (contentType) =>
      parsed.attachments
        .find((a: Attachment) => a.contentType.toLowerCase() === contentType)
        ?.content.toString('utf8'),
  };
}

/** The parts a report is read by; one of them in another transfer encoding sends the report to mailparser. */
const REPORT_PARTS = new Set(['message/delivery-status', 'message/feedback-report']);
const IDENTITY_ENCODINGS = new Set(['', '7bit', '8bit', 'binary']);

/**
 * The MIME structure of a report in its plain shape (RFC 2046 §5.1, RFC 3462): a top-level
 * `multipart/report` with a boundary, its parts side by side up to the closing delimiter, none
 * of them multipart, and the report's own part there in an identity transfer encoding. Null
 * when the message is not a `multipart/report` at all; `not plain` for any other shape (nested
 * parts, an encoded status part, no closing delimiter, two Content-Type headers), which
 * mailparser then reads.
 */
export function readReportStructure(raw: Buffer): ReportStructure | null | 'not plain' {
  // latin1 maps each byte to one character: string offsets are byte offsets into `raw`.
  const text = raw.toString('latin1');
  const top = readHeaderBlock(text, 0, text.length);
  if (!top) return 'not plain';
  const types = top.headers.get('content-type');
  if (!types) return null; // text/plain by default (RFC 2045 §5.2)
  if (types.length > 1) return 'not plain';
  const type = mimeFuncs.parseHeaderValue(types[0], { stripComments: true });
  if (type.value.toLowerCase() !== 'multipart/report') return null;
  const boundary = type.params.boundary;
  if (!boundary || !IDENTITY_ENCODINGS.has(encodingOf(top.headers))) return 'not plain';

  const parts: Array<{ type: string; start: number; end: number }> = [];
  const delimiter = `--${boundary}`;
  let partStart = -1;
  let closed = false;
  for (let at = top.bodyStart; at < text.length && !closed;) {
    const eol = text.indexOf('\n', at);
    const lineEnd = eol < 0 ? text.length : eol;
    const next = eol < 0 ? text.length : eol + 1;
    if (text.startsWith(delimiter, at)) {
      // Transport padding after the delimiter is allowed (RFC 2046 §5.1.1).
      const rest = text.slice(at + delimiter.length, lineEnd);
      const close = rest.startsWith('--');
      if (/^[ \t\r]*$/.test(close ? rest.slice(2) : rest)) {
        if (partStart >= 0) {
          // The line break before a delimiter belongs to the delimiter.
          const end = at - (text[at - 2] === '\r' ? 2 : 1);
          const part = readHeaderBlock(text, partStart, Math.max(partStart, end));
          if (!part) return 'not plain';
          const partType = part.headers.get('content-type');
          if (partType && partType.length > 1) return 'not plain';
          const value = partType
            ? mimeFuncs.parseHeaderValue(partType[0], { stripComments: true }).value.toLowerCase()
            : 'text/plain';
          if (value.startsWith('multipart/')) return 'not plain';
          if (REPORT_PARTS.has(value) && !IDENTITY_ENCODINGS.has(encodingOf(part.headers)))
            return 'not plain';
          parts.push({ type: value, start: part.bodyStart, end: Math.max(part.bodyStart, end) });
        }
        partStart = next;
        closed = close;
      }
    }
    at = next;
  }
  if (!closed) return 'not plain';
  const reportType = (type.params['report-type'] ?? '').toLowerCase();
  const wanted =
    reportType === 'delivery-status'
      ? 'message/delivery-status'
      : reportType === 'feedback-report'
        ? 'message/feedback-report'
        : null;
  // Not found side by side: leave it to mailparser, which also looks inside attached messages.
  if (wanted && !parts.some((p) => p.type === wanted)) return 'not plain';
  return {
    reportType,
    part: (contentType) => {
      const p = parts.find((x) => x.type === contentType);
      return p ? raw.subarray(p.start, p.end).toString('utf8') : undefined;
    },
  };
}

/**
 * The header block of an entity between `start` and `end`: unfolded fields by lower-cased name
 * (every occurrence, in order) and where the body begins (after the empty line). Null when
 * there is no empty line: an entity without a body.
 */
function readHeaderBlock(
  text: string,
  start: number,
  end: number,
): { headers: Map<string, string[]>; bodyStart: number } | null {
  const headers = new Map<string, string[]>();
  let last: { name: string; index: number } | null = null;
  for (let at = start; at < end;) {
    const eol = text.indexOf('\n', at);
    const lineEnd = eol < 0 || eol > end ? end : eol;
    const line = text.slice(at, text[lineEnd - 1] === '\r' ? lineEnd - 1 : lineEnd);
    const next = lineEnd + 1;
    if (line === '') return { headers, bodyStart: Math.min(next, end) };
    if ((line[0] === ' ' || line[0] === '\t') && last) {
      const values = headers.get(last.name)!;
      values[last.index] += ` ${line.trim()}`;
    } else {
      const colon = line.indexOf(':');
      if (colon <= 0) return null; // not a header field: not the plain shape
      const name = line.slice(0, colon).trim().toLowerCase();
      const values = headers.get(name) ?? [];
      values.push(line.slice(colon + 1).trim());
      headers.set(name, values);
      last = { name, index: values.length - 1 };
    }
    at = next;
  }
  return null;
}

const encodingOf = (headers: Map<string, string[]>) =>
  (headers.get('content-transfer-encoding')?.[0] ?? '').trim().toLowerCase();

/** The outcome of a `message/delivery-status` body: its first failed or delayed recipient. */
export function deliveryOutcome(
  body: string,
): Pick<BounceReport, 'kind' | 'statusCode' | 'diagnostic'> | null {
  // A per-message block, then one block per recipient, separated by blank lines (RFC 3464 §2.1).
  const blocks = body.split(/\r?\n\s*\r?\n/).map(readFields);
  for (const f of blocks) {
    const action = (f.get('action') ?? '').toLowerCase();
    const status = /^([245])\.\d{1,3}\.\d{1,3}/.exec(f.get('status') ?? '')?.[0] ?? null;
    const diagnostic = f.get('diagnostic-code')?.replace(/^[^;]*;\s*/, '') ?? null;
    if (action === 'failed' && status?.startsWith('5'))
      return { kind: 'hard', statusCode: status, diagnostic };
    if ((action === 'failed' && status?.startsWith('4')) || action === 'delayed')
      return { kind: 'soft', statusCode: status, diagnostic };
  }
  return null;
}

/** Header-style fields (`Name: value`, continuation lines folded), names lower-cased; the first of each wins. */
function readFields(block: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const line of block.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!fields.has(name)) fields.set(name, line.slice(colon + 1).trim());
  }
  return fields;
}
