import client from 'prom-client';
import type { DataSource } from 'typeorm';
import { execute } from './db/sql';
import { fromDbTime } from './db/time';

/**
 * Prometheus metrics. Labels carry routes, states and classes only — never an address, a
 * name, a token or an IP. Ledger gauges are read from the database at scrape time, so every
 * API replica reports the same truth about the shared queue.
 */
export class Metrics {
  readonly registry = new client.Registry();
  private readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;
  private readonly sent: client.Counter;
  private readonly smtpErrors: client.Counter<'class'>;

  constructor(deps: { dataSource: DataSource }) {
    const ds = deps.dataSource;
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
    this.smtpErrors = new client.Counter({
      name: 'kundeklubb_smtp_errors_total',
      help: 'SMTP errors by class: transient (4xx), permanent (5xx), unavailable (no connection)',
      labelNames: ['class'],
      registers,
    });
    new client.Gauge({
      name: 'kundeklubb_consent_events',
      help: 'Consent history events by type (sign-ups, confirmations, withdrawals, erasures, ...)',
      labelNames: ['type'],
      registers,
      async collect() {
        const res = await execute(ds, 'SELECT type, COUNT(*) AS n FROM consent_events GROUP BY type');
        this.reset();
        for (const r of res.records) this.set({ type: String(r.type) }, Number(r.n));
      },
    });
    new client.Gauge({
      name: 'kundeklubb_deliveries',
      help: 'Rows of the delivery ledger by state',
      labelNames: ['state'],
      registers,
      async collect() {
        const res = await execute(ds, 'SELECT status, COUNT(*) AS n FROM deliveries GROUP BY status');
        this.reset();
        for (const s of ['queued', 'sending', 'sent', 'failed', 'skipped']) this.set({ state: s }, 0);
        for (const r of res.records) this.set({ state: String(r.status) }, Number(r.n));
      },
    });
    new client.Gauge({
      name: 'kundeklubb_queue_depth',
      help: 'Deliveries of sending campaigns still waiting (queued or claimed)',
      registers,
      async collect() {
        const res = await execute(
          ds,
          `SELECT COUNT(*) AS n FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE c.status = 'sending' AND d.status IN ('queued', 'sending')`,
        );
        this.set(Number(res.records[0]?.n ?? 0));
      },
    });
    new client.Gauge({
      name: 'kundeklubb_oldest_queued_age_seconds',
      help: 'Age of the oldest queued delivery of a sending campaign',
      registers,
      async collect() {
        const res = await execute(
          ds,
          `SELECT MIN(d.updated_at) AS t FROM deliveries d JOIN campaigns c ON c.id = d.campaign_id WHERE c.status = 'sending' AND d.status = 'queued'`,
        );
        const t = fromDbTime(res.records[0]?.t);
        this.set(t ? Math.max(0, (Date.now() - t.getTime()) / 1000) : 0);
      },
    });
    new client.Gauge({
      name: 'kundeklubb_members',
      help: 'Members by status',
      labelNames: ['status'],
      registers,
      async collect() {
        const res = await execute(ds, 'SELECT status, COUNT(*) AS n FROM members GROUP BY status');
        this.reset();
        for (const r of res.records) this.set({ status: String(r.status) }, Number(r.n));
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

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
