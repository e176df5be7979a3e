import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import type { Context, Handlers, Schemas } from '../http/operations.js';
import { UUID } from '../http/pagination.js';
import { badRequest, forbidden, notFound, Problem } from '../http/problem.js';
import { recordValidator } from './json-schema.js';
import { RESERVED_FIELDS, servesVisitors, type Manifest } from './manifest.js';
import { collectionTable, searchText, tableExists, type CollectionDefinition } from './storage.js';
import { collectionEventType, emitSiteEvent, recordPayload } from '../webhooks/outbox.js';

type Item = Schemas['CollectionItem'];
type Data = Record<string, unknown>;
type CollectionOperation =
  | 'listCollectionItems'
  | 'createCollectionItem'
  | 'getCollectionItem'
  | 'updateCollectionItem'
  | 'deleteCollectionItem';

/** A timestamp as Postgres prints it (microseconds kept: a cursor must not round between two records). */
const TIMESTAMP = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2})?$/;
const ROW = ['id', 'site_id', 'data', 'created_at', 'updated_at'];

/** One collection on one site, as the site's pinned version of the module declares it. */
interface Target {
  manifest: Manifest;
  name: string;
  definition: CollectionDefinition;
  siteId: string;
  table: string;
  /** Called with the publishable key: only what the module declares public. */
  visitor: boolean;
}

interface Row {
  id: string;
  site_id: string;
  data: Data;
  created_at: Date;
  updated_at: Date;
}

const invalidRecord = (detail: string, errors: { path: string; message: string }[]) =>
  new Problem(422, 'invalid_record', 'Invalid record', detail, errors);

/**
 * Finds the collection for the site: the module must be installed (active) there, and its pinned version
 * must declare the collection. Visitors reach only widget modules' public collections.
 */
async function resolve(
  ctx: Context<CollectionOperation>,
  siteId: string,
  access: 'read' | 'create' | 'manage',
): Promise<Target> {
  const { tx, principal, params } = ctx;
  const install = await tx('installs')
    .join('module_versions as v', { 'v.module_id': 'installs.module_id', 'v.version': 'installs.version' })
    .where({ 'installs.site_id': siteId, 'installs.module_id': params.moduleId, 'installs.status': 'active' })
    .first('v.manifest');
  if (!install) throw notFound(`install of ${params.moduleId} on this site`);
  const manifest = install.manifest as Manifest;
  const definition = manifest.collections?.[params.collection];
  if (!definition) throw notFound('collection');
  const visitor = principal.kind === 'publishable';
  // Visitors never reach `manage` (the spec takes no publishable key for updates and deletes).
  if (visitor) {
    const fields = access === 'create' ? definition.public?.create : definition.public?.read;
    if (!servesVisitors(manifest) || !fields?.length) {
      throw forbidden('not_public', `${params.moduleId} does not let visitors ${access} ${params.collection}.`);
    }
  }
  return {
    manifest,
    name: params.collection,
    definition,
    siteId,
    table: collectionTable(params.moduleId, params.collection),
    visitor,
  };
}

/** The site a list or create works on: the publishable key's, or `site_id` for everyone else. */
function siteOf(ctx: Context<'listCollectionItems' | 'createCollectionItem'>): string {
  if (ctx.principal.kind === 'publishable') return ctx.principal.siteId!;
  if (!ctx.query.site_id) {
    throw badRequest('site_id_required', 'Say which site the records belong to: ?site_id=…', [
      { path: '/query/site_id', message: 'is required with a secret key or a session' },
    ]);
  }
  return ctx.query.site_id;
}

/** Finds a record by id, and the collection it lives in: on the key's site for visitors, else wherever it is. */
async function resolveRecord(
  ctx: Context<'getCollectionItem' | 'updateCollectionItem' | 'deleteCollectionItem'>,
  access: 'read' | 'manage',
): Promise<{ target: Target; row: Row }> {
  const { tx, principal, params } = ctx;
  const table = collectionTable(params.moduleId, params.collection);
  if (!(await tableExists(tx, params.moduleId, params.collection))) throw notFound('collection');
  const query = tx(table).where({ id: params.itemId });
  if (access === 'manage') query.forUpdate();
  if (principal.kind === 'publishable') {
    // Visitors learn whether the collection is public to them before whether the record exists.
    const target = await resolve(ctx, principal.siteId!, access);
    const where = target.definition.public?.where;
    query.where({ site_id: principal.siteId });
    if (where) query.whereRaw(`data @> ?::jsonb`, [JSON.stringify(where)]);
    const row = (await query.first(ROW)) as Row | undefined;
    if (!row) throw notFound('record');
    return { target, row };
  }
  const row = (await query.first(ROW)) as Row | undefined;
  if (!row) throw notFound('record');
  return { target: await resolve(ctx, row.site_id, access), row };
}

