import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../../db/delete.js';
import type { Handlers, Schemas } from '../../http/operations.js';
import { paginateSorted } from '../../http/pagination.js';
import { invalidField, notFound, Problem } from '../../http/problem.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import { iso } from './companies.js';
import { checkCompany, checkContact, checkUser, crmSite, type CrmContext } from './contacts.js';
import { checkCustomValues, filterByCustom } from './custom-fields.js';
import {
  checkPipeline,
  firstOpenStage,
  firstPipeline,
  pipelineOf,
  stageNotInPipeline,
  stageOf,
  type StageKind,
  type StageRow,
} from './pipelines.js';
import { whereSearch } from './search.js';
import { checkTimes } from './times.js';

export type DealBody = Schemas['CrmDeal'];

/** Room left between deals appended to a stage, and the gap below which a stage's deals are renumbered. */
const GAP = 1024;
const MIN_GAP = 1e-6;
/** Deals per column of a board. */
const BOARD_DEALS = 100;
const CURRENCIES = new Set(Intl.supportedValuesOf('currency'));

/** A deal with its status, which is its stage's kind. */
const deals = (tx: Knex.Transaction) => tx('mod_crm.deals as d').join('mod_crm.stages as s', 's.id', 'd.stage_id');

const dealColumns = (tx: Knex.Transaction) => [
  'd.id',
  'd.name',
  'd.amount_minor',
  'd.currency',
  'd.pipeline_id',
  'd.stage_id',
  'd.position',
  's.kind as status',
  'd.owner_id',
  'd.contact_id',
  'd.company_id',
  tx.raw('d.expected_close_date::text AS expected_close_date'),
  'd.closed_at',
  'd.custom',
  'd.created_at',
  'd.updated_at',
];

