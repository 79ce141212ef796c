import fs from 'node:fs';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { DataSource, EntityManager } from 'typeorm';
import type { ImportConfig } from '../config';
import type { Logger } from '../logger';
import { execute } from '../db/sql';
import { fromDbTime, toDbTime, type Clock } from '../db/time';
import { isConnectionError, isDeadlockError, isDuplicateKeyError, isLockConflict } from '../db/errors';
import { AppError, notFound, type FieldError } from '../errors';
import type { MailQueue } from '../mail-queue/mail-queue.service';
import type { ConsentTexts } from '../members/consent-texts';
import type { ImportMemberRow, ImportOutcome, MembersService } from '../members/members.service';
import { MSG } from '../presentation/messages';
import { fileProblem, readCsv, receiveFile, type CsvReader, type ReceivedFile } from './csv-file';
import { checkRow, isBlankRow, readHeader, type ImportHeader } from './import-rows';
import {
  emptyCounts,
  type ImportCounts,
  type ImportStatus,
  type ImportView,
  type WithoutConsent,
} from './imports.schema';

/** The report keeps the first this many row errors. */
export const MAX_ERRORS = 100;
/** A running import writes its heartbeat this often, whatever its batches do. */
const HEARTBEAT_MS = 15_000;
/** An import left `running` without a heartbeat for this long was interrupted: its process died. */
export const STALE_MS = 2 * 60_000;
/** Rows that write nothing (errors, duplicates) have their counts saved at least this often. */
const SAVE_EVERY_MS = 1000;
/** A temporary copy older than this belongs to no import any more (a dry run cut off by a crash). */
const SPOOL_MAX_AGE_MS = 24 * 3600_000;

export interface ImportOptions {
  withoutConsent: WithoutConsent;
  /** `staff:{id}` or `client:{id}`: who started it, never an address. */
  createdBy: string;
}

interface RowError {
  row: number;
  path: string;
  message: string;
}

/** Stops a run between two batches (the service shutting down, or the import marked interrupted). */
class Interrupted extends Error {}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

type Applied = Record<ImportOutcome, number>;

/**
 * One run's (or dry run's) reckoning. The reader counts rows, errors and duplicates as it goes;
 * the batches' outcomes are added only once their transaction commits, so the counts saved with
 * a batch are those of the batches committed (and of the rows read so far).
 */
class Tally {
  rows = 0;
  invalid = 0;
  duplicate = 0;
  private readonly applied: Applied = {
    created: 0,
    pending: 0,
    unchanged: 0,
    suppressed: 0,
    unsubscribed: 0,
    restricted: 0,
    bounced: 0,
  };
  readonly errors: RowError[] = [];
  /** The file's addresses so far: the first row of an address wins, later ones are duplicates. */
  private readonly seen = new Set<string>();

  rowError(row: number, errors: FieldError[]): void {
    this.invalid++;
    for (const e of errors) if (this.errors.length < MAX_ERRORS) this.errors.push({ row, ...e });
  }

  /** True the first time the address is met. */
  firstTime(email: string): boolean {
    if (this.seen.has(email)) return false;
    this.seen.add(email);
    return true;
  }

  /** After a batch commits (or is planned, in a dry run). */
  add(outcomes: ImportOutcome[]): void {
    for (const o of outcomes) this.applied[o]++;
  }

  /** The counts as they stand, with the `outcomes` of a batch about to commit. */
  counts(outcomes: ImportOutcome[] = []): ImportCounts {
    const a = { ...this.applied };
    for (const o of outcomes) a[o]++;
    return {
      rows: this.rows,
      created: a.created,
      pending: a.pending,
      unchanged: a.unchanged,
      skipped: {
        suppressed: a.suppressed,
        unsubscribed: a.unsubscribed,
        restricted: a.restricted,
        bounced: a.bounced,
        invalid: this.invalid,
        duplicate: this.duplicate,
      },
    };
  }
}

