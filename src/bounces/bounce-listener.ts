import type net from 'node:net';
import { SMTPServer, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import type { Logger } from '../logger';
import type { Metrics } from '../metrics';
import { isConnectionError } from '../db/errors';
import type { VerpTags } from '../mail/verp';
import type { BounceReport } from './bounce-report.entity';
import type { ApplyOutcome } from './bounces.service';
import { readInboundReport } from './inbound-report';

/** Reports are small; anything larger is not a report (CONTRACT §9 via the issue: reject over 1 MB). */
export const MAX_REPORT_BYTES = 1024 * 1024;
/** A report goes to one VERP address; a transaction naming more is not one of ours. */
const MAX_RECIPIENTS = 50;

const smtpError = (code: number, message: string) =>
  Object.assign(new Error(message), { responseCode: code });

/**
 * The SMTP listener of the bounce domain (CONTRACT §9): the domain's MX points here. It accepts
 * only recipients at BOUNCE_DOMAIN, refuses messages over 1 MB, reads DSNs and feedback reports,
 * and answers 250 for everything it understands or drops. Nothing it receives is stored; a report
 * that cannot be applied because the database is away is answered 451, so the sender tries again.
 */
export class BounceListener {
  private readonly server: SMTPServer;
  private readonly verp: VerpTags;
  private readonly apply: (report: BounceReport) => Promise<ApplyOutcome>;
  private readonly logger: Logger;
  private readonly metrics?: Metrics;
  private readonly sockets = new Set<net.Socket>();

  constructor(deps: {
    verp: VerpTags;
    apply: (report: BounceReport) => Promise<ApplyOutcome>;
    logger: Logger;
    metrics?: Metrics;
    /** The name in the greeting (defaults to the bounce domain). */
    name?: string;
  }) {
    this.verp = deps.verp;
    this.apply = deps.apply;
    this.logger = deps.logger;
    this.metrics = deps.metrics;
    this.server = new SMTPServer({
      name: deps.name ?? this.verp.domain,
      banner: 'Kundeklubb bounce listener',
      // No logins and no TLS keys here: reports arrive as any MX's mail does, in plain SMTP.
      disabledCommands: ['AUTH', 'STARTTLS'],
      hideSTARTTLS: true,
      authOptional: true,
      size: MAX_REPORT_BYTES,
      maxRecipients: MAX_RECIPIENTS,
      maxClients: 200,
      socketTimeout: 60_000,
      closeTimeout: 5_000,
      disableReverseLookup: true,
      logger: false,
      onRcptTo: (address, _session, callback) => {
        const domain = address.address.slice(address.address.lastIndexOf('@') + 1).toLowerCase();
        if (domain !== this.verp.domain) return callback(smtpError(550, '5.7.1 Relaying denied'));
        callback();
      },
      onData: (stream, session, callback) => this.receive(stream, session, callback),
    });
    // A client that vanishes mid-session is ordinary on the internet; it must not end the process.
    this.server.on('error', (err) =>
      this.logger.debug({ err: String(err.message) }, 'bounce listener connection error'),
    );
    this.server.server.on('connection', (socket: net.Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
    });
  }

  /** Listens on `port` (0: any free port) and resolves with the port. */
  listen(port: number, host?: string): Promise<number> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => reject(err);
      this.server.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.server.off('error', onError);
        resolve((this.server.server.address() as net.AddressInfo).port);
      });
    });
  }

  /** Stops accepting, lets sessions in progress end (up to 5 s), then closes. */
  close(): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        for (const socket of this.sockets) socket.destroy();
      }, 5_000);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  private receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void {
    const chunks: Buffer[] = [];
    let kept = 0;
    stream.on('data', (chunk: Buffer) => {
      if (kept > MAX_REPORT_BYTES) return; // drained, not kept
      chunks.push(chunk);
      kept += chunk.length;
    });
    stream.on('end', () => {
      if (stream.sizeExceeded || kept > MAX_REPORT_BYTES)
        return callback(smtpError(552, '5.3.4 Message too big for a report'));
      const envelope = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      this.handle(Buffer.concat(chunks), envelope).then(
        (answer) => callback(null, answer),
        (err: unknown) => {
          if (isConnectionError(err)) {
            this.logger.warn(
              { err: String((err as Error)?.message ?? err) },
              'bounce report deferred: database unavailable',
            );
            return callback(smtpError(451, '4.3.0 Try again later'));
          }
          this.logger.error({ err: String((err as Error)?.message ?? err) }, 'bounce report failed');
          callback(smtpError(451, '4.3.0 Try again later'));
        },
      );
    });
  }

  private async handle(raw: Buffer, envelope: string[]): Promise<string> {
    let report: Omit<BounceReport, 'source'> | null;
    try {
      report = await readInboundReport(raw, (text) => this.verp.findIn(text));
    } catch {
      report = null; // malformed MIME is not a report
    }
    if (!report) {
      this.metrics?.reportIgnored('smtp', 'unreadable');
      return 'OK: not a report; dropped';
    }
    // The envelope recipient first: that is where the report was sent; then the addresses in it.
    const tags = [...new Set([...envelope, ...(report.tags ?? [])])].filter((a) => this.verp.parse(a));
    const outcome = await this.apply({ ...report, source: 'smtp', tags });
    return `OK: ${outcome}`;
  }
}
