import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../../db/delete.js';
import type { Handlers, Schemas } from '../../http/operations.js';
import { paginateSorted } from '../../http/pagination.js';
import { badRequest, invalidField, notFound, Problem } from '../../http/problem.js';
import { crmSite } from './contacts.js';
import { isDate } from './times.js';

export type CustomEntity = 'contact' | 'company' | 'deal';
export type CustomValue = string | number | boolean | null;

export interface FieldRow {
  key: string;
  label: string;
  type: 'text' | 'number' | 'date' | 'boolean' | 'select';
  options: string[];
  required: boolean;
}

export async function fieldsOf(
  tx: Knex.Transaction,
  siteId: string,
  entity: CustomEntity,
): Promise<Map<string, FieldRow>> {
  const rows = (await tx('mod_crm.custom_fields')
    .where({ site_id: siteId, entity })
    .select('key', 'label', 'type', 'options', 'required')) as FieldRow[];
  return new Map(rows.map((row) => [row.key, row]));
}

/** Why a value does not fit its field, or null when it does. */
export function valueProblem(field: FieldRow, value: CustomValue): string | null {
  if (value === null) return field.required ? 'is required' : null;
  switch (field.type) {
    case 'text':
      return typeof value === 'string' ? null : 'must be text';
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? null : 'must be a number';
    case 'boolean':
      return typeof value === 'boolean' ? null : 'must be true or false';
    case 'date':
      return typeof value === 'string' && isDate(value) ? null : 'must be a date (YYYY-MM-DD)';
    case 'select':
      return typeof value === 'string' && field.options.includes(value)
        ? null
        : `must be one of ${field.options.map((option) => JSON.stringify(option)).join(', ')}`;
  }
}

/**
 * Checks a record's custom values against the site's fields for its kind: each key a field, each value of the
 * field's type, and (when `complete`, on create) every required field given. Throws `400` naming the field.
 */
export async function checkCustomValues(
  tx: Knex.Transaction,
  siteId: string,
  entity: CustomEntity,
  values: Record<string, CustomValue>,
  complete: boolean,
): Promise<void> {
  const fields = await fieldsOf(tx, siteId, entity);
  for (const [key, value] of Object.entries(values)) {
    const field = fields.get(key);
    if (!field) throw invalidField(`custom/${key}`, `is not a custom field of this site's ${entity}s`);
    const problem = valueProblem(field, value);
    if (problem) throw invalidField(`custom/${key}`, problem);
  }
  if (complete) {
    for (const field of fields.values()) {
      if (field.required && (values[field.key] === undefined || values[field.key] === null)) {
        throw invalidField(`custom/${field.key}`, 'is required');
      }
    }
  }
}

/**
 * Narrows a query to records whose custom fields hold the given values (`key:value` each), compared as the
 * field's type says: `employees:50` matches the number 50, `vip:true` the boolean.
 */
export async function filterByCustom(
  tx: Knex.Transaction,
  query: Knex.QueryBuilder,
  column: string,
  siteId: string,
  entity: CustomEntity,
  filters: readonly string[],
): Promise<void> {
  if (filters.length === 0) return;
  const fields = await fieldsOf(tx, siteId, entity);
  filters.forEach((filter, index) => {
    const colon = filter.indexOf(':');
    const key = filter.slice(0, colon);
    const text = filter.slice(colon + 1);
    const field = fields.get(key);
    const path = `/query/custom/${index}`;
    if (!field)
      throw badRequest('unknown_custom_field', `${key} is not a custom field of ${entity}s.`, [
        { path, message: 'no such field' },
      ]);
    let value: CustomValue = text;
    if (field.type === 'number') value = Number(text);
    if (field.type === 'boolean') value = text === 'true' ? true : text === 'false' ? false : null;
    const problem = valueProblem(field, value);
    if (problem || value === null) {
      throw badRequest('invalid_custom_filter', `${key} ${problem ?? 'must be true or false'}.`, [
        { path, message: problem ?? 'must be true or false' },
      ]);
    }
    // jsonb containment compares as JSON (a number with a number) and uses no text casts.
    query.whereRaw(`?? @> ?::jsonb`, [column, JSON.stringify({ [key]: value })]);
  });
}

// ——— the fields themselves (crm:admin) ———

type FieldBody = Schemas['CrmCustomField'];

const FIELD_COLUMNS = [
  'id',
  'entity',
  'key',
  'label',
  'type',
  'options',
  'required',
  'position',
  'created_at',
  'updated_at',
];

/** Where each kind of record keeps its custom values. */
const RECORDS: Record<CustomEntity, string> = {
  contact: 'mod_crm.contacts',
  company: 'mod_crm.companies',
  deal: 'mod_crm.deals',
};

function fieldBody(row: Record<string, unknown>): FieldBody {
  return {
    id: row.id as string,
    entity: row.entity as CustomEntity,
    key: row.key as string,
    label: row.label as string,
    type: row.type as FieldBody['type'],
    options: row.options as string[],
    required: row.required as boolean,
    position: row.position as number,
    created_at: new Date(row.created_at as string).toISOString(),
    updated_at: new Date(row.updated_at as string).toISOString(),
  };
}