/**
 * CSV import with consent evidence (CONTRACT §11). The body is received into a temporary copy
 * (its SHA-256 known before anything else happens), read as a stream in batches of
 * IMPORT_BATCH_SIZE rows, each batch one transaction through the members room (members, consent
 * events, search tokens, confirmation mails, events) together with this import's counts: a crash
 * leaves whole batches only, and the same file again finds them `unchanged`. The copy is deleted
 * when the import ends; the file is never kept.
 */
export class ImportsService {
  private readonly ds: DataSource;
  private readonly config: ImportConfig;
  private readonly members: MembersService;
  private readonly mailQueue: MailQueue;
  private readonly consentTexts: ConsentTexts;
  private readonly logger: Logger;
  private readonly clock: Clock;
  /** Imports running in this process, by id. */
  private readonly running = new Map<number, Promise<void>>();
  private stopping = false;

  constructor(deps: {
    dataSource: DataSource;
    config: ImportConfig;
    members: MembersService;
    mailQueue: MailQueue;
    consentTexts: ConsentTexts;
    logger: Logger;
    clock: Clock;
  }) {
    this.ds = deps.dataSource;
    this.config = deps.config;
    this.members = deps.members;
    this.mailQueue = deps.mailQueue;
    this.consentTexts = deps.consentTexts;
    this.logger = deps.logger;
    this.clock = deps.clock;
    // Files the Norwegian of the message naming the known versions in every process (the admin
    // shows the errors of imports other processes ran).
    MSG.consentTextVersion(this.consentTexts.versions());
  }

  get maxBytes(): number {
    return this.config.maxBytes;
  }

  /** Receives an upload into the temporary copy: 413 past the limit, 422 for an empty or binary file. */
  receive(body: Readable, declaredLength?: number): Promise<ReceivedFile> {
    return receiveFile(body, { dir: this.config.spoolDir, maxBytes: this.config.maxBytes, declaredLength });
  }

  /** Every row checked and planned as the import would, nothing written; the copy deleted. */
  async dryRun(file: ReceivedFile, o: Pick<ImportOptions, 'withoutConsent'>): Promise<ImportView> {
    const createdAt = this.clock();
    const { reader, header } = await this.open(file);
    const tally = new Tally();
    try {
      await this.readRows(reader, header, o.withoutConsent, tally, async (rows) => {
        tally.add(await this.members.planImport(rows));
      });
    } finally {
      await this.discard(file);
    }
    const counts = tally.counts();
    this.logger.info({ size: file.size, encoding: file.encoding, ...counts }, 'import dry run');
    return {
      id: null,
      status: 'completed',
      dryRun: true,
      withoutConsent: o.withoutConsent,
      ...counts,
      errors: tally.errors,
      ignoredColumns: header.ignored,
      sha256: file.sha256,
      size: file.size,
      progress: 1,
      failure: null,
      createdAt: createdAt.toISOString(),
      finishedAt: this.clock().toISOString(),
    };
  }

  /**
   * Checks the header (422 when the file cannot be imported at all), records the import as
   * `running` and reads the rest in the background; the answer is the import as recorded.
   */
  async start(file: ReceivedFile, o: ImportOptions): Promise<ImportView> {
    const { reader, header } = await this.open(file);
    let id: number;
    try {
      id = await this.record(file, o, header.ignored);
    } catch (err) {
      await reader.rows.return(undefined);
      await this.discard(file);
      throw err;
    }
    this.logger.info({ importId: id, size: file.size, encoding: file.encoding }, 'import started');
    const run = this.run(id, file, reader, header, o)
      .catch((err: unknown) => this.logger.error({ importId: id, err: String(err) }, 'import run failed'))
      .finally(() => this.running.delete(id));
    this.running.set(id, run);
    return this.get(id);
  }

  /** Resolves when the import no longer runs in this process (tests; the admin's final report). */
  async settled(id: number): Promise<void> {
    await this.running.get(id);
  }

  async get(id: number): Promise<ImportView> {
    await this.markStale(this.clock(), id);
    const res = await execute(this.ds, 'SELECT * FROM imports WHERE id = ?', [id]);
    if (!res.records.length) throw notFound('import');
    return present(res.records[0]);
  }

