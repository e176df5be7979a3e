import path from 'node:path';
import addressparser from 'nodemailer/lib/addressparser';

/** Everything the server reads from the environment, parsed once at start-up. */
export interface Config {
  port: number;
  /** The interface to listen on. */
  host: string;
  /** Where the embedded database keeps its files (ignored when `databaseUrl` is set). */
  dataDir: string;
  databaseUrl: string | null;
  redisUrl: string | null;
  smtpUrl: string | null;
  /** MAIL_FROM: the sender of the platform's emails, one address with an optional name. */
  mailFrom: string;
  /** The origin the platform is reached at; the demo page and the API docs use it. */
  publicUrl: string;
  logLevel: string;
  /** Create the demo agency, client and site on start. */
  seedDemo: boolean;
  /** NODE_ENV=production: no development stand-ins (keys, mail, the demo agency as operator). */
  production: boolean;
  /** The platform operator's agency: it publishes first-party and system modules. */
  operatorAgencyId: string | null;
  /**
   * Let module lifecycle hooks, webhooks and SSO identity providers use plain HTTP and local addresses
   * (development and tests only).
   */
  allowLocalHooks: boolean;
  /**
   * Where the iframe embed's pages are served from: this same server under other names, one per site
   * (`https://*.frames.example.com`), so the modules' code those pages run reaches nothing of the platform's
   * origin nor of another site's frames. None: no iframe embed.
   */
  frameUrl: string | null;
  /** WEBHOOK_TIMEOUT_MS: one delivery attempt's limit (10 s). */
  webhookTimeoutMs: number;
  /** WEBHOOK_RETRY_SCHEDULE_MS: the waits between attempts, comma-separated (tests; `null`: the default). */
  webhookRetrySchedule: number[] | null;
  /**
   * SECRET_KEY: what secrets the platform must keep readable (SSO client secrets, the OAuth server's keys) are
   * encrypted under.
   * Required with NODE_ENV=production; elsewhere DEVELOPMENT_SECRET_KEY stands in (with a warning).
   */
  secretKey: string;
  /** OUTBOX_RETENTION_DAYS: how long delivered events and their delivery log are kept (30 days). */
  outboxRetentionDays: number;
}

/** SECRET_KEY outside production when none is set: known to everyone, so it protects nothing. */
export const DEVELOPMENT_SECRET_KEY = 'dramac-development-secret-key-not-for-production';

export const DEFAULT_MAIL_FROM = 'Dramac <no-reply@localhost>';

/** One mailbox, `address@domain` or `Name <address@domain>`: no list, no group, nothing after it. */
function isOneAddress(text: string): boolean {
  if (/[\r\n]/.test(text)) return false;
  const parsed = addressparser(text);
  if (parsed.length !== 1) return false;
  const address = (parsed[0] as { address?: unknown }).address;
  return typeof address === 'string' && /^[^\s@<>]+@[^\s@<>]+$/.test(address);
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`${variable}: ${message}`);
  }
}

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function url(env: NodeJS.ProcessEnv, name: string, protocols: string[]): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(name, `"${raw}" is not a URL`);
  }
  if (!protocols.includes(parsed.protocol)) {
    throw new ConfigError(name, `expected a ${protocols.join(' or ')} URL, got "${parsed.protocol}"`);
  }
  return raw;
}

