import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Handlers, Schemas } from '../http/operations.js';
import { notModified } from '../http/etag.js';
import { notFound } from '../http/problem.js';
import { findSite } from '../platform/sites.js';
import { bundleUrl, type StoredFile } from './registry.js';
import type { Manifest } from './manifest.js';

type SiteConfig = Schemas['SiteConfig'];

/**
 * What the loader needs for a site: the site, its theme and each active widget install with its pinned
 * version, bundle URLs with integrity hashes and settings (other modules do not render for visitors, and
 * their settings are not the public's to read). Read in the site's tenant.
 */
export async function siteConfiguration(tx: Knex.Transaction, siteId: string, publicUrl: string): Promise<SiteConfig> {
  const site = await tx('sites').where({ id: siteId }).first('id', 'name');
  if (!site) throw notFound('site');
  const theme = await tx('site_themes').where({ site_id: site.id }).first('theme');
  const installs = (await tx('installs as i')
    .join('module_versions as v', { 'v.module_id': 'i.module_id', 'v.version': 'i.version' })
    .where({ 'i.site_id': site.id, 'i.status': 'active' })
    .whereRaw(`v.manifest ->> 'type' = 'widget'`)
    .orderBy('i.id')
    .select('i.module_id', 'i.version', 'i.settings', 'v.manifest', 'v.files')) as {
    module_id: string;
    version: string;
    settings: Schemas['InstallSettings'];
    manifest: Manifest;
    files: StoredFile[];
  }[];
  return {
    site,
    theme: theme?.theme ?? { tokens: {} },
    modules: installs.map((install) => ({
      id: install.module_id,
      version: install.version,
      type: install.manifest.type,
      elements: (install.manifest.elements ?? []).map((element) => {
        const file = install.files.find((candidate) => candidate.path === element.entry)!;
        return {
          tag: element.tag,
          url: bundleUrl(publicUrl, file.sha256),
          integrity: file.integrity,
          ...(element.launcher ? { launcher: element.launcher } : {}),
        };
      }),
      settings: install.settings,
    })),
  };
}

/** An entity tag naming exactly this content. */
export const etagOf = (content: string | Buffer) => `"${createHash('sha256').update(content).digest('base64url')}"`;

export const siteConfigHandlers: Pick<Handlers, 'getSiteConfig' | 'getSiteTheme' | 'putSiteTheme'> = {
  /** The ETag is the hash of the body: a loader revalidating gets `304` until something in it changes. */
  async getSiteConfig({ tx, principal, publicUrl, request }) {
    const body = await siteConfiguration(tx, principal.siteId!, publicUrl);
    const etag = etagOf(JSON.stringify(body));
    const headers = { ETag: etag, 'Cache-Control': 'no-cache' };
    if (notModified(request, etag)) return { status: 304, headers };
    return { status: 200, headers, body };
  },

  async getSiteTheme({ tx, params }) {
    await findSite(tx, params.siteId);
    const row = await tx('site_themes').where({ site_id: params.siteId }).first('theme');
    return { status: 200, body: row?.theme ?? { tokens: {} } };
  },

  async putSiteTheme({ tx, agencyId, params, body }) {
    await findSite(tx, params.siteId);
    await tx('site_themes')
      .insert({ site_id: params.siteId, agency_id: agencyId, theme: body })
      .onConflict('site_id')
      .merge({ theme: body, updated_at: tx.fn.now() });
    return { status: 200, body };
  },
};
