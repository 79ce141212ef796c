import type { DataSource } from 'typeorm';
import type { Config } from './config';
import { createLogger, type Logger } from './logger';
import { systemClock, type Clock } from './db/time';
import { createDataSource } from './db/data-source';
import { createMailer } from './mail/create-mailer';
import type { Mailer } from './mail/mailer';
import { ApiClientEntity } from './clients/api-client.entity';
import { ClientsService } from './clients/clients.service';
import { MemberEntity } from './members/member.entity';
import { ConsentEventEntity } from './members/consent-event.entity';
import { ConsentTexts } from './members/consent-texts';
import { MembersService } from './members/members.service';
import { EventLog } from './events/event-log';
import { WebhooksService } from './events/webhooks.service';
import { WebhookSender } from './events/webhook-sender';
import { MemberTokens } from './members/member-tokens';
import { CampaignEntity, PAUSED_REASONS } from './campaigns/campaign.entity';
import { CampaignsService } from './campaigns/campaigns.service';
import { ClickCounts } from './clicks/click-counts';
import { TestLinks } from './clicks/test-links';
import { DeliveryStore } from './delivery/delivery.store';
import { DeliveryService } from './delivery/delivery.service';
import { Handoffs } from './delivery/handoffs';
import { DELIVERY_STATES } from './delivery/delivery.store';
import { CampaignSending } from './campaigns/campaign-sending.service';
import { Suppression } from './members/suppression';
import { MailQueue } from './mail-queue/mail-queue.service';
import { SignedTokens } from './tokens/signed-tokens';
import { Metrics } from './metrics';
import { PrivacyRequestEntity } from './privacy/privacy-request.entity';
import { PrivacyService } from './privacy/privacy.service';
import { PrivacyRequestsService } from './privacy/privacy-requests.service';
import { RetentionService } from './privacy/retention.service';
import { buildStaffServices, staffEntities, type StaffServices } from './staff/staff.module';
import { AdminStatsService } from './admin/admin-stats.service';
import { verpTagsOf } from './mail/create-mailer';
import type { VerpTags } from './mail/verp';
import { BounceReportEntity, REPORT_KINDS, REPORT_SOURCES } from './bounces/bounce-report.entity';
import { BouncesService } from './bounces/bounces.service';
import type { webhookProviders } from './bounces/webhooks.routes';
import type { WebhookProvider } from './bounces/webhooks/provider';
import { httpsFetchText, type FetchText } from './bounces/webhooks/ses';
import { ImportsService } from './imports/imports.service';

export const entities = [
  ApiClientEntity,
  MemberEntity,
  ConsentEventEntity,
  CampaignEntity,
  PrivacyRequestEntity,
  BounceReportEntity,
  ...staffEntities,
];

export interface Container {
  config: Config;
  logger: Logger;
  clock: Clock;
  dataSource: DataSource;
  mailer: Mailer;
  tokens: SignedTokens;
  metrics: Metrics;
  clients: ClientsService;
  consentTexts: ConsentTexts;
  suppression: Suppression;
  memberTokens: MemberTokens;
  mailQueue: MailQueue;
  members: MembersService;
  events: EventLog;
  webhooks: WebhooksService;
  webhookSender: WebhookSender;
  campaigns: CampaignsService;
  /** Click counters, one per campaign and link (CONTRACT §12). */
  clicks: ClickCounts;
  /** The marker of test mail and preview links, whose clicks are not counted. */
  testLinks: TestLinks;
  deliveryStore: DeliveryStore;
  /** Members whose newsletter is mid-handoff in this process (the worker marks, leaving waits). */
  handoffs: Handoffs;
  delivery: DeliveryService;
  sending: CampaignSending;
  privacy: PrivacyService;
  privacyRequests: PrivacyRequestsService;
  retention: RetentionService;
  /** Staff accounts and sessions (the admin web UI's logins; the `users` CLI). */
  staff: StaffServices;
  /** The admin dashboard's figures. */
  adminStats: AdminStatsService;
  /** Bounces and complaints (CONTRACT §9): reports applied once, the guardrail. */
  bounces: BouncesService;
  /** The VERP tags of BOUNCE_DOMAIN; undefined without it (no listener, plain envelope sender). */
  verp?: VerpTags;
  /** The provider webhooks whose secret is configured. */
  bounceWebhooks: ReturnType<typeof webhookProviders>;
  /** CSV import with consent evidence (CONTRACT §11). */
  imports: ImportsService;
  close(): Promise<void>;
}