async function fieldOf(tx: Knex.Transaction, siteId: string, fieldId: string, lock = false): Promise<FieldBody> {
  const query = tx('mod_crm.custom_fields').where({ site_id: siteId, id: fieldId }).first(FIELD_COLUMNS);
  if (lock) query.forUpdate();
  const row = (await query) as Record<string, unknown> | undefined;
  if (!row) throw notFound('custom field');
  return fieldBody(row);
}

/** A select field lists its choices; other types have none. */
function checkOptions(type: FieldBody['type'], options: string[] | undefined) {
  if (type === 'select' && !options?.length) throw invalidField('options', 'must list the choices of a select field');
  if (type !== 'select' && options?.length) throw invalidField('options', 'are for select fields only');
}

type FieldHandlers = Pick<
  Handlers,
  'listCrmCustomFields' | 'createCrmCustomField' | 'getCrmCustomField' | 'updateCrmCustomField' | 'deleteCrmCustomField'
>;

export const customFieldHandlers: FieldHandlers = {
  async listCrmCustomFields({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    const rows = tx('mod_crm.custom_fields').where({ site_id: params.siteId }).select(FIELD_COLUMNS);
    if (query.entity !== undefined) rows.where({ entity: query.entity });
    const sort = query.sort ?? 'position';
    const body = await paginateSorted(
      tx,
      rows,
      { column: sort.replace(/^-/, ''), descending: sort.startsWith('-'), idColumn: 'id' },
      query,
      fieldBody,
    );
    return { status: 200, body };
  },

  async createCrmCustomField(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    checkOptions(body.type, body.options);
    const last = (await tx('mod_crm.custom_fields')
      .where({ site_id: params.siteId, entity: body.entity })
      .max('position as position')
      .first()) as { position: number | null } | undefined;
    const id = uuidv7();
    const inserted = (await tx('mod_crm.custom_fields')
      .insert({
        id,
        agency_id: ctx.agencyId,
        site_id: params.siteId,
        entity: body.entity,
        key: body.key,
        label: body.label,
        type: body.type,
        options: body.options ?? [],
        required: body.required ?? false,
        position: last?.position == null ? 0 : last.position + 1,
      })
      .onConflict(['site_id', 'entity', 'key'])
      .ignore()
      .returning('id')) as unknown[];
    if (inserted.length === 0) {
      throw new Problem(
        409,
        'duplicate_custom_field',
        'Conflict',
        `The site's ${body.entity}s have a field ${body.key} already.`,
        [{ path: '/body/key', message: `is a field of ${body.entity}s already` }],
      );
    }
    return { status: 201, body: await fieldOf(tx, params.siteId, id) };
  },

  async getCrmCustomField({ tx, params }) {
    await crmSite(tx, params.siteId);
    return { status: 200, body: await fieldOf(tx, params.siteId, params.fieldId) };
  },

  async updateCrmCustomField({ tx, params, body }) {
    await crmSite(tx, params.siteId);
    const field = await fieldOf(tx, params.siteId, params.fieldId, true);
    const columns: Record<string, unknown> = { updated_at: tx.fn.now() };
    if (body.options !== undefined) {
      checkOptions(field.type, body.options);
      const removed = field.options.filter((option) => !body.options!.includes(option));
      const used =
        removed.length === 0
          ? []
          : ((await tx(RECORDS[field.entity])
              .where({ site_id: params.siteId })
              .whereRaw(`custom ->> ? IN (${removed.map(() => '?').join(', ')})`, [field.key, ...removed])
              .distinct(tx.raw('custom ->> ? AS value', [field.key]))) as { value: string }[]);
      if (used.length > 0) {
        const values = used.map((row) => JSON.stringify(row.value)).join(', ');
        throw new Problem(
          409,
          'option_in_use',
          'Conflict',
          `${field.entity}s still hold ${values}: change their ${field.key} before removing the option.`,
          [{ path: '/body/options', message: `leaves out ${values}, which records hold` }],
        );
      }
      columns.options = body.options;
    }
    for (const name of ['label', 'required', 'position'] as const) {
      if (body[name] !== undefined) columns[name] = body[name];
    }
    await tx('mod_crm.custom_fields').where({ id: field.id }).update(columns);
    return { status: 200, body: await fieldOf(tx, params.siteId, field.id) };
  },

  async deleteCrmCustomField({ tx, params }) {
    await crmSite(tx, params.siteId);
    const field = await fieldOf(tx, params.siteId, params.fieldId, true);
    await deleteRows(tx('mod_crm.custom_fields').where({ id: field.id }));
    // Its values go too, so that records validate again (a value of no field is refused).
    await tx(RECORDS[field.entity])
      .where({ site_id: params.siteId })
      .whereRaw('(custom -> ?) IS NOT NULL', [field.key])
      .update({ custom: tx.raw('custom - ?::text', [field.key]) });
    return { status: 204 };
  },
};