/** A record as the API shows it: its fields, then the platform's; visitors see the public fields only. */
function toItem(target: Target, row: Row): Item {
  const fields = target.visitor
    ? Object.fromEntries(
        (target.definition.public?.read ?? []).filter((f) => f in row.data).map((f) => [f, row.data[f]]),
      )
    : row.data;
  return { ...fields, id: row.id, created_at: row.created_at.toISOString(), updated_at: row.updated_at.toISOString() };
}

function validate(target: Target, data: Data): Data {
  const reserved = Object.keys(data).filter((field) => RESERVED_FIELDS.includes(field));
  if (reserved.length > 0) {
    throw invalidRecord(
      `${reserved.join(', ')} belong(s) to the platform.`,
      reserved.map((field) => ({ path: `/body/${field}`, message: 'is set by the platform' })),
    );
  }
  const check = recordValidator(target.definition.schema);
  const result = check(data);
  if (!result.valid) {
    throw invalidRecord(
      `The record does not match ${target.name}'s schema.`,
      result.issues.map((issue) => ({ ...issue, path: `/body${issue.path}` })),
    );
  }
  return result.value as Data;
}

/** RFC 7396: objects merge recursively, `null` removes, anything else replaces. */
function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const merged: Data = target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Data) } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete merged[key];
    else merged[key] = mergePatch(merged[key], value);
  }
  return merged;
}

const searchVector = (tx: Knex.Transaction, target: Target, data: Data) =>
  tx.raw(`to_tsvector('simple', ?)`, [searchText(target.definition, data)]);

/** A field visitors may use in `filter` or `sort`: indexed, and public to them. */
function assertQueryable(target: Target, field: string, path: string) {
  const indexed = target.definition.indexes?.includes(field);
  const visible = !target.visitor || target.definition.public?.read?.includes(field);
  if (!indexed || !visible) {
    throw badRequest('invalid_query', `${field} is not an indexed field of ${target.name}.`, [
      { path, message: `must be one of: ${(target.definition.indexes ?? []).join(', ') || '(none)'}` },
    ]);
  }
}

/** A filter's text value as the JSON value the field holds. */
function filterValue(target: Target, field: string, text: string): unknown {
  const property = (target.definition.schema.properties as Record<string, { type?: unknown }> | undefined)?.[field];
  const types = [property?.type].flat();
  if (types.includes('integer') || types.includes('number')) {
    const number = Number(text);
    if (text.trim() !== '' && Number.isFinite(number)) return number;
  } else if (types.includes('boolean')) {
    if (text === 'true' || text === 'false') return text === 'true';
  } else {
    return text;
  }
  throw badRequest('invalid_query', `filter[${field}] must be a ${types.join(' or ')}.`, [
    { path: `/query/filter[${field}]`, message: `must be a ${types.join(' or ')}` },
  ]);
}

/**
 * Writes the record's event to the outbox in the request's transaction, when the module declares one for
 * this collection and verb (see collectionEventType).
 */
async function emitRecordEvent(
  ctx: Context<CollectionOperation>,
  target: Target,
  verb: 'created' | 'updated' | 'deleted',
  row: Row,
): Promise<void> {
  const type = collectionEventType(target.manifest.events, target.manifest.id, target.name, verb);
  if (!type) return;
  const record = {
    ...row.data,
    id: row.id,
    created_at: row.created_at.toISOString(),
    updated_at: row.updated_at.toISOString(),
  };
  await emitSiteEvent(ctx, row.site_id, type, recordPayload(target.manifest.events?.[type], record));
}

const badCursor = () =>
  badRequest('invalid_cursor', 'The cursor is not one this API returned; start again without it.');