export interface ContainerOverrides {
  /** How the SES webhook fetches the SNS certificate and confirms subscriptions (tests: offline). */
  fetchText?: FetchText;
  /** Replaces a configured provider's verifier (tests). */
  bounceWebhooks?: Partial<Record<'ses' | 'mailgun' | 'sendgrid' | 'postmark', WebhookProvider>>;
  logger?: Logger;
  clock?: Clock;
  mailer?: Mailer;
  dataSource?: DataSource;
}

/** Composition root: the only place that `new`s services. The data source is not yet initialised. */
export function buildContainer(config: Config, overrides: ContainerOverrides = {}): Container {
  const logger = overrides.logger ?? createLogger(config.logLevel);
  const clock = overrides.clock ?? systemClock;
  const dataSource = overrides.dataSource ?? createDataSource(config.databaseUrl, entities);
  const mailer = overrides.mailer ?? createMailer(config, { poolSize: config.smtpPoolSize, logger });
  const tokens = new SignedTokens(config.tokenKeys);
  const metrics = new Metrics();
  const clients = new ClientsService({ dataSource });
  const consentTexts = new ConsentTexts();
  const suppression = new Suppression(config.suppressionKey);
  const mailQueue = new MailQueue({ dataSource, mailer, logger, clock });
  const memberTokens = new MemberTokens({ dataSource, clock });
  const events = new EventLog({ dataSource, clock });
  const members = new MembersService({
    events,
    dataSource,
    config,
    consentTexts,
    mailQueue,
    suppression,
    memberTokens,
    logger,
    clock,
  });
  const clicks = new ClickCounts({ dataSource });
  const testLinks = new TestLinks(config.tokenKeys);
  const campaigns = new CampaignsService({
    dataSource,
    config,
    mailer,
    members,
    clicks,
    testLinks,
    logger,
    clock,
  });
  const deliveryStore = new DeliveryStore({ dataSource });
  const handoffs = new Handoffs();
  const delivery = new DeliveryService({
    store: deliveryStore,
    handoffs,
    subjects: (manager, ids) => campaigns.subjectsOf(manager, ids),
    logger,
    clock,
  });
  // The bounces room sits above campaigns: the stats ask it through this function (bounces is made below).
  const sending: CampaignSending = new CampaignSending({
    dataSource,
    campaigns,
    delivery,
    members,
    reportCounts: (id) => bounces.campaignCounts(id),
    logger,
    clock,
  });
  registerGauges(metrics, { members, delivery, sending });
  members.addParticipant(mailQueue);
  members.addParticipant(delivery.participant());
  const privacy = new PrivacyService({
    dataSource,
    config,
    members,
    suppression,
    mailQueue,
    tokens,
    memberTokens,
    logger,
    clock,
  });
  const privacyRequests = new PrivacyRequestsService({
    dataSource,
    suppression,
    privacy,
    members,
    logger,
    clock,
  });
  members.addParticipant(privacyRequests);
  const retention = new RetentionService({ dataSource, config, privacy, members, memberTokens, logger });
  retention.addTask({ name: 'member-events', run: (now) => events.purge(now) });
  const webhookSender = new WebhookSender();
  const webhooks = new WebhooksService({
    dataSource,
    events,
    sender: webhookSender,
    production: config.production,
    logger,
    clock,
  });
  retention.addTask({
    name: 'delivery-error-details',
    run: (now) =>
      delivery.clearErrorDetails(new Date(now.getTime() - config.retention.deliveryErrorDays * 86_400_000)),
  });
  const staff = buildStaffServices({ dataSource, logger, clock });
  retention.addTask({ name: 'staff-sessions', run: (now) => staff.auth.purgeExpired(now) });
  const adminStats = new AdminStatsService({ members, clock });
  const verp = verpTagsOf(config);
  const bounces: BouncesService = new BouncesService({
    dataSource,
    config: config.bounces,
    verp,
    members,
    delivery,
    sending,
    privacy,
    metrics,
    logger,
    clock,
  });
  members.addParticipant(bounces.participant());
  metrics.initReportLabels(REPORT_KINDS, REPORT_SOURCES);
  retention.addTask({
    name: 'bounce-diagnostics',
    run: (now) =>
      bounces.clearDiagnostics(new Date(now.getTime() - config.retention.deliveryErrorDays * 86_400_000)),
  });
  const imports = new ImportsService({
    dataSource,
    config: config.imports,
    members,
    mailQueue,
    consentTexts,
    logger,
    clock,
  });
  retention.addTask({ name: 'imports', run: (now) => imports.housekeeping(now) });
  // Made when the HTTP app mounts their routes: their file brings express and the providers'
  // verifiers, which a worker process never needs.
  let bounceWebhooks: Container['bounceWebhooks'] | undefined;
  const makeBounceWebhooks = (): Container['bounceWebhooks'] => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const routes = require('./bounces/webhooks.routes') as typeof import('./bounces/webhooks.routes');
    const fetchText = overrides.fetchText ?? httpsFetchText;
    return {
      ...routes.webhookProviders({ config: config.bounces, fetchText, logger, clock }),
      ...overrides.bounceWebhooks,
    };
  };

  return {
    config,
    logger,
    clock,
    dataSource,
    mailer,
    tokens,
    metrics,
    clients,
    consentTexts,
    suppression,
    memberTokens,
    mailQueue,
    members,
    events,
    webhooks,
    webhookSender,
    campaigns,
    clicks,
    testLinks,
    deliveryStore,
    handoffs,
    delivery,
    sending,
    privacy,
    privacyRequests,
    retention,
    staff,
    adminStats,
    bounces,
    verp,
    get bounceWebhooks() {
      return (bounceWebhooks ??= makeBounceWebhooks());
    },
    imports,
    async close() {
      await imports.stop();
      await mailQueue.drain();
      await mailer.close();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}

/** /metrics gauges, each read from the room that owns its rows. */
function registerGauges(
  metrics: Metrics,
  rooms: { members: MembersService; delivery: DeliveryService; sending: CampaignSending },
): void {
  const waiting = async () => rooms.delivery.waiting(await rooms.sending.sendingCampaignIds());
  metrics.gauge({
    name: 'kundeklubb_consent_events',
    help: 'Consent history events by type (sign-ups, confirmations, withdrawals, erasures, ...)',
    label: 'type',
    read: () => rooms.members.countConsentEvents(),
  });
  metrics.gauge({
    name: 'kundeklubb_deliveries',
    help: 'Rows of the delivery ledger by state',
    label: 'state',
    zeroes: DELIVERY_STATES,
    read: () => rooms.delivery.countByState(),
  });
  metrics.gauge({
    name: 'kundeklubb_queue_depth',
    help: 'Deliveries of sending campaigns still waiting (queued or claimed)',
    read: async () => (await waiting()).count,
  });
  metrics.gauge({
    name: 'kundeklubb_oldest_queued_age_seconds',
    help: 'Age of the oldest queued delivery of a sending campaign',
    read: async () => {
      const t = (await waiting()).oldestQueuedAt;
      return t ? Math.max(0, (Date.now() - t.getTime()) / 1000) : 0;
    },
  });
  metrics.gauge({
    name: 'kundeklubb_campaigns_paused',
    help: 'Paused campaigns by reason: manual, or the guardrail (bounce-rate, complaint-rate)',
    label: 'reason',
    zeroes: PAUSED_REASONS,
    read: () => rooms.sending.pausedByReason(),
  });
  metrics.gauge({
    name: 'kundeklubb_members',
    help: 'Members by status',
    label: 'status',
    read: () => rooms.members.countByStatus(),
  });
}
