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
import { CampaignEntity } from './campaigns/campaign.entity';
import { CampaignsService } from './campaigns/campaigns.service';
import { DeliveryStore } from './delivery/delivery.store';
import { DeliveryService } from './delivery/delivery.service';
import { Suppression } from './members/suppression';
import { MailQueue } from './mail-queue/mail-queue.service';
import { SignedTokens } from './tokens/signed-tokens';
import { Metrics } from './metrics';
import { PrivacyRequestEntity } from './privacy/privacy-request.entity';
import { PrivacyService } from './privacy/privacy.service';
import { PrivacyRequestsService } from './privacy/privacy-requests.service';
import { RetentionService } from './privacy/retention.service';
import { adminEntities, buildAdminServices, type AdminServices } from './admin/admin.module';

export const entities = [
  ApiClientEntity,
  MemberEntity,
  ConsentEventEntity,
  CampaignEntity,
  PrivacyRequestEntity,
  ...adminEntities,
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
  mailQueue: MailQueue;
  members: MembersService;
  campaigns: CampaignsService;
  deliveryStore: DeliveryStore;
  delivery: DeliveryService;
  privacy: PrivacyService;
  privacyRequests: PrivacyRequestsService;
  retention: RetentionService;
  /** Staff accounts, sessions and dashboard figures for the admin web UI. */
  admin: AdminServices;
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
  const metrics = new Metrics({ dataSource });
  const clients = new ClientsService({ dataSource });
  const consentTexts = new ConsentTexts();
  const suppression = new Suppression(config.suppressionKey);
  const mailQueue = new MailQueue({ dataSource, mailer, logger, clock });
  const members = new MembersService({
    dataSource,
    config,
    consentTexts,
    mailQueue,
    suppression,
    logger,
    clock,
  });
  const campaigns = new CampaignsService({ dataSource, config, mailer, logger, clock });
  const deliveryStore = new DeliveryStore({ dataSource });
  const delivery = new DeliveryService({ dataSource, store: deliveryStore, campaigns, logger, clock });
  members.addParticipant(mailQueue);
  members.addParticipant(delivery.participant());
  const privacy = new PrivacyService({
    dataSource,
    config,
    members,
    suppression,
    mailQueue,
    tokens,
    logger,
    clock,
  });
  const privacyRequests = new PrivacyRequestsService({ dataSource, suppression, privacy, logger, clock });
  members.addParticipant(privacyRequests);
  const retention = new RetentionService({ dataSource, config, privacy, logger });
  retention.addTask({
    name: 'delivery-error-details',
    run: (now) =>
      deliveryStore.clearErrorDetails(
        new Date(now.getTime() - config.retention.deliveryErrorDays * 86_400_000),
      ),
  });
  const admin = buildAdminServices({ dataSource, logger, clock });
  retention.addTask({ name: 'staff-sessions', run: (now) => admin.auth.purgeExpired(now) });

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
    mailQueue,
    members,
    campaigns,
    deliveryStore,
    delivery,
    privacy,
    privacyRequests,
    retention,
    admin,
    async close() {
      await mailQueue.drain();
      await mailer.close();
      if (dataSource.isInitialized) await dataSource.destroy();
    },
  };
}
