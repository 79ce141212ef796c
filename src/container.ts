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
import { MemberTokens } from './members/member-tokens';
import { CampaignEntity } from './campaigns/campaign.entity';
import { CampaignsService } from './campaigns/campaigns.service';
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

export const entities = [
  ApiClientEntity,
  MemberEntity,
  ConsentEventEntity,
  CampaignEntity,
  PrivacyRequestEntity,
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
  campaigns: CampaignsService;
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
  close(): Promise<void>;
}

export interface ContainerOverrides {
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
  const members = new MembersService({
    dataSource,
    config,
    consentTexts,
    mailQueue,
    suppression,
    memberTokens,
    logger,
    clock,
  });
  const campaigns = new CampaignsService({ dataSource, config, mailer, members, logger, clock });
  const deliveryStore = new DeliveryStore({ dataSource });
  const handoffs = new Handoffs();
  const delivery = new DeliveryService({
    store: deliveryStore,
    handoffs,
    subjects: (manager, ids) => campaigns.subjectsOf(manager, ids),
    logger,
    clock,
  });
  const sending = new CampaignSending({ dataSource, campaigns, delivery, members, logger, clock });
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
  retention.addTask({
    name: 'delivery-error-details',
    run: (now) =>
      delivery.clearErrorDetails(new Date(now.getTime() - config.retention.deliveryErrorDays * 86_400_000)),
  });
  const staff = buildStaffServices({ dataSource, logger, clock });
  retention.addTask({ name: 'staff-sessions', run: (now) => staff.auth.purgeExpired(now) });
  const adminStats = new AdminStatsService({ members, clock });

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
    campaigns,
    deliveryStore,
    handoffs,
    delivery,
    sending,
    privacy,
    privacyRequests,
    retention,
    staff,
    adminStats,
    async close() {
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
    name: 'kundeklubb_members',
    help: 'Members by status',
    label: 'status',
    read: () => rooms.members.countByStatus(),
  });
}
