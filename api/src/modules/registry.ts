import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import semver from 'semver';
import { withPreparation, type Handlers, type Principal, type Schemas } from '../http/operations.js';
import { notModified } from '../http/etag.js';
import { paginate } from '../http/pagination.js';
import { conflict, notFound, Problem } from '../http/problem.js';
import { checkManifest, isFirstParty, type BundleFile, type Manifest } from './manifest.js';
import { provisionCollections, schemaOf } from './storage.js';

type ModuleVersion = Schemas['ModuleVersion'];

/** A stored bundle file, as module_versions.files keeps it. */
export interface StoredFile {
  path: string;
  sha256: string;
  integrity: string;
  size: number;
}

/** Where a bundle file is served: by content, so its URL never changes meaning. */
export const bundleUrl = (publicUrl: string, sha256: string) => `${publicUrl}/v1/bundles/${sha256}.js`;

export function publicFiles(publicUrl: string, files: StoredFile[]): ModuleVersion['files'] {
  return files.map((file) => ({
    path: file.path,
    url: bundleUrl(publicUrl, file.sha256),
    integrity: file.integrity,
    size: file.size,
  }));
}

const MODULE = ['id', 'name', 'type', 'description', 'category', 'first_party', 'latest_version', 'created_at'];

interface VersionRow {
  module_id: string;
  version: string;
  manifest: Manifest;
  files: StoredFile[];
  /** A Date from the database; the dispatcher sends it as the ISO string the spec promises. */
  published_at: string;
}

const toVersion = (publicUrl: string, row: VersionRow) => ({
  module_id: row.module_id,
  version: row.version,
  manifest: row.manifest,
  files: publicFiles(publicUrl, row.files),
  published_at: row.published_at,
});

/** A version of the catalog; `latest` picks the module's latest. */
export async function findVersion(
  tx: Knex.Transaction,
  moduleId: string,
  version: string | 'latest',
): Promise<VersionRow | undefined> {
  const query = tx('module_versions as v').select(
    'v.module_id',
    'v.version',
    'v.manifest',
    'v.files',
    'v.published_at',
  );
  if (version === 'latest') query.join('modules as m', { 'm.id': 'v.module_id', 'm.latest_version': 'v.version' });
  else query.where('v.version', version);
  return query.where('v.module_id', moduleId).first();
}

