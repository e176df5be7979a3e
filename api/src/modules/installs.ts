import type { Knex } from 'knex';
import semver from 'semver';
import { v7 as uuidv7 } from 'uuid';
import { enterTenant } from '../db/tenant.js';
import {
  withPreparation,
  type Context,
  type Handlers,
  type PrepareInput,
  type Principal,
  type Schemas,
} from '../http/operations.js';
import { paginate } from '../http/pagination.js';
import { conflict, forbidden, notFound, Problem } from '../http/problem.js';
import { recordValidator } from './json-schema.js';
import { askHook, notifyHook, type HookEvent } from './hooks.js';
import { emitSiteEvent } from '../webhooks/outbox.js';
import { findSite } from '../platform/sites.js';
import { provisionIntegration, retireIntegration } from './integrations.js';
import { findVersion } from './registry.js';
import { collectionTable, searchText } from './storage.js';
import type { Manifest } from './manifest.js';

type Settings = Schemas['InstallSettings'];
type Action = Schemas['InstallEvent']['action'];

const INSTALL = [
  'id',
  'site_id',
  'module_id',
  'version',
  'previous_version',
  'status',
  'settings',
  'created_at',
  'updated_at',
  'purge_after',
];

const DEFAULT_RETENTION_DAYS = 30;

const unprocessable = (code: string, detail: string, errors?: { path: string; message: string }[]) =>
  new Problem(422, code, 'Unprocessable', detail, errors);

/**
 * An install's settings, element by element: validated against each element's settings schema with its
 * defaults filled in. An element not mentioned gets its defaults.
 */
export function resolveSettings(manifest: Manifest, given: Settings, path = '/body/settings'): Settings {
  const elements = manifest.elements ?? [];
  const unknown = Object.keys(given).filter((tag) => !elements.some((element) => element.tag === tag));
  if (unknown.length > 0) {
    throw unprocessable(
      'invalid_settings',
      `${manifest.id}@${manifest.version} has no element <${unknown[0]}>.`,
      unknown.map((tag) => ({ path: `${path}/${tag}`, message: 'is not an element of this module' })),
    );
  }
  const settings: Settings = {};
  const errors: { path: string; message: string }[] = [];
  for (const element of elements) {
    const validate = recordValidator(element.settings ?? {});
    const result = validate(given[element.tag] ?? {});
    if (result.valid) settings[element.tag] = result.value as Record<string, never>;
    else errors.push(...result.issues.map((issue) => ({ ...issue, path: `${path}/${element.tag}${issue.path}` })));
  }
  if (errors.length > 0) {
    throw unprocessable('invalid_settings', 'The settings do not match the module’s settings schema.', errors);
  }
  return settings;
}

async function findInstall(tx: Knex.Transaction, siteId: string, moduleId: string, lock = false) {
  await findSite(tx, siteId);
  const query = tx('installs').where({ site_id: siteId, module_id: moduleId });
  if (lock) query.forUpdate();
  const install = await query.first([...INSTALL, 'agency_id', 'previous_settings']);
  if (!install || install.status === 'purged') throw notFound('install');
  return install;
}

async function findActiveInstall(tx: Knex.Transaction, siteId: string, moduleId: string) {
  const install = await findInstall(tx, siteId, moduleId, true);
  if (install.status !== 'active') {
    throw conflict('not_installed', `${moduleId} is uninstalled on this site: install it again first.`);
  }
  return install;
}

/** The platform events an install's transitions emit (see docs/decisions/0009-webhooks-on-an-outbox.md). */
const INSTALL_EVENTS: Partial<Record<Action, string>> = {
  install: 'platform.install.created',
  reinstall: 'platform.install.created',
  upgrade: 'platform.install.upgraded',
  rollback: 'platform.install.rolled_back',
  uninstall: 'platform.install.removed',
};

