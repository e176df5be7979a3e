import { migratedEmbeddedDatabase } from './database.js';

/**
 * Builds the migrated embedded database the test platforms start from, once, before any suite runs: built
 * inside a suite, its seconds would count against that suite's first test.
 */
export default async function setup(): Promise<void> {
  if (!process.env.DATABASE_URL) await migratedEmbeddedDatabase();
}
