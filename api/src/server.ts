import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { DEVELOPMENT_SECRET_KEY, type Config } from './config.js';
import {
  assertCanBecomeAppRole,
  assertMayOwnSchema,
  migrateToLatest,
  openDatabase,
  type Database,
} from './db/database.js';
import { createApp } from './http/app.js';
import { createRateLimits, type LimitOverrides } from './http/rate-limits.js';
import { servedSpec } from './http/spec.js';
import { crmInboxConsumer } from './modules/crm/consumer.js';
import { startModuleInbox, type ModuleInboxOptions } from './modules/inbox.js';
import { startBookingMailer, type BookingMailer, type BookingMailerOptions } from './modules/booking/notifications.js';
import { embedAssets } from './modules/embed.js';
import { schedulePurges } from './modules/purge.js';
import { createAuthorizationServer } from './oauth/provider.js';
import { createMailer } from './platform/mail.js';
import { appointOperator } from './platform/operator.js';
import { seedDemo, type DemoData } from './seed.js';
import { startWebhookWorker, type WorkerOptions } from './webhooks/worker.js';

/** How long shutdown waits for in-flight requests before closing their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

export interface Platform {
  url: string;
  db: Database;
  demo: DemoData | null;
  /** The booking module's mailer (tests stop it to stand for a process that died). */
  bookingMail: BookingMailer;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  stop(): Promise<void>;
}

export async function startPlatform(
  config: Config,
  options: {
    logger: Logger;
    validateResponses?: boolean;
    inMemory?: boolean;
    /** With `inMemory`: the database to start from (see DatabaseOptions.loadDataDir). */
    loadDataDir?: Blob;
    /** Keeps this platform's rate-limit counters apart from others' on a shared Redis. */
    rateLimitNamespace?: string;
    /** Other allowances than the production ones (tests that reach a limit, benches that must not). */
    rateLimits?: LimitOverrides;
    /** Overrides of the webhook worker's timing (tests run its schedule on a fast clock). */
    webhooks?: Partial<Omit<WorkerOptions, 'knex' | 'logger' | 'allowLocal'>>;
    /** Overrides of the booking mailer's clock and timing (tests move its clock to reminders' times). */
    bookingMail?: Partial<Omit<BookingMailerOptions, 'knex' | 'logger' | 'mailer' | 'secretKey'>>;
    /** Overrides of the module inbox's timing. */
    inbox?: Partial<Omit<ModuleInboxOptions, 'knex' | 'logger' | 'consumers'>>;
  },
): Promise<Platform> {
  if (config.secretKey === DEVELOPMENT_SECRET_KEY) {
    options.logger.warn(
      'SECRET_KEY is not set: SSO secrets and the OAuth keys are sealed under a well-known development key',
    );
  }
  // Redis first: an unreachable one stops start-up before the data directory is touched.
  const limits = await createRateLimits(config.redisUrl, options.rateLimitNamespace, options.rateLimits);
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: options.inMemory ? null : config.dataDir,
    loadDataDir: options.loadDataDir,
  }).catch(async (error: unknown) => {
    await limits.close();
    throw error;
  });
  let server: Server | undefined;
  try {
    await assertMayOwnSchema(db.knex);
    await migrateToLatest(db.knex);
    await assertCanBecomeAppRole(db.knex);
    const demo = config.seedDemo ? await seedDemo(db.knex, config.publicUrl) : null;
    // In the development demo, the demo agency runs the platform (it publishes the first-party modules)
    // unless OPERATOR_AGENCY_ID names another; never in production, where its password is in the log.
    const demoOperator = demo && !config.production ? demo.agencyId : null;
    await appointOperator(db.knex, config.operatorAgencyId ?? demoOperator);
    embedAssets();
    const oauth = await createAuthorizationServer({
      knex: db.knex,
      publicUrl: config.publicUrl,
      secretKey: config.secretKey,
      logger: options.logger,
    });
    const { app, lifecycle } = createApp({
      knex: db.knex,
      spec: servedSpec(config.publicUrl),
      logger: options.logger,
      publicUrl: config.publicUrl,
      allowLocalHooks: config.allowLocalHooks,
      frameUrl: config.frameUrl,
      validateResponses: options.validateResponses ?? false,
      limits,
      oauth,
      secretKey: config.secretKey,
      demoKey: demo?.publishableKey ?? null,
    });
    server = await new Promise<Server>((resolve, reject) => {
      const listening = app.listen(config.port, config.host, (error?: Error) =>
        error ? reject(error) : resolve(listening),
      );
    });
    // `server.close()` only closes connections idle at that moment: a kept-alive connection busy with a request
    // would go on serving new requests until the drain timeout cuts it. While draining, every response (in
    // flight or new on such a connection) tells the client to close, so the connection ends after it.
    const responses = new Set<ServerResponse>();
    server.prependListener('request', (_req, res: ServerResponse) => {
      if (lifecycle.draining) res.setHeader('Connection', 'close');
      responses.add(res);
      res.once('close', () => responses.delete(res));
    });
    const { port } = server.address() as AddressInfo;
    const running = server;
    const stopPurges = schedulePurges(db.knex, (error) => options.logger.error({ err: error }, 'purging failed'));
    const consumers = [crmInboxConsumer];
    const inbox = startModuleInbox({ knex: db.knex, logger: options.logger, consumers, ...options.inbox });
    const webhooks = startWebhookWorker({
      knex: db.knex,
      logger: options.logger,
      consumers,
      onQueuedForModules: inbox.nudge,
      allowLocal: config.allowLocalHooks,
      timeoutMs: config.webhookTimeoutMs,
      retentionMs: config.outboxRetentionDays * 86_400_000,
      ...(config.webhookRetrySchedule ? { retrySchedule: config.webhookRetrySchedule } : {}),
      ...options.webhooks,
    });
    const mailer = createMailer({ smtpUrl: config.smtpUrl, from: config.mailFrom, logger: options.logger });
    const bookingMail = startBookingMailer({
      knex: db.knex,
      logger: options.logger,
      mailer,
      secretKey: config.secretKey,
      ...options.bookingMail,
    });
    return {
      url: `http://localhost:${port}`,
      db,
      demo,
      bookingMail,
      async stop() {
        lifecycle.draining = true;
        for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close');
        const drained = new Promise<void>((resolve) => running.close(() => resolve()));
        const timer = setTimeout(() => running.closeAllConnections(), DRAIN_TIMEOUT_MS);
        await drained;
        clearTimeout(timer);
        await webhooks.stop();
        await inbox.stop();
        await bookingMail.stop();
        mailer.close();
        await stopPurges();
        await limits.close();
        await db.close();
      },
    };
  } catch (error) {
    server?.close();
    await limits.close();
    await db.close();
    throw error;
  }
}