async function record(
  ctx: { tx: Knex.Transaction; afterCommit(effect: () => void): void },
  principal: Principal | null,
  install: { id: string; agency_id: string; site_id: string; module_id?: string },
  action: Action,
  from: string | null,
  to: string | null,
) {
  const { tx } = ctx;
  const type = INSTALL_EVENTS[action];
  if (type && install.module_id) {
    await emitSiteEvent(ctx, install.site_id, type, {
      install_id: install.id,
      site_id: install.site_id,
      module_id: install.module_id,
      from_version: from,
      to_version: to,
    });
  }
  await tx('install_events').insert({
    id: uuidv7(),
    agency_id: install.agency_id,
    site_id: install.site_id,
    install_id: install.id,
    action,
    from_version: from,
    to_version: to,
    actor_kind: principal?.kind ?? 'system',
    actor_user_id: principal?.userId ?? null,
    actor_credential_id: principal?.credentialId ?? null,
  });
}

/** Every dependency of the manifest must be active on the site, at a version its range accepts. */
async function assertDependencies(tx: Knex.Transaction, siteId: string, manifest: Manifest) {
  for (const [dependency, range] of Object.entries(manifest.dependencies ?? {})) {
    const installed = await tx('installs')
      .where({ site_id: siteId, module_id: dependency, status: 'active' })
      .first('version');
    if (!installed || !semver.satisfies(installed.version, range)) {
      throw unprocessable(
        'dependency_missing',
        `${manifest.id} needs ${dependency} ${range} on this site${installed ? ` (it has ${installed.version})` : ''}.`,
        [{ path: `/body/module_id`, message: `needs ${dependency} ${range} installed first` }],
      );
    }
  }
}

const MIGRATION_BATCH = 500;
const MAX_REFUSALS = 20;

/**
 * Brings the site's records up to a new version's schemas, a batch at a time: each is validated (defaults
 * filled in) and written back only when that changed it. One refused record fails the whole upgrade — and
 * so, in the request's transaction, leaves the old version and every record as they were.
 */
async function migrateRecords(tx: Knex.Transaction, siteId: string, manifest: Manifest) {
  const refused: { path: string; message: string }[] = [];
  for (const [name, definition] of Object.entries(manifest.collections ?? {})) {
    const validate = recordValidator(definition.schema);
    const table = collectionTable(manifest.id, name);
    for (let after = ''; refused.length < MAX_REFUSALS;) {
      const rows = (await tx(table)
        .where({ site_id: siteId })
        .modify((query) => after && query.where('id', '>', after))
        .orderBy('id')
        .limit(MIGRATION_BATCH)
        .select('id', 'data')) as { id: string; data: Record<string, unknown> }[];
      if (rows.length === 0) break;
      after = rows.at(-1)!.id;
      for (const row of rows) {
        const result = validate(row.data);
        if (!result.valid) {
          refused.push(
            ...result.issues.map((issue) => ({ path: `/${name}/${row.id}${issue.path}`, message: issue.message })),
          );
          continue;
        }
        const data = result.value as Record<string, unknown>;
        if (JSON.stringify(data) === JSON.stringify(row.data)) continue;
        await tx(table)
          .where({ id: row.id })
          .update({ data, search: tx.raw(`to_tsvector('simple', ?)`, [searchText(definition, data)]) });
      }
    }
  }
  if (refused.length > 0) {
    throw unprocessable(
      'upgrade_failed',
      `${refused.length >= MAX_REFUSALS ? `At least ${MAX_REFUSALS}` : refused.length} existing record(s) do not match ${manifest.id}@${manifest.version}; nothing was changed.`,
      refused.slice(0, MAX_REFUSALS),
    );
  }
}

/** The site's active installs that depend on the module, with the versions of it they accept. */
async function dependentsOf(tx: Knex.Transaction, siteId: string, moduleId: string) {
  const rows = (await tx('installs as i')
    .join('module_versions as v', { 'v.module_id': 'i.module_id', 'v.version': 'i.version' })
    .where({ 'i.site_id': siteId, 'i.status': 'active' })
    .whereRaw(`jsonb_exists(v.manifest -> 'dependencies', ?)`, [moduleId])
    .select('i.module_id', 'v.manifest')) as { module_id: string; manifest: Manifest }[];
  return rows.map((row) => ({ moduleId: row.module_id, range: row.manifest.dependencies![moduleId]! }));
}