  /** The latest imports, newest first (the admin page). */
  async list(limit = 20): Promise<ImportView[]> {
    await this.markStale(this.clock());
    const res = await execute(this.ds, `SELECT * FROM imports ORDER BY id DESC LIMIT ${Math.floor(limit)}`);
    return res.records.map(present);
  }

  /** Shutting down: every running import stops after its current batch and is marked `interrupted`. */
  async stop(): Promise<void> {
    this.stopping = true;
    await Promise.all([...this.running.values()]);
  }

  /**
   * Imports left `running` by a process that died (no heartbeat for STALE_MS) become
   * `interrupted`, their temporary copy deleted; the same file again completes them. Only from
   * `running`, and only when still silent, so a live import elsewhere is never touched.
   */
  async markStale(now: Date, id?: number): Promise<number> {
    const cutoff = toDbTime(new Date(now.getTime() - STALE_MS));
    const res = await execute(
      this.ds,
      `SELECT id, spool_name FROM imports WHERE status = 'running' AND updated_at < ?${id === undefined ? '' : ' AND id = ?'}`,
      id === undefined ? [cutoff] : [cutoff, id],
    );
    let marked = 0;
    for (const r of res.records) {
      const staleId = Number(r.id);
      if (this.running.has(staleId)) continue;
      const t = toDbTime(now);
      const upd = await execute(
        this.ds,
        `UPDATE imports SET status = 'interrupted', failure = ?, finished_at = ?, updated_at = ?
         WHERE id = ? AND status = 'running' AND updated_at < ?`,
        [
          'the process running the import stopped; import the same file again to complete it',
          t,
          t,
          staleId,
          cutoff,
        ],
      );
      if (upd.affected !== 1) continue;
      marked++;
      this.logger.warn({ importId: staleId }, 'import interrupted: its process stopped');
      if (r.spool_name) await this.discardName(String(r.spool_name));
    }
    return marked;
  }

  /** Retention: stale imports marked, and temporary copies no import reads any more deleted. */
  async housekeeping(now: Date): Promise<number> {
    const marked = await this.markStale(now);
    const names = await fs.promises.readdir(this.config.spoolDir).catch(() => [] as string[]);
    let removed = 0;
    for (const name of names) {
      const stat = await fs.promises.stat(path.join(this.config.spoolDir, name)).catch(() => null);
      if (stat && now.getTime() - stat.mtimeMs > SPOOL_MAX_AGE_MS) {
        await this.discardName(name);
        removed++;
      }
    }
    return marked + removed;
  }

  // ---- the run ----

  /** The reader and the header row (the first row that is not blank); on failure the copy is deleted. */
  private async open(file: ReceivedFile): Promise<{ reader: CsvReader; header: ImportHeader }> {
    let reader: CsvReader | undefined;
    try {
      reader = await readCsv(file);
      for (;;) {
        const next = await reader.rows.next();
        if (next.done) throw fileProblem('no-header', 'The file has no header row (it holds no text)');
        const item = next.value;
        if ('message' in item)
          throw fileProblem('no-header', `The header row (row ${item.row}) could not be read as CSV`);
        if (isBlankRow(item.fields)) continue;
        return { reader, header: readHeader(item.row, item.fields) };
      }
    } catch (err) {
      await reader?.rows.return(undefined);
      await this.discard(file);
      throw err;
    }
  }

