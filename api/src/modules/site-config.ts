import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import type { Handlers, Schemas } from '../http/operations.js';
import { notModified } from '../http/etag.js';
import { notFound } from '../http/problem.js';
import { findSite } from '../platform/sites.js';
import { bundleUrl, type StoredFile } from './registry.js';
import { visitorElements, type Manifest } from './manifest.js';

type SiteConfig = Schemas['SiteConfig'];

/**
 * What the loader needs for a site: the site, its theme and each active install that shows something on the
 * site's pages — its elements for visitors (every element of a widget, an app's that say so) with its pinned
 * version, bundle URLs with integrity hashes, and those elements' settings. Nothing else is the public's to
 * read: not an app's screens for signed-in users nor their settings, nor an integration, nor the settings a
 * schema marks `writeOnly` (what only the server uses, such as the tags a form gives contacts). Read in the
 * site's tenant.
 */
export async function siteConfiguration(tx: Knex.Transaction, siteId: string, publicUrl: string): Promise<SiteConfig> {
  const site = await tx('sites').where({ id: siteId }).first('id', 'name');
  if (!site) throw notFound('site');
  const theme = await tx('site_themes').where({ site_id: site.id }).first('theme');
  const installs = (await tx('installs as i')
    .join('module_versions as v', { 'v.module_id': 'i.module_id', 'v.version': 'i.version' })
    .where({ 'i.site_id': site.id, 'i.status': 'active' })
    .whereRaw(`v.manifest ->> 'type' IN ('widget', 'app')`)
    .orderBy('i.id')
    .select('i.module_id', 'i.version', 'i.settings', 'v.manifest', 'v.files')) as {
    module_id: string;
    version: string;
    settings: Schemas['InstallSettings'];
    manifest: Manifest;
    files: StoredFile[];
  }[];
  const modules: SiteConfig['modules'] = [];
  for (const install of installs) {
    const elements = visitorElements(install.manifest);
    if (elements.length === 0) continue;
    const settings: Schemas['InstallSettings'] = {};
    for (const element of elements) {
      const given = install.settings[element.tag];
      if (given !== undefined) settings[element.tag] = publicSettings(given, element.settings) as typeof given;
    }
    modules.push({
      id: install.module_id,
      version: install.version,
      type: install.manifest.type,
      elements: elements.map((element) => {
        const file = install.files.find((candidate) => candidate.path === element.entry)!;
        return {
          tag: element.tag,
          url: bundleUrl(publicUrl, file.sha256),
          integrity: file.integrity,
          ...(element.launcher ? { launcher: element.launcher } : {}),
        };
      }),
      settings,
    });
  }
  return { site, theme: theme?.theme ?? { tokens: {} }, modules };
}

/** An element's settings without the top-level ones its schema marks `writeOnly` (the server's alone). */
function publicSettings(settings: Record<string, unknown>, schema: Record<string, unknown> | undefined) {
  const properties = (schema?.properties ?? {}) as Record<string, { writeOnly?: unknown } | undefined>;
  const hidden = Object.keys(properties).filter((name) => properties[name]?.writeOnly === true);
  if (hidden.length === 0) return settings;
  return Object.fromEntries(Object.entries(settings).filter(([name]) => !hidden.includes(name)));
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
