/**
 * Quoted-printable bodies prepared once per template, filled per recipient.
 *
 * nodemailer re-encodes a message's whole HTML and text for every recipient (a character scan to
 * choose the encoding, then quoted-printable with soft line breaks): for a 25 KB newsletter that
 * is most of the CPU a send costs. QP is line-local (RFC 2045 §6.7: soft breaks and the
 * trailing-whitespace rule never cross a hard line break), so the lines of a compiled newsletter
 * that hold no per-recipient value are encoded once, and only the few lines that do (greeting,
 * unsubscribe link) are encoded per recipient. The encoder itself is nodemailer's.
 */

interface NodemailerQp {
  encode(input: Buffer | string): string;
  wrap(str: string, lineLength?: number): string;
}
// nodemailer's documented `nodemailer/lib/qp` export; its types are not reachable under this
// project's `moduleResolution: node`, hence the typed require.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const qp = require('nodemailer/lib/qp') as NodemailerQp;

/** RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters. */
const LINE_LENGTH = 76;

/** One hard line of text, quoted-printable encoded and soft-wrapped. `line` holds no line break. */
function encodeLine(line: string): string {
  return qp.wrap(qp.encode(line), LINE_LENGTH);
}

/** Quoted-printable encoding of a whole text, CRLF line breaks (what `PreEncodedText` produces without slots). */
export function encodeQuotedPrintable(text: string): string {
  return text.split(/\r?\n/).map(encodeLine).join('\r\n');
}

type Piece<S extends string> = string | { slot: S };
/** A run of lines without slots (already encoded), or one line with slots (encoded per fill). */
type Chunk<S extends string> = { encoded: string } | { line: Piece<S>[] };

export class PreEncodedText<S extends string> {
  private constructor(private readonly chunks: Chunk<S>[]) {}

  /**
   * `parts` interleave with `slots` (parts[0] slots[0] parts[1] … parts[n]), as a template's fill
   * plan does. Slot values must be single-line; a line break in one is encoded as a space.
   */
  static fromPlan<S extends string>(parts: string[], slots: S[]): PreEncodedText<S> {
    if (parts.length !== slots.length + 1) throw new Error('a fill plan has one more part than slots');
    const lines: Piece<S>[][] = [[]];
    parts.forEach((part, i) => {
      const [first, ...rest] = part.split(/\r?\n/);
      if (first) lines[lines.length - 1].push(first);
      for (const line of rest) lines.push(line ? [line] : []);
      if (i < slots.length) lines[lines.length - 1].push({ slot: slots[i] });
    });
    const chunks: Chunk<S>[] = [];
    let constant: string[] = [];
    const flushConstant = () => {
      if (constant.length) chunks.push({ encoded: constant.map(encodeLine).join('\r\n') });
      constant = [];
    };
    for (const line of lines) {
      if (line.every((p) => typeof p === 'string')) {
        constant.push(line.join(''));
      } else {
        flushConstant();
        chunks.push({ line });
      }
    }
    flushConstant();
    return new PreEncodedText(chunks);
  }

  /** The encoded body for one recipient: CRLF line breaks, lines of at most 76 characters. */
  fill(values: Record<S, string>): string {
    const out = new Array<string>(this.chunks.length);
    for (let i = 0; i < this.chunks.length; i++) {
      const chunk = this.chunks[i];
      if ('encoded' in chunk) {
        out[i] = chunk.encoded;
        continue;
      }
      let line = '';
      for (const piece of chunk.line)
        line += typeof piece === 'string' ? piece : values[piece.slot].replace(/[\r\n]+/g, ' ');
      out[i] = encodeLine(line);
    }
    return out.join('\r\n');
  }
}
