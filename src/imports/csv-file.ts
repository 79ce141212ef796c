import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import iconv from 'iconv-lite';
import { parse, type CsvError, type Options } from 'csv-parse';
import { AppError } from '../errors';
import { MSG } from '../presentation/messages';

/**
 * The uploaded file, from the request body to rows: received into a temporary copy (its SHA-256,
 * size, whether it is valid UTF-8, never more than the limit), then read as a stream, never whole,
 * with csv-parse. The copy lives only while its import runs (CONTRACT §11: the file is not kept).
 */

export interface ReceivedFile {
  /** The temporary copy; deleted when its import (or dry run) ends. */
  path: string;
  /** Its file name in the spool folder (random), recorded so a crashed import's copy can be found. */
  name: string;
  size: number;
  sha256: string;
  /** UTF-8 when every byte sequence is valid UTF-8 (a BOM or not), else Windows-1252. */
  encoding: 'utf-8' | 'windows-1252';
}

/** One row as read: its number in the file (the first line is row 1) and its fields. */
export interface CsvRow {
  row: number;
  fields: string[];
}

/** A row csv-parse could not take (more fields than the header, a broken quote). */
export interface CsvRowError {
  row: number;
  message: string;
}

/** A row longer than this is not a spreadsheet row: the file is refused rather than buffered. */
const MAX_ROW_BYTES = 64 * 1024;

export const fileProblem = (type: string, detail: string, status = 422) =>
  new AppError(status, type, status === 413 ? 'Payload too large' : 'Unreadable file', detail);

export const tooLarge = (maxBytes: number) =>
  fileProblem(
    'too-large',
    `The file is larger than ${maxBytes} bytes (${(maxBytes / 1024 / 1024).toFixed(0)} MB), the most one import takes`,
    413,
  );

/**
 * Receives `body` into a new file in `dir`: hashes and counts every byte on the way and checks it
 * is text. Fails (the copy deleted) with 413 past `maxBytes`, 422 for an empty or binary file.
 * On failure the rest of the body is read and dropped, so the client still gets the answer.
 */
export async function receiveFile(
  body: Readable,
  o: { dir: string; maxBytes: number; declaredLength?: number },
): Promise<ReceivedFile> {
  if (o.declaredLength !== undefined && o.declaredLength > o.maxBytes) {
    body.resume();
    throw tooLarge(o.maxBytes);
  }
  await fs.promises.mkdir(o.dir, { recursive: true, mode: 0o700 });
  const name = `${crypto.randomBytes(16).toString('hex')}.csv`;
  const file = path.join(o.dir, name);
  const hash = crypto.createHash('sha256');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let validUtf8 = true;
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (
        size === 0 &&
        chunk.length >= 2 &&
        (chunk.readUInt16BE(0) === 0xfffe || chunk.readUInt16BE(0) === 0xfeff)
      )
        return done(
          fileProblem(
            'not-csv',
            'The file is UTF-16 text; export it as CSV in UTF-8 (or Windows-1252) instead',
          ),
        );
      size += chunk.length;
      if (size > o.maxBytes) return done(tooLarge(o.maxBytes));
      // No text file has NUL bytes: a spreadsheet (.xlsx is a zip), an image, a program.
      if (chunk.indexOf(0) !== -1)
        return done(fileProblem('not-csv', 'The file is binary, not CSV text; export the sheet as CSV'));
      hash.update(chunk);
      if (validUtf8) {
        try {
          utf8.decode(chunk, { stream: true });
        } catch {
          validUtf8 = false;
        }
      }
      done(null, chunk);
    },
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const out = fs.createWriteStream(file, { flags: 'wx', mode: 0o600 });
      let failed = false;
      const fail = (err: unknown) => {
        if (failed) return;
        failed = true;
        body.unpipe(check);
        check.unpipe(out);
        out.destroy();
        // Read the rest and drop it: the answer (413, 422) reaches the client instead of a reset.
        body.resume();
        reject(err);
      };
      body.on('error', fail);
      body.on('close', () => {
        if (!body.readableEnded) fail(new AppError(400, 'aborted', 'Bad request', 'The upload was cut off'));
      });
      check.on('error', fail);
      out.on('error', fail);
      out.on('finish', () => {
        if (!failed) resolve();
      });
      body.pipe(check).pipe(out);
    });
  } catch (err) {
    await fs.promises.rm(file, { force: true });
    throw err;
  }
  if (validUtf8) {
    try {
      utf8.decode();
    } catch {
      validUtf8 = false;
    }
  }
  if (size === 0) {
    await fs.promises.rm(file, { force: true });
    throw fileProblem('empty-file', 'The file is empty (0 bytes)');
  }
  return {
    path: file,
    name,
    size,
    sha256: hash.digest('hex'),
    encoding: validUtf8 ? 'utf-8' : 'windows-1252',
  };
}