export const collectionHandlers: Pick<Handlers, CollectionOperation> = {
  async listCollectionItems(ctx) {
    const { tx, query } = ctx;
    const target = await resolve(ctx, siteOf(ctx), 'read');
    const records = tx(target.table).where({ site_id: target.siteId });
    const where = target.visitor ? target.definition.public?.where : undefined;
    if (where) records.whereRaw(`data @> ?::jsonb`, [JSON.stringify(where)]);
    for (const [field, text] of Object.entries(query.filter ?? {})) {
      assertQueryable(target, field, `/query/filter[${field}]`);
      records.whereRaw(`data @> ?::jsonb`, [JSON.stringify({ [field]: filterValue(target, field, text) })]);
    }
    if (query.q !== undefined) {
      const search = target.definition.search ?? [];
      if (search.length === 0) {
        throw badRequest('invalid_query', `${target.name} has no searchable fields.`, [
          { path: '/query/q', message: 'this collection declares no search fields' },
        ]);
      }
      // A match on a field visitors may not read would tell them what it holds.
      const hidden = search.filter((field) => !target.definition.public?.read?.includes(field));
      if (target.visitor && hidden.length > 0) {
        throw forbidden(
          'not_public',
          `Searching ${target.name} looks in ${hidden.join(', ')}, which visitors may not read.`,
        );
      }
      records.whereRaw(`search @@ websearch_to_tsquery('simple', ?)`, [query.q]);
    }

    // Keyset pagination on (sort key, id): stable under inserts, and an index range scan per page.
    const descending = query.sort?.startsWith('-') ?? false;
    const field = query.sort?.replace(/^-/, '');
    const timestamp = field === 'created_at' || field === 'updated_at';
    if (field && !timestamp) assertQueryable(target, field, '/query/sort');
    const key = !field ? null : timestamp ? field : `coalesce(data -> '${field}', 'null'::jsonb)`;
    if (query.cursor !== undefined) {
      let after: unknown;
      try {
        after = JSON.parse(Buffer.from(query.cursor, 'base64url').toString());
      } catch {
        throw badCursor();
      }
      if (!Array.isArray(after) || after.length !== 2 || typeof after[1] !== 'string' || !UUID.test(after[1])) {
        throw badCursor();
      }
      const [value, id] = after as [unknown, string];
      const op = descending ? '<' : '>';
      if (!key) records.where('id', op, id);
      else if (timestamp) {
        // An impossible date of the right shape (February 30th) is Postgres's to refuse: 400 as well.
        if (typeof value !== 'string' || !TIMESTAMP.test(value)) throw badCursor();
        records.whereRaw(`(${key}, id) ${op} (?::timestamptz, ?)`, [value, id]);
      } else records.whereRaw(`(${key}, id) ${op} (?::jsonb, ?)`, [JSON.stringify(value ?? null), id]);
    }
    const direction = descending ? 'desc' : 'asc';
    if (key) records.orderByRaw(`${key} ${direction}, id ${direction}`);
    else records.orderBy('id', direction);
    const limit = query.limit ?? 20;
    const rows = (await records
      .limit(limit + 1)
      .select([...ROW, ...(key ? [tx.raw(`${timestamp ? `${key}::text` : key} AS sort_key`)] : [])])) as (Row & {
      sort_key?: unknown;
    })[];
    const page = rows.slice(0, limit);
    const last = page.at(-1);
    const sortValue = (row: Row & { sort_key?: unknown }) => row.sort_key ?? null;
    return {
      status: 200,
      body: {
        data: page.map((row) => toItem(target, row)),
        has_more: rows.length > limit,
        next_cursor:
          rows.length > limit && last
            ? Buffer.from(JSON.stringify([sortValue(last), last.id])).toString('base64url')
            : null,
      },
    };
  },

  async createCollectionItem(ctx) {
    const { tx, body } = ctx;
    const target = await resolve(ctx, siteOf(ctx), 'create');
    const given = body as Data;
    if (target.visitor) {
      const allowed = target.definition.public?.create ?? [];
      const refused = Object.keys(given).filter((field) => !allowed.includes(field));
      if (refused.length > 0) {
        throw invalidRecord(
          `Visitors may set only ${allowed.join(', ')}.`,
          refused.map((field) => ({ path: `/body/${field}`, message: 'may not be set by visitors' })),
        );
      }
    }
    const data = validate(target, given);
    const site = await tx('sites').where({ id: target.siteId }).first('agency_id');
    const [row] = (await tx(target.table)
      .insert({
        id: uuidv7(),
        agency_id: site.agency_id,
        site_id: target.siteId,
        data,
        search: searchVector(tx, target, data),
      })
      .returning(ROW)) as Row[];
    await emitRecordEvent(ctx, target, 'created', row!);
    return { status: 201, body: toItem(target, row!) };
  },

  async getCollectionItem(ctx) {
    const { target, row } = await resolveRecord(ctx, 'read');
    return { status: 200, body: toItem(target, row) };
  },

  async updateCollectionItem(ctx) {
    const { tx, body } = ctx;
    const { target, row } = await resolveRecord(ctx, 'manage');
    const data = validate(target, mergePatch(row.data, body) as Data);
    const [updated] = (await tx(target.table)
      .where({ id: row.id })
      .update({ data, search: searchVector(tx, target, data), updated_at: tx.fn.now() })
      .returning(ROW)) as Row[];
    await emitRecordEvent(ctx, target, 'updated', updated!);
    return { status: 200, body: toItem(target, updated!) };
  },

  async deleteCollectionItem(ctx) {
    const { tx } = ctx;
    const { target, row } = await resolveRecord(ctx, 'manage');
    await deleteRows(tx(target.table).where({ id: row.id }));
    await emitRecordEvent(ctx, target, 'deleted', row);
    return { status: 204 };
  },
};
