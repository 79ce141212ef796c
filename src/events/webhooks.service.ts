import crypto from 'node:crypto';
import type { DataSource } from 'typeorm';
import { execute } from '../db/sql';
import { fromDbTime, toDbTime, type Clock } from '../db/time';
import { notFound, unprocessable } from '../errors';
import type { Logger } from '../logger';
import { MSG } from '../presentation/messages';
import type { EventLog, EventType } from './event-log';
import type { CreateWebhookInput } from './events.schema';
import type { WebhookSender } from './webhook-sender';

export interface WebhookView {
  id: number;
  url: string;
  events: EventType[];
  sources: string[] | null;
  createdAt: string;
  disabledAt: string | null;
  disabledReason: string | null;
  failingSince: string | null;
  lastAttemptAt: string | null;
  lastResult: string | null;
  pendingDeliveries: number;
}

export function presentEndpoint(r: Record<string, unknown>, pending = 0): WebhookView {
  const iso = (v: unknown) => fromDbTime(v)?.toISOString() ?? null;
  return {
    id: Number(r.id),
    url: String(r.url),
    events: JSON.parse(String(r.events_json)) as EventType[],
    sources: r.sources_json ? (JSON.parse(String(r.sources_json)) as string[]) : null,
    createdAt: iso(r.created_at)!,
    disabledAt: iso(r.disabled_at),
    disabledReason: (r.disabled_reason as string | null) ?? null,
    failingSince: iso(r.failing_since),
    lastAttemptAt: iso(r.last_attempt_at),
    lastResult: (r.last_result as string | null) ?? null,
    pendingDeliveries: pending,
  };
}

/** The apps' webhook endpoints (CONTRACT §10): create (the secret shown once), list, delete, test. */
export class WebhooksService {
  private readonly ds: DataSource;
  private readonly events: EventLog;
  private readonly sender: WebhookSender;
  private readonly production: boolean;
  private readonly logger: Logger;
  private readonly clock: Clock;

  constructor(deps: {
    dataSource: DataSource;
    events: EventLog;
    sender: WebhookSender;
    production: boolean;
    logger: Logger;
    clock: Clock;
  }) {
    this.ds = deps.dataSource;
    this.events = deps.events;
    this.sender = deps.sender;
    this.production = deps.production;
    this.logger = deps.logger;
    this.clock = deps.clock;
  }

  async create(input: CreateWebhookInput): Promise<WebhookView & { secret: string }> {
    if (this.production && !input.url.startsWith('https:'))
      throw unprocessable('the url must be https', [{ path: 'url', message: MSG.httpsInProduction.en }]);
    const secret = `whsec_${crypto.randomBytes(32).toString('base64')}`;
    const now = toDbTime(this.clock());
    const id = await this.ds.transaction(async (manager) => {
      // Only events from now on: the endpoint's cursor starts at the last sequence given out.
      const cursor = await this.events.lastSequence(manager);
      await execute(
        manager,
        `INSERT INTO webhook_endpoints (url, events_json, sources_json, secret, cursor_sequence, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        [
          input.url,
          JSON.stringify([...new Set(input.events)]),
          input.sources ? JSON.stringify([...new Set(input.sources)]) : null,
          secret,
          cursor,
          now,
        ],
      );
      const res = await execute(
        manager,
        'SELECT id FROM webhook_endpoints WHERE secret = ? ORDER BY id DESC LIMIT 1',
        [secret],
      );
      return Number(res.records[0].id);
    });
    this.logger.info({ webhookId: id }, 'webhook endpoint created');
    return { ...(await this.get(id)), secret };
  }

  async get(id: number): Promise<WebhookView> {
    const res = await execute(this.ds, 'SELECT * FROM webhook_endpoints WHERE id = ?', [id]);
    if (!res.records[0]) throw notFound('webhook');
    return presentEndpoint(res.records[0], await this.pendingCount(id));
  }

  async list(): Promise<WebhookView[]> {
    const res = await execute(this.ds, 'SELECT * FROM webhook_endpoints ORDER BY id');
    const pending = await execute(
      this.ds,
      "SELECT endpoint_id, COUNT(*) AS n FROM webhook_deliveries WHERE state = 'pending' GROUP BY endpoint_id",
    );
    const counts = new Map(pending.records.map((r) => [Number(r.endpoint_id), Number(r.n)]));
    return res.records.map((r) => presentEndpoint(r, counts.get(Number(r.id)) ?? 0));
  }

  async delete(id: number): Promise<void> {
    const res = await this.ds.transaction(async (manager) => {
      await execute(manager, 'DELETE FROM webhook_deliveries WHERE endpoint_id = ?', [id]);
      return execute(manager, 'DELETE FROM webhook_endpoints WHERE id = ?', [id]);
    });
    if (res.affected === 0) throw notFound('webhook');
    this.logger.info({ webhookId: id }, 'webhook endpoint deleted');
  }

  /** Sends one `webhook.test` message now, signed like the rest; nothing is stored but the result. */
  async test(id: number): Promise<{ ok: boolean; status: number | null; result: string }> {
    const res = await execute(this.ds, 'SELECT * FROM webhook_endpoints WHERE id = ?', [id]);
    const row = res.records[0];
    if (!row) throw notFound('webhook');
    const now = this.clock();
    const outcome = await this.sender.send({
      url: String(row.url),
      secret: String(row.secret),
      messageId: `msg_test_${crypto.randomBytes(8).toString('hex')}`,
      at: now,
      body: JSON.stringify({ type: 'webhook.test', timestamp: now.toISOString(), data: {} }),
    });
    await execute(this.ds, 'UPDATE webhook_endpoints SET last_attempt_at = ?, last_result = ? WHERE id = ?', [
      toDbTime(now),
      outcome.result,
      id,
    ]);
    return outcome;
  }

  private async pendingCount(id: number): Promise<number> {
    const res = await execute(
      this.ds,
      "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE endpoint_id = ? AND state = 'pending'",
      [id],
    );
    return Number(res.records[0]?.n ?? 0);
  }
}
