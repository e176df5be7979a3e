import { randomUUID } from 'node:crypto';
import { createDramacClient, type DramacClient } from '@dramac/sdk';
import type { Logger } from 'pino';
import { loadConfig } from '../../src/config.js';
import { listOperations, loadPlatformSpec } from '../../src/http/spec.js';
import { createLogger } from '../../src/logger.js';
import { startPlatform, type Platform } from '../../src/server.js';
import { freshDatabase, migratedEmbeddedDatabase } from './database.js';
import { freePort } from './process.js';

/** The origin the platform's own pages are served from in tests. */
export const PLATFORM_ORIGIN = 'http://dramac.localhost';

export interface Reply {
  status: number;
  headers: Headers;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any -- tests look into bodies of every shape
  text: string;
}

export interface RequestOptions {
  token?: string;
  body?: unknown;
  /** A raw body, sent as it is. */
  raw?: string;
  headers?: Record<string, string>;
}

export interface TestPlatform extends Platform {
  /** A typed SDK client, optionally signed in. */
  client(token?: string): DramacClient;
  /** A plain HTTP request, for what a typed client would not send. */
  request(method: string, path: string, options?: RequestOptions): Promise<Reply>;
  /** Signs up a new agency; returns its id, its owner's credentials and a session token. */
  signUp(name?: string): Promise<{ agencyId: string; userId: string; email: string; password: string; token: string }>;
  /** Signs in; returns the session token. */
  signIn(email: string, password: string, agencyId?: string): Promise<string>;
  close(): Promise<void>;
}

const operations = listOperations(loadPlatformSpec());
/** Statuses raised before an operation is known, for any route: `default` covers them in the spec. */
const TRANSPORT_STATUSES = [405, 413, 415, 503];

/** Every status a test sees must be one the spec declares for that operation: the spec stays the truth. */
function assertDeclared(method: string, path: string, status: number) {
  const pathname = new URL(path, 'http://x').pathname;
  const operation = operations.find((o) => o.method === method.toLowerCase() && o.pattern.test(pathname));
  if (!operation || TRANSPORT_STATUSES.includes(status) || operation.statuses.includes(String(status))) return;
  throw new Error(
    `${method} ${operation.path} answered ${status}, which the spec does not declare for ${operation.id}`,
  );
}

/**
 * Starts the whole platform on a fresh database, validating every response against the spec. With
 * `demo`, it also seeds the demo data and serves the demo page. With `demo`, `browser` or `reachable`, it listens on a port
 * known in advance so that PUBLIC_URL is where a browser really finds it (and the URLs it hands out work).
 */
export async function startTestPlatform(
  options: {
    demo?: boolean;
    browser?: boolean;
    /** Listen where PUBLIC_URL says, for clients that check it (OAuth: the issuer is PUBLIC_URL). */
    reachable?: boolean;
    logger?: Logger;
    /** The webhook worker's timing (a fast retry schedule, a short timeout). */
    webhooks?: Parameters<typeof startPlatform>[1]['webhooks'];
    /** The booking mailer's clock and timing. */
    bookingMail?: Parameters<typeof startPlatform>[1]['bookingMail'];
    /** More configuration variables (`HOOKS_ALLOW_LOCAL: 'false'` …). */
    env?: Record<string, string>;
    /** Other rate-limit allowances (to reach one in a few requests). */
    rateLimits?: Parameters<typeof startPlatform>[1]['rateLimits'];
  } = {},
): Promise<TestPlatform> {
  const database = await freshDatabase();
  const reachable = options.demo || options.browser || options.reachable;
  const port = reachable ? await freePort() : 0;
  const config = loadConfig({
    PORT: String(port),
    HOST: '127.0.0.1',
    PUBLIC_URL: reachable ? `http://localhost:${port}` : PLATFORM_ORIGIN,
    // The iframe embed's pages: this same server under another name (Chromium resolves *.localhost).
    ...(reachable ? { FRAME_URL: `http://*.frames.localhost:${port}` } : {}),
    SEED_DEMO: String(Boolean(options.demo)),
    // Lifecycle hooks in tests are servers on this machine.
    HOOKS_ALLOW_LOCAL: 'true',
    ...(database.databaseUrl ? { DATABASE_URL: database.databaseUrl } : {}),
    ...(process.env.REDIS_URL ? { REDIS_URL: process.env.REDIS_URL } : {}),
    ...options.env,
  });
  const platform = await startPlatform(config, {
    logger: options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    validateResponses: true,
    inMemory: true,
    loadDataDir: database.databaseUrl ? undefined : await migratedEmbeddedDatabase(),
    // Suites run side by side on one Redis (REDIS_URL in CI): each counts its own attempts.
    rateLimitNamespace: `dramac-test-${randomUUID()}`,
    rateLimits: options.rateLimits,
    webhooks: options.webhooks,
    bookingMail: options.bookingMail,
  });

  async function request(method: string, path: string, options: RequestOptions = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await fetch(`${platform.url}${path}`, { method, headers, body });
    const text = await response.text();
    assertDeclared(method, path, response.status);
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: response.status, headers: response.headers, body: parsed, text };
  }

  return {
    ...platform,
    client: (token) =>
      createDramacClient({
        baseUrl: platform.url,
        token,
        async fetch(input, init) {
          const request = new Request(input, init);
          const response = await fetch(request);
          assertDeclared(request.method, request.url, response.status);
          return response;
        },
      }),
    request,
    async signUp(name = 'Agency') {
      const email = `${randomUUID()}@example.com`;
      const password = 'correct horse battery';
      const reply = await request('POST', '/v1/agencies', {
        body: { name, owner: { email, name: `${name} owner`, password } },
      });
      if (reply.status !== 201) throw new Error(`sign-up failed: ${reply.status} ${reply.text}`);
      const { agency, session } = reply.body;
      return { agencyId: agency.id, userId: session.user.id, email, password, token: session.token };
    },
    async signIn(email, password, agencyId) {
      const reply = await request('POST', '/v1/sessions', { body: { email, password, agency_id: agencyId } });
      if (reply.status !== 201) throw new Error(`sign-in failed: ${reply.status} ${reply.text}`);
      return reply.body.token;
    },
    async close() {
      await platform.stop();
      await database.drop();
    },
  };
}