/** Refuses to move a module to a version (or, with `null`, off the site) that modules depending on it refuse. */
async function assertDependentsAccept(tx: Knex.Transaction, siteId: string, moduleId: string, version: string | null) {
  const refusing = (await dependentsOf(tx, siteId, moduleId)).filter(
    (dependent) => version === null || !semver.satisfies(version, dependent.range),
  );
  if (refusing.length > 0) {
    const names = refusing.map((dependent) => `${dependent.moduleId} (${moduleId} ${dependent.range})`).join(', ');
    throw conflict(
      'required_by',
      version === null
        ? `${names} depend(s) on ${moduleId}: uninstall them first.`
        : `${names} depend(s) on ${moduleId} and do(es) not accept ${version}.`,
    );
  }
}

/**
 * Asks the module's pre-transition hook before the request's transaction opens (a vendor may take seconds
 * to answer; no connection is held meanwhile). What it is asked about is read as the caller, so a vendor
 * never hears of a site the caller cannot see.
 */
async function askPreHook(
  input: PrepareInput<'installModule' | 'upgradeInstall'>,
  find: (tx: Knex.Transaction) => Promise<{ url: string | undefined; event: HookEvent } | null>,
): Promise<string | null> {
  const { knex, principal, allowLocalHooks } = input;
  const hook = await knex.transaction(async (tx) => {
    await enterTenant(tx, { agencyId: principal.agencyId, clientId: principal.clientId });
    return find(tx);
  });
  if (hook) await askHook(hook.url, hook.event, allowLocalHooks);
  // The version the hook was asked about is the one installed, even if a newer one is published meanwhile.
  return hook?.event.to_version ?? null;
}

/** Tells the module's vendor about a transition once it has committed. */
function tellVendor(
  ctx: Context<'installModule' | 'upgradeInstall' | 'uninstallModule'>,
  url: string | undefined,
  event: HookEvent,
) {
  ctx.afterCommit(() =>
    notifyHook(url, event, ctx.allowLocalHooks, (reason) =>
      ctx.request.log.warn({ hook: event.event, module: event.module_id }, `lifecycle hook not delivered: ${reason}`),
    ),
  );
}

/** A version's data can go back as far as its `database.rollback_floor` says, and no further. */
async function assertRollbackFloor(tx: Knex.Transaction, moduleId: string, from: string, to: string) {
  const floor = (await findVersion(tx, moduleId, from))!.manifest.database?.rollback_floor;
  if (floor && semver.lt(to, floor)) {
    throw conflict(
      'rollback_refused',
      `${moduleId}@${from} cannot go back below ${floor} (its data would not be readable there).`,
    );
  }
}

const retentionOf = (manifest: Manifest) => manifest.lifecycle?.uninstall?.retention_days ?? DEFAULT_RETENTION_DAYS;

export const installHandlers: Pick<
  Handlers,
  | 'listInstalls'
  | 'installModule'
  | 'getInstall'
  | 'updateInstall'
  | 'uninstallModule'
  | 'upgradeInstall'
  | 'rollbackInstall'
  | 'listInstallHistory'
