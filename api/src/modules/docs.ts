import type { Knex } from 'knex';
import { Router } from 'express';
import semver from 'semver';
import { enterTenant, NO_TENANT } from '../db/tenant.js';
import { notFound, Problem } from '../http/problem.js';
import { collectionsDocument } from './collections-openapi.js';
import { findVersion } from './registry.js';

/** Reads the catalog (which every agency, and no agency, may read) as the application role. */
function readCatalog<T>(knex: Knex, read: (tx: Knex.Transaction) => Promise<T>): Promise<T> {
  return knex.transaction(async (tx) => {
    await enterTenant(tx, NO_TENANT);
    return read(tx);
  });
}

/**
 * Each module's generated API description, `/v1/m/{moduleId}/openapi.json` (the latest version, or
 * `?version=`), and the list of them the API reference at /docs shows beside the platform's.
 */
export function moduleDocs(knex: Knex, publicUrl: string) {
  const router = Router();
  router.get('/v1/m/:moduleId/openapi.json', async (req, res) => {
    const version = typeof req.query.version === 'string' ? req.query.version : undefined;
    if (version !== undefined && (!semver.valid(version) || version.includes('+'))) {
      throw new Problem(400, 'validation_failed', 'Bad request', 'version must be a semantic version.', [
        { path: '/query/version', message: 'must be a semantic version' },
      ]);
    }
    const row = await readCatalog(knex, (tx) => findVersion(tx, req.params.moduleId, version ?? 'latest'));
    if (!row) throw notFound(version ? 'module version' : 'module');
    // Versions are immutable: a pinned version's document never changes; the latest may.
    res.set('Cache-Control', version ? 'public, max-age=86400' : 'public, max-age=60');
    res.json(collectionsDocument(row.manifest, { serverUrl: publicUrl }));
  });

  /** Every module with collections, for the API reference: title and document URL. */
  const sources = () =>
    readCatalog(knex, async (tx) => {
      const rows = (await tx('modules as m')
        .join('module_versions as v', { 'v.module_id': 'm.id', 'v.version': 'm.latest_version' })
        .whereRaw(`v.manifest -> 'collections' <> '{}'::jsonb`)
        .orderBy('m.seq')
        .select('m.id', 'm.name')) as { id: string; name: string }[];
      return rows.map((module) => ({ title: `${module.name} (${module.id})`, url: `/v1/m/${module.id}/openapi.json` }));
    });
  return { router, sources };
}