  /**
   * Checks every row after the header and hands the good ones to `flush` in batches; errors and
   * duplicates are counted here. While one batch is written the next is read and checked (on
   * MariaDB the writing waits on the server), but a batch starts only once the one before it has
   * ended. `idle` runs now and then between rows that write nothing.
   */
  private async readRows(
    reader: CsvReader,
    header: ImportHeader,
    withoutConsent: WithoutConsent,
    tally: Tally,
    flush: (rows: ImportMemberRow[]) => Promise<void>,
    idle?: () => Promise<void>,
  ): Promise<void> {
    let batch: ImportMemberRow[] = [];
    let sinceIdle = 0;
    let writing: Promise<void> | null = null;
    const write = async (rows: ImportMemberRow[]) => {
      if (writing) await writing;
      const next = flush(rows);
      // Awaited before the next batch starts or at the end: a failure surfaces there.
      next.catch(() => undefined);
      writing = next;
    };
    try {
      for await (const item of reader.rows) {
        if ('message' in item) {
          tally.rows++;
          tally.rowError(item.row, [{ path: '', message: item.message }]);
        } else if (!isBlankRow(item.fields)) {
          tally.rows++;
          const checked = checkRow(item, header, {
            consentTexts: this.consentTexts,
            now: this.clock(),
            withoutConsent,
          });
          if (!checked.ok) tally.rowError(item.row, checked.errors);
          else if (!tally.firstTime(checked.row.email)) tally.duplicate++;
          else batch.push(checked.row);
        }
        if (batch.length >= this.config.batchSize) {
          await write(batch);
          batch = [];
          sinceIdle = 0;
        } else if (idle && ++sinceIdle >= 1000) {
          await idle();
          sinceIdle = 0;
        }
      }
      if (batch.length) await write(batch);
      if (writing) await writing;
    } finally {
      // Never return while a batch is still being written (its outcome, then the copy's deletion).
      if (writing) await (writing as Promise<void>).catch(() => undefined);
    }
  }

  private async run(
    id: number,
    file: ReceivedFile,
    reader: CsvReader,
    header: ImportHeader,
    o: ImportOptions,
  ): Promise<void> {
    const tally = new Tally();
    const heartbeat = setInterval(() => {
      execute(this.ds, `UPDATE imports SET updated_at = ? WHERE id = ? AND status = 'running'`, [
        toDbTime(this.clock()),
        id,
      ]).catch((err: unknown) =>
        this.logger.warn({ importId: id, err: String(err) }, 'import heartbeat failed'),
      );
    }, HEARTBEAT_MS);
    heartbeat.unref();
    let savedAt = Date.now();
    let writing = false;
    try {
      await this.readRows(
        reader,
        header,
        o.withoutConsent,
        tally,
        async (rows) => {
          if (this.stopping) throw new Interrupted();
          writing = true;
          try {
            const done = await this.commitBatch(id, file, rows, tally, reader.bytesRead());
            tally.add(done.outcomes);
            if (done.queuedMail) this.mailQueue.kick();
          } finally {
            writing = false;
            savedAt = Date.now();
          }
        },
        async () => {
          if (this.stopping) throw new Interrupted();
          // Not while a batch is written: saved after it, these counts would lack its outcomes.
          if (writing || Date.now() - savedAt < SAVE_EVERY_MS) return;
          await this.saveProgress(this.ds.manager, id, tally.counts(), tally.errors, reader.bytesRead());
          savedAt = Date.now();
        },
      );
      await this.finish(id, 'completed', tally, null);
    } catch (err) {
      const interrupted = err instanceof Interrupted;
      if (!interrupted)
        this.logger.error(
          { importId: id, err: { message: String((err as Error)?.message ?? err) } },
          'import failed',
        );
      await this.finish(
        id,
        interrupted ? 'interrupted' : 'failed',
        tally,
        interrupted
          ? 'the service stopped during the import; import the same file again to complete it'
          : err instanceof AppError
            ? err.message
            : 'an internal error stopped the import; import the same file again to complete it',
      ).catch((e: unknown) =>
        this.logger.error({ importId: id, err: String(e) }, 'import outcome could not be recorded'),
      );
    } finally {
      clearInterval(heartbeat);
      await reader.rows.return(undefined);
      await this.discard(file);
    }
  }