export function dealBody(row: Record<string, unknown>): DealBody {
  return {
    id: row.id as string,
    name: row.name as string,
    amount_minor: Number(row.amount_minor),
    currency: row.currency as string,
    pipeline_id: row.pipeline_id as string,
    stage_id: row.stage_id as string,
    position: Number(row.position),
    status: row.status as DealBody['status'],
    owner_id: row.owner_id as string | null,
    contact_id: row.contact_id as string | null,
    company_id: row.company_id as string | null,
    expected_close_date: row.expected_close_date as string | null,
    closed_at: row.closed_at === null ? null : iso(row.closed_at),
    custom: row.custom as DealBody['custom'],
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** A deal of the site (404 otherwise); `lock` holds it until the transaction ends. */
async function dealOf(tx: Knex.Transaction, siteId: string, dealId: string, lock = false): Promise<DealBody> {
  const query = deals(tx).where({ 'd.site_id': siteId, 'd.id': dealId }).select(dealColumns(tx)).first();
  if (lock) query.forUpdate('d');
  const row = (await query) as Record<string, unknown> | undefined;
  if (!row) throw notFound('deal');
  return dealBody(row);
}

/** Checks that a deal a record refers to is of this site. */
export async function checkDeal(tx: Knex.Transaction, siteId: string, dealId: string | null | undefined) {
  if (!dealId) return;
  if (!(await tx('mod_crm.deals').where({ site_id: siteId, id: dealId }).first('id'))) {
    throw invalidField('deal_id', 'is not a deal of this site');
  }
}

function checkCurrency(currency: string | undefined) {
  if (currency !== undefined && !CURRENCIES.has(currency)) {
    throw invalidField('currency', 'is not an ISO 4217 currency code');
  }
}

/** Checks what a create or update body refers to: people, records, currency and custom values. */
async function checkDealFields(
  tx: Knex.Transaction,
  siteId: string,
  body: Schemas['CrmDealUpdate'],
  complete: boolean,
): Promise<void> {
  checkCurrency(body.currency);
  checkTimes(body, { dates: ['expected_close_date'] });
  await checkUser(tx, 'owner_id', body.owner_id);
  await checkContact(tx, siteId, body.contact_id);
  await checkCompany(tx, siteId, body.company_id);
  if (body.custom !== undefined || complete) {
    await checkCustomValues(tx, siteId, 'deal', body.custom ?? {}, true);
  }
}

/**
 * The stage a deal goes to: `stageId` (of `pipelineId` when given, else of the deal's pipeline when it has
 * one), or the first open stage of `pipelineId`, or (a new deal) of the site's first pipeline. Null when an
 * existing deal stays in its stage.
 */
async function targetStage(
  tx: Knex.Transaction,
  siteId: string,
  request: { pipelineId?: string; stageId?: string },
  current?: DealBody,
): Promise<StageRow | null> {
  const { pipelineId, stageId } = request;
  if (pipelineId !== undefined && pipelineId !== current?.pipeline_id) await checkPipeline(tx, siteId, pipelineId);
  const pipeline = pipelineId ?? current?.pipeline_id;
  let stage: StageRow | undefined;
  if (stageId !== undefined) {
    stage = await stageOf(tx, siteId, stageId);
    if (!stage && pipeline === undefined) throw invalidField('stage_id', 'is not a stage of this site');
    if (!stage || (pipeline !== undefined && stage.pipeline_id !== pipeline))
      throw stageNotInPipeline('/body/stage_id');
  } else if (pipeline === undefined) {
    const first = await firstPipeline(tx, siteId);
    if (!first) {
      throw new Problem(422, 'no_pipeline', 'Unprocessable', 'The site has no pipeline yet: create one first.');
    }
    stage = await firstOpenStage(tx, first);
  } else if (pipeline !== current?.pipeline_id) {
    stage = await firstOpenStage(tx, pipeline);
  }
  if (!stage || stage.id === current?.stage_id) return null;
  return stage;
}

/**
 * Holds a stage until the transaction ends, so that deals placed in it take turns computing positions (and a
 * change of its pipeline waits); the stage as it is now, which a change that went first may have changed.
 */
async function holdStage(tx: Knex.Transaction, stage: StageRow): Promise<StageRow> {
  const held = (await tx('mod_crm.stages').where({ id: stage.id }).forUpdate().first('kind')) as
    { kind: StageKind } | undefined;
  if (!held) throw notFound('stage');
  return { ...stage, kind: held.kind };
}

/** A position after every deal of the stage (but `except`). */
async function endOf(tx: Knex.Transaction, stageId: string, except?: string): Promise<number> {
  const query = tx('mod_crm.deals').where({ stage_id: stageId });
  if (except) query.whereNot({ id: except });
  const row = (await query.max('position as last').first()) as { last: number | null } | undefined;
  return row?.last == null ? GAP : Number(row.last) + GAP;
}

/** Spreads a stage's deals (but `except`) out again, `GAP` apart, in their order. */
async function renumber(tx: Knex.Transaction, stageId: string, except: string): Promise<void> {
  await tx.raw(
    `UPDATE mod_crm.deals AS d SET position = r.n * ?
       FROM (SELECT id, row_number() OVER (ORDER BY position, id) AS n
               FROM mod_crm.deals WHERE stage_id = ? AND id <> ?) AS r
      WHERE d.id = r.id AND d.stage_id = ?`,
    [GAP, stageId, except, stageId],
  );
}

/**
 * A position just before `next` in its stage, for the deal `moving`: halfway between `next` and the deal
 * before it. When they are too close for that, the stage is renumbered first.
 */
async function positionBefore(tx: Knex.Transaction, stageId: string, nextId: string, moving: string) {
  for (let attempt = 0; ; attempt += 1) {
    const next = (await tx('mod_crm.deals').where({ id: nextId }).first('id', 'position')) as {
      id: string;
      position: number;
    };
    const previous = (await tx('mod_crm.deals')
      .where({ stage_id: stageId })
      .whereNot({ id: moving })
      .whereRaw('(position, id) < (?::double precision, ?::uuid)', [next.position, next.id])
      .orderBy([
        { column: 'position', order: 'desc' },
        { column: 'id', order: 'desc' },
      ])
      .first('position')) as { position: number } | undefined;
    if (!previous) return Number(next.position) - GAP;
    const [low, high] = [Number(previous.position), Number(next.position)];
    if (high - low > MIN_GAP || attempt > 0) return low + (high - low) / 2;
    await renumber(tx, stageId, moving);
  }
}

/** What `closed_at` becomes when a deal goes from a stage of one kind to one of another: unchanged if undefined. */
function closing(tx: Knex.Transaction, from: StageKind | null, to: StageKind): Knex.Raw | null | undefined {
  if (to === 'open') return null;
  return from === to ? undefined : tx.fn.now();
}

/**
 * The events of a deal's new stage: `crm.deal.stage_changed` (with the stage it left), and `crm.deal.won` or
 * `crm.deal.lost` when that closes it (or a new deal starts closed).
 */
async function emitPlacement(
  ctx: CrmContext,
  siteId: string,
  deal: DealBody,
  previous: { stage_id: string; status: DealBody['status'] } | null,
): Promise<void> {
  if (previous && previous.stage_id !== deal.stage_id) {
    await emitSiteEvent(ctx, siteId, 'crm.deal.stage_changed', { ...deal, previous_stage_id: previous.stage_id });
  }
  if (deal.status !== 'open' && deal.status !== previous?.status) {
    await emitSiteEvent(ctx, siteId, `crm.deal.${deal.status}`, deal);
  }
}

type DealHandlers = Pick<
  Handlers,
  | 'getCrmPipelineBoard'
  | 'listCrmDeals'
  | 'createCrmDeal'
  | 'getCrmDeal'
  | 'updateCrmDeal'
  | 'deleteCrmDeal'
  | 'moveCrmDeal'
>;

export const dealHandlers: DealHandlers = {
  async getCrmPipelineBoard({ tx, params }) {
    await crmSite(tx, params.siteId);
    const pipeline = await pipelineOf(tx, params.siteId, params.pipelineId);
    const stageIds = pipeline.stages.map((stage) => stage.id);
    const sums = (await tx('mod_crm.deals')
      .whereIn('stage_id', stageIds)
      .groupBy('stage_id', 'currency')
      .orderBy('currency')
      .select(
        'stage_id',
        'currency',
        tx.raw('count(*)::integer AS deals'),
        tx.raw('sum(amount_minor)::text AS amount_minor'),
      )) as { stage_id: string; currency: string; deals: number; amount_minor: string }[];
    const ranked = deals(tx)
      .whereIn('d.stage_id', stageIds)
      .select([
        ...dealColumns(tx),
        tx.raw('row_number() OVER (PARTITION BY d.stage_id ORDER BY d.position, d.id) AS rank'),
      ]);
    const rows = (await tx
      .from(ranked.as('r'))
      .where('rank', '<=', BOARD_DEALS)
      .orderBy(['stage_id', 'position', 'id'])
      .select('*')) as Record<string, unknown>[];
    const columns = pipeline.stages.map((stage) => {
      const totals = sums.filter((sum) => sum.stage_id === stage.id);
      const dealCount = totals.reduce((count, sum) => count + sum.deals, 0);
      const shown = rows.filter((row) => row.stage_id === stage.id).map(dealBody);
      return {
        stage,
        deal_count: dealCount,
        totals: totals.map((sum) => ({ currency: sum.currency, amount_minor: Number(sum.amount_minor) })),
        deals: shown,
        has_more: dealCount > shown.length,
      };
    });
    return { status: 200, body: { pipeline, columns } };
  },

  async listCrmDeals({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    const rows = deals(tx).where({ 'd.site_id': params.siteId }).select(dealColumns(tx));
    await whereSearch(tx, rows, 'd.search', query.q);
    for (const filter of ['pipeline_id', 'stage_id', 'owner_id', 'contact_id', 'company_id'] as const) {
      if (query[filter] !== undefined) rows.where(`d.${filter}`, query[filter]);
    }
    if (query.status !== undefined) rows.where('s.kind', query.status);
    await filterByCustom(tx, rows, 'd.custom', params.siteId, 'deal', query.custom ?? []);
    const sort = query.sort ?? '-created_at';
    const column = sort.replace(/^-/, '');
    const body = await paginateSorted(
      tx,
      rows,
      { column: `d.${column}`, descending: sort.startsWith('-'), idColumn: 'd.id' },
      query,
      dealBody,
    );
    return { status: 200, body };
  },

  async createCrmDeal(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const target = await targetStage(tx, params.siteId, { pipelineId: body.pipeline_id, stageId: body.stage_id });
    await checkDealFields(tx, params.siteId, body, true);
    const stage = await holdStage(tx, target!);
    const id = uuidv7();
    await tx('mod_crm.deals').insert({
      id,
      agency_id: ctx.agencyId,
      site_id: params.siteId,
      name: body.name,
      amount_minor: body.amount_minor ?? 0,
      currency: body.currency ?? 'EUR',
      pipeline_id: stage.pipeline_id,
      stage_id: stage.id,
      position: await endOf(tx, stage.id),
      owner_id: body.owner_id ?? null,
      contact_id: body.contact_id ?? null,
      company_id: body.company_id ?? null,
      expected_close_date: body.expected_close_date ?? null,
      closed_at: closing(tx, null, stage.kind) ?? null,
      custom: JSON.stringify(body.custom ?? {}),
    });
    const deal = await dealOf(tx, params.siteId, id);
    await emitSiteEvent(ctx, params.siteId, 'crm.deal.created', deal);
    await emitPlacement(ctx, params.siteId, deal, null);
    return { status: 201, body: deal };
  },

  async getCrmDeal({ tx, params }) {
    await crmSite(tx, params.siteId);
    return { status: 200, body: await dealOf(tx, params.siteId, params.dealId) };
  },

  async updateCrmDeal(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const before = await dealOf(tx, params.siteId, params.dealId, true);
    const target = await targetStage(
      tx,
      params.siteId,
      { pipelineId: body.pipeline_id, stageId: body.stage_id },
      before,
    );
    await checkDealFields(tx, params.siteId, body, false);
    const columns: Record<string, unknown> = { updated_at: tx.fn.now() };
    for (const field of [
      'name',
      'amount_minor',
      'currency',
      'owner_id',
      'contact_id',
      'company_id',
      'expected_close_date',
    ] as const) {
      if (body[field] !== undefined) columns[field] = body[field];
    }
    if (body.custom !== undefined) columns.custom = JSON.stringify(body.custom);
    if (target) {
      // Another stage: to its end, as a move there would.
      const stage = await holdStage(tx, target);
      columns.pipeline_id = stage.pipeline_id;
      columns.stage_id = stage.id;
      columns.position = await endOf(tx, stage.id, before.id);
      const closedAt = closing(tx, before.status, stage.kind);
      if (closedAt !== undefined) columns.closed_at = closedAt;
    }
    await tx('mod_crm.deals').where({ id: before.id }).update(columns);
    const deal = await dealOf(tx, params.siteId, before.id);
    await emitSiteEvent(ctx, params.siteId, 'crm.deal.updated', deal);
    await emitPlacement(ctx, params.siteId, deal, before);
    return { status: 200, body: deal };
  },

  async deleteCrmDeal(ctx) {
    const { tx, params } = ctx;
    await crmSite(tx, params.siteId);
    const deleted = await deleteRows(tx('mod_crm.deals').where({ site_id: params.siteId, id: params.dealId }));
    if (deleted === 0) throw notFound('deal');
    await emitSiteEvent(ctx, params.siteId, 'crm.deal.deleted', { id: params.dealId });
    return { status: 204 };
  },

  async moveCrmDeal(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const before = await dealOf(tx, params.siteId, params.dealId, true);
    const target = await stageOf(tx, params.siteId, body.stage_id);
    if (!target || target.pipeline_id !== before.pipeline_id) throw stageNotInPipeline('/body/stage_id');
    const stage = await holdStage(tx, target);
    const nextId = body.before_deal_id ?? null;
    let position: number;
    if (nextId === before.id && stage.id === before.stage_id) {
      position = before.position; // Before itself: where it is.
    } else if (nextId !== null) {
      const next = (await tx('mod_crm.deals').where({ site_id: params.siteId, id: nextId }).first('stage_id')) as
        { stage_id: string } | undefined;
      if (!next || next.stage_id !== stage.id || nextId === before.id) {
        throw new Problem(422, 'deal_not_in_stage', 'Unprocessable', 'before_deal_id is not a deal of that stage.', [
          { path: '/body/before_deal_id', message: 'is not a deal of the stage' },
        ]);
      }
      position = await positionBefore(tx, stage.id, nextId, before.id);
    } else {
      position = await endOf(tx, stage.id, before.id);
    }
    const columns: Record<string, unknown> = { stage_id: stage.id, position, updated_at: tx.fn.now() };
    const closedAt = closing(tx, before.status, stage.kind);
    if (closedAt !== undefined) columns.closed_at = closedAt;
    await tx('mod_crm.deals').where({ id: before.id }).update(columns);
    const deal = await dealOf(tx, params.siteId, before.id);
    await emitPlacement(ctx, params.siteId, deal, before);
    return { status: 200, body: deal };
  },
};
