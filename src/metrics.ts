import client from 'prom-client';

/**
 * Prometheus metrics. Labels carry routes, states and classes only — never an address, a
 * name, a token or an IP. Gauges are read from the database at scrape time through the rooms
 * that own the rows (see the composition root), so every API replica reports the same truth.
 */
export class Metrics {
  readonly registry = new client.Registry();
  private readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  private readonly sent: client.Counter;
  private readonly smtpErrors: client.Counter<'class'>;
  private readonly reports: client.Counter<'kind' | 'source'>;
  private readonly reportsIgnored: client.Counter<'source' | 'reason'>;

  constructor() {
    const registers = [this.registry];
    client.collectDefaultMetrics({ register: this.registry, prefix: 'kundeklubb_' });
    this.httpDuration = new client.Histogram({
      name: 'kundeklubb_http_request_duration_seconds',
      help: 'HTTP request duration by route pattern',
      labelNames: ['method', 'route', 'status'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.sent = new client.Counter({
      name: 'kundeklubb_newsletters_sent_total',
      help: 'Newsletters handed to SMTP by this process',
      registers,
    });
    this.reports = new client.Counter({
      name: 'kundeklubb_bounce_reports_total',
      help: 'Bounces and complaints applied by this process, by kind (hard, soft, complaint) and source (smtp, ses, mailgun, sendgrid, postmark)',
      labelNames: ['kind', 'source'],
      registers,
    });
    this.reportsIgnored = new client.Counter({
      name: 'kundeklubb_bounce_reports_ignored_total',
      help: 'Reports that changed nothing: duplicate, unmatched (unknown message, forged tag) or unreadable',
      labelNames: ['source', 'reason'],
      registers,
    });
    this.smtpErrors = new client.Counter({
      name: 'kundeklubb_smtp_errors_total',
      help: 'SMTP errors by class: transient (4xx), permanent (5xx), unavailable (no connection)',
      labelNames: ['class'],
      registers,
    });
  }

  /**
   * Bounces and complaints applied, by kind (hard, soft, complaint) and source (smtp, ses, …):
   * each label pair starts at 0 so a dashboard sees the series before the first report.
   */
  initReportLabels(kinds: readonly string[], sources: readonly string[]): void {
    for (const kind of kinds) for (const source of sources) this.reports.inc({ kind, source }, 0);
  }

  /**
   * A gauge read at scrape time from the room that owns the rows: `read` answers a number, or
   * counts by `label` (every label in `zeroes` is reported, 0 when absent).
   */
  gauge(opts: {
    name: string;
    help: string;
    label?: string;
    zeroes?: readonly string[];
    read: () => Promise<number | Record<string, number>>;
  }): void {
    const { read, label, zeroes = [] } = opts;
    new client.Gauge({
      name: opts.name,
      help: opts.help,
      labelNames: label ? [label] : [],
      registers: [this.registry],
      async collect() {
        const value = await read();
        if (typeof value === 'number' || !label) {
          this.set(typeof value === 'number' ? value : 0);
          return;
        }
        this.reset();
        for (const z of zeroes) this.set({ [label]: z }, 0);
        for (const [k, n] of Object.entries(value)) this.set({ [label]: k }, n);
      },
    });
  }

  observeHttp(method: string, route: string, status: number, ms: number): void {
    this.httpDuration.observe({ method, route, status: String(status) }, ms / 1000);
  }

  newsletterSent(): void {
    this.sent.inc();
  }

  smtpError(kind: 'transient' | 'permanent' | 'unavailable'): void {
    this.smtpErrors.inc({ class: kind });
  }

  reportApplied(kind: string, source: string): void {
    this.reports.inc({ kind, source });
  }

  /** A report that changed nothing: `duplicate` (heard before) or `unmatched` (no message of ours, a forged tag). */
  reportIgnored(source: string, reason: 'duplicate' | 'unmatched' | 'unreadable'): void {
    this.reportsIgnored.inc({ source, reason });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