/** `;` (Excel in Norwegian) or `,`: whichever the header line has more of outside quotes; `,` when neither. */
export function detectDelimiter(headerLine: string): ';' | ',' {
  let semicolons = 0;
  let commas = 0;
  let quoted = false;
  for (const ch of headerLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && ch === ';') semicolons++;
    else if (!quoted && ch === ',') commas++;
  }
  return semicolons > commas ? ';' : ',';
}

/** The file's first line, decoded (BOM dropped), for the delimiter. */
async function firstLine(file: ReceivedFile): Promise<string> {
  const fd = await fs.promises.open(file.path, 'r');
  try {
    const { bytesRead, buffer } = await fd.read(Buffer.alloc(MAX_ROW_BYTES), 0, MAX_ROW_BYTES, 0);
    const text = iconv.decode(buffer.subarray(0, bytesRead), file.encoding);
    return text.replace(/^\s+/, '').split(/\r?\n|\r/, 1)[0];
  } finally {
    await fd.close();
  }
}

/** The reader of one file: rows in file order (malformed ones as errors) and how far it has read. */
export interface CsvReader {
  rows: AsyncGenerator<CsvRow | CsvRowError>;
  /** Bytes of the file read so far (the progress). */
  bytesRead(): number;
}

function describe(err: CsvError | undefined): string {
  return err?.code === 'CSV_RECORD_INCONSISTENT_FIELDS_LENGTH'
    ? MSG.csvTooManyFields.en
    : MSG.csvUnreadable.en;
}

/**
 * Reads the file as CSV rows, streaming: decoded (UTF-8 without its BOM, or Windows-1252), split
 * on the delimiter of its header line, quoted fields with line breaks and CRLF taken as they are.
 * A row with more fields than the header, or one csv-parse cannot read, comes as a CsvRowError in
 * its place; fewer fields are allowed (Excel drops empty trailing cells). Numbers are the row's
 * place in the file counting every row, blank ones too, as a spreadsheet numbers them.
 */
export async function readCsv(file: ReceivedFile): Promise<CsvReader> {
  const delimiter = detectDelimiter(await firstLine(file));
  let bytes = 0;
  async function* rows(): AsyncGenerator<CsvRow | CsvRowError> {
    let row = 0;
    const skipped: CsvRowError[] = [];
    let fatal: AppError | null = null;
    const input = fs.createReadStream(file.path, { highWaterMark: 64 * 1024 });
    const decoder = iconv.decodeStream(file.encoding);
    const options: Options<CsvRow, string[]> = {
      delimiter,
      relax_column_count_less: true,
      // A stray quote inside a field stays text instead of swallowing the rows after it.
      relax_quotes: true,
      skip_records_with_error: true,
      max_record_size: MAX_ROW_BYTES,
      on_record: (fields: string[]): CsvRow => ({ row: ++row, fields }),
      on_skip: (err: CsvError | undefined) => {
        row++;
        // csv-parse stops reading after this one: the whole file is refused instead.
        if (err?.code === 'CSV_MAX_RECORD_SIZE')
          fatal ??= fileProblem(
            'not-csv',
            `Row ${row} is longer than ${MAX_ROW_BYTES / 1024} KB: the file is not CSV, or a quote is never closed`,
          );
        else skipped.push({ row, message: describe(err) });
        return undefined;
      },
    };
    // on_record turns each record into a CsvRow, which the typings of parse() (string[]) do not follow.
    const parser = parse(options as unknown as Options);
    input.on('data', (chunk: Buffer | string) => {
      bytes += chunk.length;
    });
    input.on('error', (err) => parser.destroy(err));
    decoder.on('error', (err: Error) => parser.destroy(err));
    input.pipe(decoder).pipe(parser);
    try {
      for await (const record of parser as AsyncIterable<CsvRow>) {
        // csv-parse reports a skipped row when it meets it, ahead of the rows still buffered.
        while (skipped.length && skipped[0].row < record.row) yield skipped.shift()!;
        if (fatal) throw fatal;
        yield record;
      }
      if (fatal) throw fatal;
      yield* skipped;
    } finally {
      input.destroy();
      parser.destroy();
    }
  }
  return { rows: rows(), bytesRead: () => bytes };
}
