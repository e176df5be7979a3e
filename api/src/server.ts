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
import { createRateLimits } from './http/rate-limits.js';
import { servedSpec } from './http/spec.js';
import { embedAssets } from './modules/embed.js';
import { schedulePurges } from './modules/purge.js';
import { createAuthorizationServer } from './oauth/provider.js';
import { appointOperator } from './platform/operator.js';
import { seedDemo, type DemoData } from './seed.js';
import { startWebhookWorker, type WorkerOptions } from './webhooks/worker.js';

/** How long shutdown waits for in-flight requests before closing their connections. */
const DRAIN_TIMEOUT_MS = 10_000;

export interface Platform {
  url: string;
  db: Database;
  demo: DemoData | null;
  /** Stops accepting connections, lets in-flight requests finish, then closes the database. */
  stop(): Promise<void>;
}

export async function startPlatform(
  config: Config,
  options: {
    logger: Logger;
    validateResponses?: boolean;
    inMemory?: boolean;
    /** Keeps this platform's rate-limit counters apart from others' on a shared Redis. */
    rateLimitNamespace?: string;
    /** Overrides of the webhook worker's timing (tests run its schedule on a fast clock). */
    webhooks?: Partial<Omit<WorkerOptions, 'knex' | 'logger' | 'allowLocal'>>;
  },
): Promise<Platform> {
  if (config.secretKey === DEVELOPMENT_SECRET_KEY) {
    options.logger.warn(
      'SECRET_KEY is not set: SSO secrets and the OAuth keys are sealed under a well-known development key',
    );
  }
  // Redis first: an unreachable one stops start-up before the data directory is touched.
  const limits = await createRateLimits(config.redisUrl, options.rateLimitNamespace);
  const db = await openDatabase({
    databaseUrl: config.databaseUrl,
    dataDir: options.inMemory ? null : config.dataDir,
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
    await appointOperator(db.knex, config.operatorAgencyId);
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
    const webhooks = startWebhookWorker({
      knex: db.knex,
      logger: options.logger,
      allowLocal: config.allowLocalHooks,
      timeoutMs: config.webhookTimeoutMs,
      retentionMs: config.outboxRetentionDays * 86_400_000,
      ...(config.webhookRetrySchedule ? { retrySchedule: config.webhookRetrySchedule } : {}),
      ...options.webhooks,
    });
    return {
      url: `http://localhost:${port}`,
      db,
      demo,
      async stop() {
        lifecycle.draining = true;
        for (const res of responses) if (!res.headersSent) res.setHeader('Connection', 'close');
        const drained = new Promise<void>((resolve) => running.close(() => resolve()));
        const timer = setTimeout(() => running.closeAllConnections(), DRAIN_TIMEOUT_MS);
        await drained;
        clearTimeout(timer);
        await webhooks.stop();
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