interface Prepared {
  files: (BundleFile & StoredFile)[];
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes and checks the upload before any database work: parsing bundles is CPU, not I/O. */
function prepareUpload(body: Schemas['ModulePublish'], principal: Principal, allowLocalHooks: boolean): Prepared {
  const files = Object.entries(body.files).map(([path, encoded]) => {
    if (!BASE64.test(encoded)) {
      throw new Problem(400, 'validation_failed', 'Bad request', `files/${path} is not base64.`, [
        { path: `/body/files/${path}`, message: 'must be base64' },
      ]);
    }
    const content = Buffer.from(encoded, 'base64');
    return {
      path,
      content,
      sha256: createHash('sha256').update(content).digest('hex'),
      integrity: `sha384-${createHash('sha384').update(content).digest('base64')}`,
      size: content.length,
    };
  });
  const { issues, tooLarge } = checkManifest(
    body.manifest,
    files,
    { operator: principal.operator },
    { allowHttpHooks: allowLocalHooks },
  );
  if (tooLarge.length > 0) {
    throw new Problem(413, 'bundle_too_large', 'Bundle too large', tooLarge[0]!.message, tooLarge);
  }
  if (issues.length > 0) {
    throw new Problem(422, 'invalid_manifest', 'Invalid manifest', issues.map((i) => i.message).join(' '), issues);
  }
  return { files };
}

/**
 * Claims the id's namespace for the publisher, or checks it is theirs: first-party ids are the operator's,
 * `vendor.name` ids the agency that first published under `vendor`.
 */
async function claimNamespace(tx: Knex.Transaction, moduleId: string, agencyId: string) {
  // checkManifest let a first-party id through for the operator only (and row-level security agrees).
  if (isFirstParty(moduleId)) return;
  const namespace = moduleId.split('.')[0]!;
  const owner = await tx('module_namespaces').where({ namespace }).first('owner_agency_id');
  if (!owner) {
    await tx('module_namespaces').insert({ namespace, owner_agency_id: agencyId });
  } else if (owner.owner_agency_id !== agencyId) {
    throw conflict(
      'namespace_taken',
      `The namespace "${namespace}" belongs to another publisher: publish under a namespace of your own.`,
    );
  }
}

/**
 * Registers the element tags for the module; one registered to another module refuses the publish. The
 * insert comes first, so that of two publishes racing for a tag the second sees the first's row.
 */
async function registerTags(tx: Knex.Transaction, moduleId: string, tags: string[]) {
  if (tags.length === 0) return;
  await tx('module_tags')
    .insert(tags.map((tag) => ({ tag, module_id: moduleId })))
    .onConflict('tag')
    .ignore();
  const taken = await tx('module_tags').whereIn('tag', tags).whereNot({ module_id: moduleId }).first();
  if (taken) {
    throw new Problem(409, 'tag_taken', 'Conflict', `The element tag <${taken.tag}> belongs to another module.`, [
      {
        path: `/body/manifest/elements/${tags.indexOf(taken.tag)}/tag`,
        message: `is registered to ${taken.module_id}`,
      },
    ]);
  }
}

/** Whether `candidate` becomes the latest version over `current`: releases win over prereleases. */
function supersedes(candidate: string, current: string): boolean {
  const prerelease = (version: string) => semver.prerelease(version) !== null;
  if (prerelease(candidate) !== prerelease(current)) return !prerelease(candidate);
  return semver.gt(candidate, current);
}

export const JAVASCRIPT = 'text/javascript; charset=utf-8';

/** Public files any page loads as scripts (module scripts need CORS); nothing in them is the caller's. */
export const ANY_ORIGIN = { 'Access-Control-Allow-Origin': '*', 'Cross-Origin-Resource-Policy': 'cross-origin' };

export const registryHandlers: Pick<
  Handlers,
  'listModules' | 'getModule' | 'publishModuleVersion' | 'listModuleVersions' | 'getModuleVersion' | 'getBundleFile'
> = {
  async listModules({ tx, query }) {
    const modules = tx('modules').select([...MODULE, 'seq']);
    if (query.type) modules.where({ type: query.type });
    const page = await paginate(
      modules,
      { column: 'seq', field: 'seq', integer: true },
      query,
      ({ seq: _, ...row }) => row,
    );
    return { status: 200, body: page as never };
  },

  async getModule({ tx, params }) {
    const module = await tx('modules').where({ id: params.moduleId }).first(MODULE);
    if (!module) throw notFound('module');
    return { status: 200, body: module };
  },

  async listModuleVersions({ tx, params, query, publicUrl }) {
    if (!(await tx('modules').where({ id: params.moduleId }).first('id'))) throw notFound('module');
    const versions = tx('module_versions')
      .select('module_id', 'version', 'manifest', 'files', 'published_at', 'seq')
      .where({ module_id: params.moduleId });
    const page = await paginate(versions, { column: 'seq', field: 'seq', integer: true }, query, (row) =>
      toVersion(publicUrl, row as unknown as VersionRow),
    );
    return { status: 200, body: page };
  },

  async getModuleVersion({ tx, params, publicUrl }) {
    const row = await findVersion(tx, params.moduleId, params.version);
    if (!row) throw notFound('module version');
    return { status: 200, body: toVersion(publicUrl, row) };
  },

  publishModuleVersion: withPreparation(
    async ({ body, principal, allowLocalHooks }) => prepareUpload(body, principal, allowLocalHooks),
    async ({ tx, agencyId, principal, body, publicUrl }, { files }) => {
      const { manifest } = body;
      const moduleId = manifest.id;
      await claimNamespace(tx, moduleId, agencyId);

      const existing = await tx('modules').where({ id: moduleId }).forUpdate().first();
      if (existing) {
        const owned = existing.first_party ? principal.operator : existing.owner_agency_id === agencyId;
        if (!owned) throw conflict('module_id_taken', `The module id ${moduleId} belongs to another publisher.`);
        if (existing.type !== manifest.type) {
          throw new Problem(422, 'invalid_manifest', 'Invalid manifest', `${moduleId} is a ${existing.type} module.`, [
            { path: '/body/manifest/type', message: `must stay "${existing.type}" across versions` },
          ]);
        }
        const taken = await tx('module_versions')
          .where({ module_id: moduleId, version: manifest.version })
          .first('version');
        if (taken) {
          throw conflict(
            'version_exists',
            `${moduleId}@${manifest.version} is published already; versions are immutable.`,
          );
        }
      } else if (!manifest.database?.migrations) {
        // Whatever else made a schema of this name (nothing of ours would), it is not this module's. A
        // first-party module's schema comes from the server's migrations its manifest names.
        const schema = await tx.raw(`SELECT 1 FROM pg_namespace WHERE nspname = ?`, [schemaOf(moduleId)]);
        if ((schema as { rows: unknown[] }).rows.length > 0) {
          throw conflict('schema_taken', `The database schema ${schemaOf(moduleId)} exists already.`);
        }
      }

      const latest =
        existing && !supersedes(manifest.version, existing.latest_version) ? existing.latest_version : manifest.version;
      const listing = {
        type: manifest.type,
        name: latest === manifest.version ? manifest.name : existing.name,
        description: latest === manifest.version ? manifest.description : existing.description,
        category: latest === manifest.version ? (manifest.category ?? null) : existing.category,
        latest_version: latest,
      };
      if (existing)
        await tx('modules')
          .where({ id: moduleId })
          .update({ ...listing, updated_at: tx.fn.now() });
      else
        await tx('modules').insert({
          id: moduleId,
          first_party: isFirstParty(moduleId),
          owner_agency_id: isFirstParty(moduleId) ? null : agencyId,
          ...listing,
        });
      await registerTags(
        tx,
        moduleId,
        (manifest.elements ?? []).map((element) => element.tag),
      );
      // An integration may ship no files (knex makes no statement of an empty insert: it throws).
      if (files.length > 0) {
        await tx('bundle_files')
          .insert(
            files.map(({ path, sha256, integrity, size, content }) => ({
              sha256,
              integrity,
              size,
              content,
              media_type: path.endsWith('.js') ? JAVASCRIPT : 'application/octet-stream',
            })),
          )
          .onConflict('sha256')
          .ignore();
      }
      const stored: StoredFile[] = files.map(({ path, sha256, integrity, size }) => ({
        path,
        sha256,
        integrity,
        size,
      }));
      const [row] = await tx('module_versions')
        .insert({
          module_id: moduleId,
          version: manifest.version,
          manifest,
          files: JSON.stringify(stored),
          published_by_agency: agencyId,
          published_by_user: principal.userId,
          published_by_credential: principal.credentialId,
        })
        .returning(['module_id', 'version', 'manifest', 'files', 'published_at']);
      await provisionCollections(tx, manifest);
      return { status: 201, body: toVersion(publicUrl, row as VersionRow) };
    },
  ),

  async getBundleFile({ tx, params, request }) {
    const sha256 = params.file.slice(0, -'.js'.length);
    const etag = `"${sha256}"`;
    const headers = {
      'Cache-Control': 'public, max-age=31536000, immutable',
      ETag: etag,
      ...ANY_ORIGIN,
    };
    if (notModified(request, etag)) {
      if (!(await tx('bundle_files').where({ sha256, media_type: JAVASCRIPT }).first('sha256'))) {
        throw notFound('bundle file');
      }
      return { status: 304, headers };
    }
    // Only a bundle's scripts are served; a first-party module's API document stays in the registry.
    const file = await tx('bundle_files').where({ sha256, media_type: JAVASCRIPT }).first('content');
    if (!file) throw notFound('bundle file');
    return {
      status: 200,
      headers,
      file: { type: JAVASCRIPT, content: Buffer.from(file.content as Uint8Array) },
    };
  },
};