/** Reads the configuration; a bad value throws a ConfigError naming the variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const portText = env.PORT ?? '3000';
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port > 65535) {
    throw new ConfigError('PORT', `"${portText}" is not a port number (0–65535)`);
  }
  const logLevel = env.LOG_LEVEL ?? 'info';
  if (!LOG_LEVELS.includes(logLevel)) {
    throw new ConfigError('LOG_LEVEL', `"${logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const databaseUrl = url(env, 'DATABASE_URL', ['postgres:', 'postgresql:']);
  // Demo data is for the embedded quick start; a real database gets it only when asked.
  const seedText = env.SEED_DEMO || (databaseUrl ? 'false' : 'true');
  if (!['true', 'false'].includes(seedText)) {
    throw new ConfigError('SEED_DEMO', `"${seedText}" is not true or false`);
  }
  const operatorAgencyId = env.OPERATOR_AGENCY_ID || null;
  if (operatorAgencyId && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/.test(operatorAgencyId)) {
    throw new ConfigError('OPERATOR_AGENCY_ID', `"${operatorAgencyId}" is not an agency id (a lower-case UUID)`);
  }
  const hooksText = env.HOOKS_ALLOW_LOCAL || 'false';
  if (!['true', 'false'].includes(hooksText)) {
    throw new ConfigError('HOOKS_ALLOW_LOCAL', `"${hooksText}" is not true or false`);
  }
  const timeoutText = env.WEBHOOK_TIMEOUT_MS || '10000';
  if (!/^\d+$/.test(timeoutText) || Number(timeoutText) < 1 || Number(timeoutText) > 60_000) {
    throw new ConfigError('WEBHOOK_TIMEOUT_MS', `"${timeoutText}" is not a number of milliseconds (1–60000)`);
  }
  const scheduleText = env.WEBHOOK_RETRY_SCHEDULE_MS || '';
  if (scheduleText && !/^\d+(,\d+)*$/.test(scheduleText)) {
    throw new ConfigError(
      'WEBHOOK_RETRY_SCHEDULE_MS',
      `"${scheduleText}" is not a comma-separated list of milliseconds`,
    );
  }
  const retentionText = env.OUTBOX_RETENTION_DAYS || '30';
  if (!/^\d+$/.test(retentionText) || Number(retentionText) < 1 || Number(retentionText) > 3650) {
    throw new ConfigError('OUTBOX_RETENTION_DAYS', `"${retentionText}" is not a number of days (1–3650)`);
  }
  const mailFrom = env.MAIL_FROM || DEFAULT_MAIL_FROM;
  if (!isOneAddress(mailFrom)) {
    throw new ConfigError('MAIL_FROM', `"${mailFrom}" is not one email address (\`Name <address@example.com>\`)`);
  }
  const frameUrl = url(env, 'FRAME_URL', ['http:', 'https:']);
  const frameOrigin = frameUrl && new URL(frameUrl).origin;
  if (frameOrigin && !new URL(frameOrigin).hostname.startsWith('*.')) {
    throw new ConfigError(
      'FRAME_URL',
      `"${frameUrl}" must start its host with "*." (each site's frames get their own name)`,
    );
  }
  const secretKey = env.SECRET_KEY || (env.NODE_ENV === 'production' ? '' : DEVELOPMENT_SECRET_KEY);
  if (secretKey.length < 32) {
    const what = env.SECRET_KEY ? 'is too short' : 'is required with NODE_ENV=production';
    throw new ConfigError('SECRET_KEY', `${what}: set at least 32 random characters (openssl rand -base64 32)`);
  }
  const smtpUrl = url(env, 'SMTP_URL', ['smtp:', 'smtps:']);
  // Without it emails are only logged (with the links they carry): a development convenience, never production's.
  if (!smtpUrl && env.NODE_ENV === 'production') {
    throw new ConfigError('SMTP_URL', 'is required with NODE_ENV=production (smtp://user:password@host:587)');
  }
  const publicUrl = url(env, 'PUBLIC_URL', ['http:', 'https:']) ?? `http://localhost:${port}`;
  // npm runs workspace scripts inside the workspace; INIT_CWD is where the user typed the command.
  const base = env.INIT_CWD ?? process.cwd();
  if (frameOrigin && frameOrigin === new URL(publicUrl).origin) {
    throw new ConfigError('FRAME_URL', 'must be another origin than PUBLIC_URL (another host name for this server)');
  }
  return {
    port,
    host: env.HOST || '0.0.0.0',
    dataDir: path.resolve(base, env.DATA_DIR || '.data'),
    databaseUrl,
    redisUrl: url(env, 'REDIS_URL', ['redis:', 'rediss:']),
    smtpUrl,
    mailFrom,
    publicUrl: new URL(publicUrl).origin,
    logLevel,
    seedDemo: seedText === 'true',
    production: env.NODE_ENV === 'production',
    operatorAgencyId,
    allowLocalHooks: hooksText === 'true',
    frameUrl: frameOrigin,
    webhookTimeoutMs: Number(timeoutText),
    webhookRetrySchedule: scheduleText ? scheduleText.split(',').map(Number) : null,
    secretKey,
    outboxRetentionDays: Number(retentionText),
  };
}