> = {
  async listInstalls({ tx, params, query }) {
    await findSite(tx, params.siteId);
    const installs = tx('installs')
      .select(INSTALL)
      .where({ site_id: params.siteId, status: query.status ?? 'active' });
    return { status: 200, body: await paginate(installs, 'id', query, (row) => row as never) };
  },

  async getInstall({ tx, params }) {
    const { agency_id: _, previous_settings: __, ...install } = await findInstall(tx, params.siteId, params.moduleId);
    return { status: 200, body: install };
  },

  installModule: withPreparation(
    (input) =>
      askPreHook(input, async (tx) => {
        const { params, body } = input;
        if (!(await tx('sites').where({ id: params.siteId }).first('id'))) return null;
        const version = await findVersion(tx, body.module_id, body.version ?? 'latest');
        if (!version) return null;
        return {
          url: version.manifest.lifecycle?.pre_install,
          event: {
            event: 'pre_install',
            module_id: version.module_id,
            site_id: params.siteId,
            from_version: null,
            to_version: version.version,
          },
        };
      }),
    async (ctx, asked) => {
      const { tx, principal, params, body } = ctx;
      const site = await findSite(tx, params.siteId);
      const version = await findVersion(tx, body.module_id, body.version ?? asked ?? 'latest');
      if (!version) throw notFound(body.version ? 'module version' : 'module');
      const { manifest } = version;
      if (manifest.type === 'system' && !principal.operator) {
        throw forbidden('operator_only', `${manifest.id} is a system module: only the platform operator installs it.`);
      }
      await assertDependencies(tx, site.id, manifest);
      const settings = resolveSettings(manifest, body.settings ?? {});
      const existing = await tx('installs')
        .where({ site_id: site.id, module_id: manifest.id })
        .forUpdate()
        .first('id', 'status', 'version');
      if (existing?.status === 'active') {
        throw conflict('already_installed', `${manifest.id} is installed on this site already (${existing.version}).`);
      }
      const fields = {
        version: manifest.version,
        previous_version: null,
        previous_settings: null,
        status: 'active',
        settings,
        purge_after: null,
        updated_at: tx.fn.now(),
      };
      const [install] = existing
        ? await tx('installs')
            .where({ id: existing.id })
            .update(fields)
            .returning([...INSTALL, 'agency_id'])
        : await tx('installs')
            .insert({ id: uuidv7(), agency_id: site.agency_id, site_id: site.id, module_id: manifest.id, ...fields })
            .returning([...INSTALL, 'agency_id']);
      // Back within the retention period at a newer version: the kept records are upgraded like on upgrade.
      // At an older one they stay as they are, as on rollback — as far back as the data allows.
      if (existing?.status === 'uninstalled' && semver.gt(manifest.version, existing.version)) {
        await migrateRecords(tx, site.id, manifest);
      } else if (existing?.status === 'uninstalled' && semver.lt(manifest.version, existing.version)) {
        await assertRollbackFloor(tx, manifest.id, existing.version, manifest.version);
      }
      await record(
        ctx,
        principal,
        install,
        existing?.status === 'uninstalled' ? 'reinstall' : 'install',
        existing?.version ?? null,
        manifest.version,
      );
      tellVendor(ctx, manifest.lifecycle?.post_install, {
        event: 'post_install',
        module_id: manifest.id,
        site_id: site.id,
        from_version: null,
        to_version: manifest.version,
      });
      const credentials = await provisionIntegration(tx, principal, site, manifest, install.id);
      const { agency_id: _, ...body201 } = install;
      return { status: 201, body: { ...body201, ...(credentials && { integration_credentials: credentials }) } };
    },
  ),

  async updateInstall(ctx) {
    const { tx, principal, params, body } = ctx;
    const install = await findActiveInstall(tx, params.siteId, params.moduleId);
    const version = (await findVersion(tx, install.module_id, install.version))!;
    const settings = resolveSettings(version.manifest, { ...install.settings, ...body.settings });
    const [updated] = await tx('installs')
      .where({ id: install.id })
      .update({ settings, updated_at: tx.fn.now() })
      .returning(INSTALL);
    await record(ctx, principal, install, 'update_settings', install.version, install.version);
    return { status: 200, body: updated };
  },

  upgradeInstall: withPreparation(
    (input) =>
      askPreHook(input, async (tx) => {
        const { params, body } = input;
        const install = await tx('installs')
          .where({ site_id: params.siteId, module_id: params.moduleId, status: 'active' })
          .first('version');
        const target = install && (await findVersion(tx, params.moduleId, body?.version ?? 'latest'));
        if (!target || !semver.gt(target.version, install.version)) return null;
        return {
          url: target.manifest.lifecycle?.pre_upgrade,
          event: {
            event: 'pre_upgrade',
            module_id: params.moduleId,
            site_id: params.siteId,
            from_version: install.version,
            to_version: target.version,
          },
        };
      }),
    async (ctx, asked) => {
      const { tx, principal, params, body } = ctx;
      const install = await findActiveInstall(tx, params.siteId, params.moduleId);
      const target = await findVersion(tx, install.module_id, body?.version ?? asked ?? 'latest');
      if (!target) throw notFound('module version');
      if (!semver.gt(target.version, install.version)) {
        throw conflict('not_newer', `${install.module_id} is at ${install.version}; ${target.version} is not newer.`);
      }
      const { manifest } = target;
      await assertDependencies(tx, install.site_id, manifest);
      await assertDependentsAccept(tx, install.site_id, manifest.id, manifest.version);
      // Settings of elements the new version no longer has go with them.
      const kept = Object.fromEntries(
        Object.entries(install.settings as Settings).filter(([tag]) =>
          (manifest.elements ?? []).some((element) => element.tag === tag),
        ),
      );
      const settings = resolveSettings(manifest, kept, '/settings');
      await migrateRecords(tx, install.site_id, manifest);
      const [updated] = await tx('installs')
        .where({ id: install.id })
        .update({
          version: manifest.version,
          previous_version: install.version,
          previous_settings: install.settings,
          settings,
          updated_at: tx.fn.now(),
        })
        .returning(INSTALL);
      await record(ctx, principal, install, 'upgrade', install.version, manifest.version);
      tellVendor(ctx, manifest.lifecycle?.post_upgrade, {
        event: 'post_upgrade',
        module_id: manifest.id,
        site_id: install.site_id,
        from_version: install.version,
        to_version: manifest.version,
      });
      return { status: 200, body: updated };
    },
  ),

  async rollbackInstall(ctx) {
    const { tx, principal, params } = ctx;
    const install = await findActiveInstall(tx, params.siteId, params.moduleId);
    if (!install.previous_version) {
      throw conflict('nothing_to_roll_back', `${install.module_id} has not been upgraded since it was installed.`);
    }
    await assertRollbackFloor(tx, install.module_id, install.version, install.previous_version);
    await assertDependentsAccept(tx, install.site_id, install.module_id, install.previous_version);
    // The settings the previous version ran with come back with it; the records stay as they are.
    const [updated] = await tx('installs')
      .where({ id: install.id })
      .update({
        version: install.previous_version,
        previous_version: null,
        previous_settings: null,
        settings: install.previous_settings ?? install.settings,
        updated_at: tx.fn.now(),
      })
      .returning(INSTALL);
    await record(ctx, principal, install, 'rollback', install.version, install.previous_version);
    return { status: 200, body: updated };
  },

  async uninstallModule(ctx) {
    const { tx, principal, params, query } = ctx;
    const install = await findActiveInstall(tx, params.siteId, params.moduleId);
    await assertDependentsAccept(tx, install.site_id, install.module_id, null);
    const version = (await findVersion(tx, install.module_id, install.version))!;
    const days = query.retention_days ?? retentionOf(version.manifest);
    const [updated] = await tx('installs')
      .where({ id: install.id })
      .update({
        status: 'uninstalled',
        purge_after: tx.raw(`now() + make_interval(days => ?)`, [days]),
        updated_at: tx.fn.now(),
      })
      .returning(INSTALL);
    await record(ctx, principal, install, 'uninstall', install.version, null);
    await retireIntegration(tx, install.id);
    tellVendor(ctx, version.manifest.lifecycle?.uninstall?.hook, {
      event: 'uninstall',
      module_id: install.module_id,
      site_id: install.site_id,
      from_version: install.version,
      to_version: null,
    });
    return { status: 200, body: updated };
  },

  async listInstallHistory({ tx, params, query }) {
    const install = await findInstall(tx, params.siteId, params.moduleId);
    const events = tx('install_events')
      .select(
        'id',
        'action',
        'from_version',
        'to_version',
        'actor_kind',
        'actor_user_id',
        'actor_credential_id',
        'created_at',
      )
      .where({ install_id: install.id });
    const page = await paginate(events, 'id', query, (row) => ({
      id: row.id as string,
      action: row.action as Action,
      from_version: row.from_version as string | null,
      to_version: row.to_version as string | null,
      actor: {
        kind: row.actor_kind as 'session' | 'secret' | 'token' | 'system',
        user_id: row.actor_user_id as string | null,
        credential_id: row.actor_credential_id as string | null,
      },
      created_at: row.created_at as string,
    }));
    return { status: 200, body: page };
  },
};
