import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../../db/delete.js';
import type { Handlers, Schemas } from '../../http/operations.js';
import { paginateSorted } from '../../http/pagination.js';
import { badRequest, invalidField, notFound } from '../../http/problem.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import { iso } from './companies.js';
import { addTimeline, checkCompany, checkContact, checkUser, crmSite, type CrmContext } from './contacts.js';
import { checkDeal } from './deals.js';
import { checkTimes } from './times.js';

export type ActivityBody = Schemas['CrmActivity'];

const ACTIVITY_COLUMNS = [
  'id',
  'kind',
  'subject',
  'body',
  'contact_id',
  'company_id',
  'deal_id',
  'due_at',
  'assignee_id',
  'completed_at',
  'occurred_at',
  'duration_minutes',
  'created_by',
  'created_at',
  'updated_at',
];

const isoOrNull = (value: unknown) => (value === null || value === undefined ? null : iso(value));

function activityBody(row: Record<string, unknown>): ActivityBody {
  return {
    id: row.id as string,
    kind: row.kind as ActivityBody['kind'],
    subject: row.subject as string,
    body: row.body as string,
    contact_id: row.contact_id as string | null,
    company_id: row.company_id as string | null,
    deal_id: row.deal_id as string | null,
    due_at: isoOrNull(row.due_at),
    assignee_id: row.assignee_id as string | null,
    completed_at: isoOrNull(row.completed_at),
    occurred_at: iso(row.occurred_at),
    duration_minutes: row.duration_minutes as number | null,
    created_by: row.created_by as string | null,
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

async function activityOf(tx: Knex.Transaction, siteId: string, activityId: string, lock = false) {
  const query = tx('mod_crm.activities').where({ site_id: siteId, id: activityId }).first(ACTIVITY_COLUMNS);
  if (lock) query.forUpdate();
  const row = (await query) as Record<string, unknown> | undefined;
  if (!row) throw notFound('activity');
  return activityBody(row);
}

type ActivityFields = Pick<
  ActivityBody,
  'kind' | 'subject' | 'body' | 'contact_id' | 'company_id' | 'deal_id' | 'due_at' | 'completed_at' | 'duration_minutes'
>;

/** The rules for what an activity is, checked on the result of a create or an update. */
function checkActivity(activity: ActivityFields): void {
  if (!activity.contact_id && !activity.company_id && !activity.deal_id) {
    throw badRequest('validation_failed', 'An activity is of a contact, a company or a deal: name at least one.', [
      { path: '/body/contact_id', message: 'or company_id or deal_id is required' },
    ]);
  }
  if (activity.subject.trim() === '' && activity.body.trim() === '') {
    throw invalidField('subject', 'or body must say something');
  }
  if (activity.kind !== 'task') {
    if (activity.due_at) throw invalidField('due_at', 'is for tasks only');
    if (activity.completed_at) throw invalidField('completed_at', 'is for tasks only');
  }
  if (activity.duration_minutes != null && activity.kind !== 'call' && activity.kind !== 'meeting') {
    throw invalidField('duration_minutes', 'is for calls and meetings only');
  }
}

/** Checks that what an activity refers to is of this site. */
async function checkReferences(tx: Knex.Transaction, siteId: string, body: Schemas['CrmActivityUpdate']) {
  checkTimes(body, { instants: ['due_at', 'completed_at', 'occurred_at'] });
  await checkContact(tx, siteId, body.contact_id);
  await checkCompany(tx, siteId, body.company_id);
  await checkDeal(tx, siteId, body.deal_id);
  await checkUser(tx, 'assignee_id', body.assignee_id);
}

const LABELS: Record<ActivityBody['kind'], string> = { note: 'Note', task: 'Task', call: 'Call', meeting: 'Meeting' };

/** The activity's line in a timeline: `Call: Pricing questions (20 min)`, `Task done: Send the offer`. */
function summaryOf(activity: ActivityBody): string {
  const what = activity.subject.trim() || activity.body.trim().split('\n')[0]!.slice(0, 120);
  const label = activity.kind === 'task' && activity.completed_at ? 'Task done' : LABELS[activity.kind];
  const minutes = activity.duration_minutes == null ? '' : ` (${activity.duration_minutes} min)`;
  return `${label}: ${what}${minutes}`;
}

/** Keeps the activity's line in its contact's timeline as the activity is (none without a contact). */
async function syncTimeline(ctx: CrmContext, siteId: string, activity: ActivityBody): Promise<void> {
  const lines = ctx.tx('mod_crm.timeline').where({ site_id: siteId, activity_id: activity.id });
  if (!activity.contact_id) {
    await lines.delete();
    return;
  }
  const entry = {
    type: `activity.${activity.kind}`,
    summary: summaryOf(activity),
    occurred_at: activity.occurred_at,
  };
  const updated = (await lines.update({ ...entry, contact_id: activity.contact_id }, ['id'])) as unknown[];
  if (updated.length > 0) return;
  await addTimeline(ctx, siteId, activity.contact_id, {
    type: entry.type,
    summary: entry.summary,
    data: { activity_id: activity.id },
    occurredAt: activity.occurred_at,
    activityId: activity.id,
  });
}

const EDITABLE = [
  'subject',
  'body',
  'contact_id',
  'company_id',
  'deal_id',
  'due_at',
  'assignee_id',
  'completed_at',
  'occurred_at',
  'duration_minutes',
] as const;

type ActivityHandlers = Pick<
  Handlers,
  'listCrmActivities' | 'createCrmActivity' | 'getCrmActivity' | 'updateCrmActivity' | 'deleteCrmActivity'
>;

export const activityHandlers: ActivityHandlers = {
  async listCrmActivities({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    const rows = tx('mod_crm.activities').where({ site_id: params.siteId }).select(ACTIVITY_COLUMNS);
    for (const filter of ['contact_id', 'company_id', 'deal_id', 'kind', 'assignee_id'] as const) {
      if (query[filter] !== undefined) rows.where(filter, query[filter]);
    }
    if (query.open !== undefined) {
      rows.where({ kind: 'task' });
      if (query.open) rows.whereNull('completed_at');
      else rows.whereNotNull('completed_at');
    }
    const sort = query.sort ?? '-occurred_at';
    const column = sort.replace(/^-/, '');
    // Sorted cursors need a value in every row: by due date, the activities that have one.
    if (column === 'due_at') rows.whereNotNull('due_at');
    const body = await paginateSorted(
      tx,
      rows,
      { column, descending: sort.startsWith('-'), idColumn: 'id' },
      query,
      activityBody,
    );
    return { status: 200, body };
  },

  async createCrmActivity(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const fields: ActivityFields = {
      kind: body.kind,
      subject: body.subject ?? '',
      body: body.body ?? '',
      contact_id: body.contact_id ?? null,
      company_id: body.company_id ?? null,
      deal_id: body.deal_id ?? null,
      due_at: body.due_at ?? null,
      completed_at: body.completed_at ?? null,
      duration_minutes: body.duration_minutes ?? null,
    };
    checkActivity(fields);
    await checkReferences(tx, params.siteId, body);
    const id = uuidv7();
    await tx('mod_crm.activities').insert({
      id,
      agency_id: ctx.agencyId,
      site_id: params.siteId,
      ...fields,
      assignee_id: body.assignee_id ?? null,
      occurred_at: body.occurred_at ?? tx.fn.now(),
      created_by: ctx.principal.userId,
    });
    const activity = await activityOf(tx, params.siteId, id);
    await syncTimeline(ctx, params.siteId, activity);
    await emitSiteEvent(ctx, params.siteId, 'crm.activity.created', activity);
    return { status: 201, body: activity };
  },

  async getCrmActivity({ tx, params }) {
    await crmSite(tx, params.siteId);
    return { status: 200, body: await activityOf(tx, params.siteId, params.activityId) };
  },

  async updateCrmActivity(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const current = await activityOf(tx, params.siteId, params.activityId, true);
    const columns: Record<string, unknown> = {};
    for (const field of EDITABLE) if (body[field] !== undefined) columns[field] = body[field];
    checkActivity({ ...current, ...columns });
    await checkReferences(tx, params.siteId, body);
    await tx('mod_crm.activities')
      .where({ id: current.id })
      .update({ ...columns, updated_at: tx.fn.now() });
    const activity = await activityOf(tx, params.siteId, current.id);
    await syncTimeline(ctx, params.siteId, activity);
    await emitSiteEvent(ctx, params.siteId, 'crm.activity.updated', activity);
    return { status: 200, body: activity };
  },

  async deleteCrmActivity(ctx) {
    const { tx, params } = ctx;
    await crmSite(tx, params.siteId);
    // Its timeline line goes with it (a foreign key).
    const deleted = await deleteRows(tx('mod_crm.activities').where({ site_id: params.siteId, id: params.activityId }));
    if (deleted === 0) throw notFound('activity');
    await emitSiteEvent(ctx, params.siteId, 'crm.activity.deleted', { id: params.activityId });
    return { status: 204 };
  },
};