  /**
   * One batch in one transaction with this import's counts. A sign-up of one of its addresses
   * racing it (the unique index), or a deadlock, runs the batch again: it then finds that member.
   * While the database is away it waits, as the rest of the service does.
   */
  private async commitBatch(
    id: number,
    file: ReceivedFile,
    rows: ImportMemberRow[],
    tally: Tally,
    bytesRead: number,
  ): Promise<{ outcomes: ImportOutcome[]; queuedMail: boolean }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.ds.transaction(async (manager) => {
          const done = await this.members.importBatch(manager, rows, { sha256: file.sha256 });
          await this.saveProgress(manager, id, tally.counts(done.outcomes), tally.errors, bytesRead);
          return done;
        });
      } catch (err) {
        if (attempt < 5 && (isDuplicateKeyError(err) || isDeadlockError(err) || isLockConflict(err)))
          continue;
        if (attempt < 8 && isConnectionError(err)) {
          await sleep(Math.min(30_000, 1000 * 2 ** (attempt - 1)));
          continue;
        }
        throw err;
      }
    }
  }

  /** The counts as they stand, only while the import is `running` here: marked interrupted elsewhere, it stops. */
  private async saveProgress(
    on: EntityManager,
    id: number,
    counts: ImportCounts,
    errors: RowError[],
    bytesRead: number,
  ): Promise<void> {
    const res = await execute(
      on,
      `UPDATE imports SET counts_json = ?, errors_json = ?, bytes_done = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
      [JSON.stringify(counts), JSON.stringify(errors), bytesRead, toDbTime(this.clock()), id],
    );
    if (res.affected !== 1) throw new Interrupted();
  }

  private async finish(
    id: number,
    status: ImportStatus,
    tally: Tally,
    failure: string | null,
  ): Promise<void> {
    const now = toDbTime(this.clock());
    await execute(
      this.ds,
      `UPDATE imports SET status = ?, counts_json = ?, errors_json = ?,
         bytes_done = CASE WHEN ? = 'completed' THEN size_bytes ELSE bytes_done END,
         failure = ?, finished_at = ?, updated_at = ?
       WHERE id = ? AND status = 'running'`,
      [status, JSON.stringify(tally.counts()), JSON.stringify(tally.errors), status, failure, now, now, id],
    );
    this.logger.info({ importId: id, status, ...tally.counts() }, 'import finished');
  }

  private async record(file: ReceivedFile, o: ImportOptions, ignored: string[]): Promise<number> {
    const now = toDbTime(this.clock());
    const res = await this.ds
      .createQueryBuilder()
      .insert()
      .into('imports')
      .values({
        status: 'running',
        without_consent: o.withoutConsent,
        sha256: file.sha256,
        size_bytes: file.size,
        bytes_done: 0,
        counts_json: JSON.stringify(emptyCounts()),
        errors_json: '[]',
        ignored_columns_json: JSON.stringify(ignored),
        created_by: o.createdBy,
        spool_name: file.name,
        created_at: now,
        updated_at: now,
      })
      .execute();
    return Number(res.identifiers[0]?.id ?? res.raw?.insertId ?? res.raw);
  }

  /** Deletes the temporary copy of a file that will not be imported. */
  discard(file: ReceivedFile): Promise<void> {
    return fs.promises.rm(file.path, { force: true });
  }

  private async discardName(name: string): Promise<void> {
    // Names are ours (hex); anything else in the folder is left alone.
    if (/^[0-9a-f]{32}\.csv$/.test(name))
      await fs.promises.rm(path.join(this.config.spoolDir, name), { force: true });
  }
}

function present(r: Record<string, unknown>): ImportView {
  const counts = JSON.parse(String(r.counts_json)) as ImportCounts;
  const size = Number(r.size_bytes);
  return {
    id: Number(r.id),
    status: String(r.status) as ImportStatus,
    dryRun: false,
    withoutConsent: String(r.without_consent) as WithoutConsent,
    ...counts,
    errors: JSON.parse(String(r.errors_json)) as RowError[],
    ignoredColumns: JSON.parse(String(r.ignored_columns_json)) as string[],
    sha256: String(r.sha256),
    size,
    progress: size > 0 ? Math.min(1, Number(r.bytes_done) / size) : 1,
    failure: (r.failure as string | null) ?? null,
    createdAt: fromDbTime(r.created_at)!.toISOString(),
    finishedAt: fromDbTime(r.finished_at)?.toISOString() ?? null,
  };
}
