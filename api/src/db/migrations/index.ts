import type { Knex } from 'knex';
import * as platform from './0001_platform.js';
import * as modules from './0002_modules.js';
import * as webhooks from './0003_webhooks.js';
import * as oauth from './0004_oauth.js';
import * as moduleRoles from './0005_module_roles.js';
import * as sso from './0006_sso.js';
import * as outboxRetention from './0007_outbox_retention.js';
import * as integrations from './0008_integrations.js';
import * as booking from './0009_booking.js';
import * as moduleInbox from './0010_module_inbox.js';
import * as crm from './0011_crm.js';

/**
 * Migrations are listed here in order, as modules, so they run the same under tsx, vitest and a build.
 * Each has `up` and `down`; a new one is appended, never edited once released.
 */
const migrations: Record<string, Knex.Migration> = {
  '0001_platform': platform,
  '0002_modules': modules,
  '0003_webhooks': webhooks,
  '0004_oauth': oauth,
  '0005_module_roles': moduleRoles,
  '0006_sso': sso,
  '0007_outbox_retention': outboxRetention,
  '0008_integrations': integrations,
  '0009_booking': booking,
  '0010_module_inbox': moduleInbox,
  '0011_crm': crm,
};

/** The server's migrations, oldest first. */
export const migrationNames = () => Object.keys(migrations);

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(migrations),
  getMigrationName: (name) => name,
  getMigration: async (name) => migrations[name]!,
};
