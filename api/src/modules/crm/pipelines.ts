import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../../db/delete.js';
import type { Handlers, Schemas } from '../../http/operations.js';
import { paginateSorted } from '../../http/pagination.js';
import { badRequest, invalidField, notFound, Problem } from '../../http/problem.js';
import { iso } from './companies.js';
import { crmSite } from './contacts.js';

export type StageKind = Schemas['CrmStageKind'];
export type PipelineBody = Schemas['CrmPipeline'];

export interface StageRow {
  id: string;
  pipeline_id: string;
  name: string;
  position: number;
  kind: StageKind;
  probability: number | null;
}

const STAGE_COLUMNS = ['id', 'pipeline_id', 'name', 'position', 'kind', 'probability'];
const PIPELINE_COLUMNS = ['id', 'name', 'position', 'created_at', 'updated_at'];

/** What a stage's deals are likely to be worth unless it says: won is sure, lost is nothing, open is unknown. */
const DEFAULT_PROBABILITY: Record<StageKind, number | null> = { open: null, won: 100, lost: 0 };

export const stageBody = (row: StageRow): Schemas['CrmStage'] => ({
  id: row.id,
  name: row.name,
  position: row.position,
  kind: row.kind,
  probability: row.probability,
});

/** The stages of these pipelines, each pipeline's in order; `lock` holds them until the transaction ends. */
export async function stagesOf(tx: Knex.Transaction, pipelineIds: string[], lock = false): Promise<StageRow[]> {
  if (pipelineIds.length === 0) return [];
  const query = tx('mod_crm.stages')
    .whereIn('pipeline_id', pipelineIds)
    .orderBy(['pipeline_id', 'position', 'id'])
    .select(STAGE_COLUMNS);
  if (lock) query.forUpdate();
  return (await query) as StageRow[];
}

export function pipelineBody(row: Record<string, unknown>, stages: StageRow[]): PipelineBody {
  return {
    id: row.id as string,
    name: row.name as string,
    position: row.position as number,
    stages: stages.filter((stage) => stage.pipeline_id === row.id).map(stageBody),
    created_at: iso(row.created_at),
    updated_at: iso(row.updated_at),
  };
}

/** A pipeline of the site (404 otherwise); `lock` holds it, so that changes to its stages take turns. */
async function pipelineRow(tx: Knex.Transaction, siteId: string, pipelineId: string, lock = false) {
  const query = tx('mod_crm.pipelines').where({ site_id: siteId, id: pipelineId }).first(PIPELINE_COLUMNS);
  if (lock) query.forUpdate();
  const row = (await query) as Record<string, unknown> | undefined;
  if (!row) throw notFound('pipeline');
  return row;
}

export async function pipelineOf(tx: Knex.Transaction, siteId: string, pipelineId: string): Promise<PipelineBody> {
  const row = await pipelineRow(tx, siteId, pipelineId);
  return pipelineBody(row, await stagesOf(tx, [pipelineId]));
}

/** A stage of the site, if it is one. */
export async function stageOf(tx: Knex.Transaction, siteId: string, stageId: string): Promise<StageRow | undefined> {
  return (await tx('mod_crm.stages').where({ site_id: siteId, id: stageId }).first(STAGE_COLUMNS)) as
    StageRow | undefined;
}

/** Checks that a pipeline a request names is one of the site's. */
export async function checkPipeline(tx: Knex.Transaction, siteId: string, pipelineId: string): Promise<void> {
  if (!(await tx('mod_crm.pipelines').where({ site_id: siteId, id: pipelineId }).first('id'))) {
    throw invalidField('pipeline_id', 'is not a pipeline of this site');
  }
}

/** Where new deals of a pipeline go: its first open stage (every pipeline has one). */
export async function firstOpenStage(tx: Knex.Transaction, pipelineId: string): Promise<StageRow> {
  return (await tx('mod_crm.stages')
    .where({ pipeline_id: pipelineId, kind: 'open' })
    .orderBy(['position', 'id'])
    .first(STAGE_COLUMNS)) as StageRow;
}

/** The site's first pipeline (the default for new deals), if it has any. */
export async function firstPipeline(tx: Knex.Transaction, siteId: string): Promise<string | null> {
  const row = (await tx('mod_crm.pipelines').where({ site_id: siteId }).orderBy(['position', 'id']).first('id')) as
    { id: string } | undefined;
  return row?.id ?? null;
}

export const stageNotInPipeline = (path: string) =>
  new Problem(422, 'stage_not_in_pipeline', 'Unprocessable', 'The stage is not one of the pipeline’s.', [
    { path, message: 'is not a stage of the pipeline' },
  ]);

interface PlannedStage {
  /** The stage that stays, or none for a new one. */
  existing: StageRow | undefined;
  name: string;
  kind: StageKind;
  probability: number | null;
}

/**
 * A pipeline's stages as a request lists them, checked against the rules: at least one open stage, at most
 * one won and one lost, no two names alike (ignoring case and surrounding spaces); an `id` must be one of the
 * pipeline's stages (`existing`), once. A stage that stays keeps its kind and probability unless given.
 */
function planStages(items: Schemas['CrmStagePut'][], existing: Map<string, StageRow>): PlannedStage[] {
  const ids = new Set<string>();
  const names = new Set<string>();
  const kinds = { open: 0, won: 0, lost: 0 };
  const planned = items.map((item, index) => {
    let row: StageRow | undefined;
    if (item.id !== undefined) {
      row = existing.get(item.id);
      if (!row) throw stageNotInPipeline(`/body/stages/${index}/id`);
      if (ids.has(item.id)) throw invalidField(`stages/${index}/id`, 'repeats a stage of the list');
      ids.add(item.id);
    }
    const name = item.name.trim().toLocaleLowerCase();
    if (names.has(name)) throw invalidField(`stages/${index}/name`, 'is the name of another stage of the list');
    names.add(name);
    const kind = item.kind ?? row?.kind ?? 'open';
    if (kind !== 'open' && kinds[kind] > 0) {
      throw invalidField(`stages/${index}/kind`, `is the second ${kind} stage: a pipeline has one at most`);
    }
    kinds[kind] += 1;
    const probability =
      item.probability !== undefined
        ? item.probability
        : row && row.kind === kind
          ? row.probability
          : DEFAULT_PROBABILITY[kind];
    return { existing: row, name: item.name, kind, probability };
  });
  if (kinds.open === 0) {
    throw badRequest('validation_failed', 'A pipeline needs at least one open stage.', [
      { path: '/body/stages', message: 'has no open stage' },
    ]);
  }
  return planned;
}

async function insertStages(
  tx: Knex.Transaction,
  pipeline: { agencyId: string; siteId: string; id: string },
  stages: (PlannedStage & { position: number })[],
) {
  if (stages.length === 0) return;
  await tx('mod_crm.stages').insert(
    stages.map((stage) => ({
      id: uuidv7(),
      agency_id: pipeline.agencyId,
      site_id: pipeline.siteId,
      pipeline_id: pipeline.id,
      name: stage.name,
      position: stage.position,
      kind: stage.kind,
      probability: stage.probability,
    })),
  );
}

/** How many deals each of these stages has (stages without deals are left out). */
async function dealCounts(tx: Knex.Transaction, stageIds: string[]): Promise<Map<string, number>> {
  if (stageIds.length === 0) return new Map();
  const rows = (await tx('mod_crm.deals')
    .whereIn('stage_id', stageIds)
    .groupBy('stage_id')
    .select('stage_id', tx.raw('count(*)::integer AS deals'))) as { stage_id: string; deals: number }[];
  return new Map(rows.map((row) => [row.stage_id, row.deals]));
}

type PipelineHandlers = Pick<
  Handlers,
  'listCrmPipelines' | 'createCrmPipeline' | 'getCrmPipeline' | 'updateCrmPipeline' | 'deleteCrmPipeline'
>;

export const pipelineHandlers: PipelineHandlers = {
  async listCrmPipelines({ tx, params, query }) {
    await crmSite(tx, params.siteId);
    const rows = tx('mod_crm.pipelines').where({ site_id: params.siteId }).select(PIPELINE_COLUMNS);
    const sort = query.sort ?? 'position';
    const page = await paginateSorted(
      tx,
      rows,
      { column: sort.replace(/^-/, ''), descending: sort.startsWith('-'), idColumn: 'id' },
      query,
      (row) => row,
    );
    const stages = await stagesOf(
      tx,
      page.data.map((row) => row.id as string),
    );
    return { status: 200, body: { ...page, data: page.data.map((row) => pipelineBody(row, stages)) } };
  },

  async createCrmPipeline(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const planned = planStages(body.stages, new Map());
    const id = uuidv7();
    const last = (await tx('mod_crm.pipelines')
      .where({ site_id: params.siteId })
      .max('position as position')
      .first()) as { position: number | null } | undefined;
    await tx('mod_crm.pipelines').insert({
      id,
      agency_id: ctx.agencyId,
      site_id: params.siteId,
      name: body.name,
      position: last?.position == null ? 0 : last.position + 1,
    });
    await insertStages(
      tx,
      { agencyId: ctx.agencyId, siteId: params.siteId, id },
      planned.map((stage, position) => ({ ...stage, position })),
    );
    return { status: 201, body: await pipelineOf(tx, params.siteId, id) };
  },

  async getCrmPipeline({ tx, params }) {
    await crmSite(tx, params.siteId);
    return { status: 200, body: await pipelineOf(tx, params.siteId, params.pipelineId) };
  },

  async updateCrmPipeline(ctx) {
    const { tx, params, body } = ctx;
    await crmSite(tx, params.siteId);
    const id = params.pipelineId;
    // The pipeline and its stages are held until the end, so that deals moved or created meanwhile (which
    // hold their stage) and this change take turns: a stage is never removed under a deal.
    await pipelineRow(tx, params.siteId, id, true);
    const stages = await stagesOf(tx, [id], true);
    if (body.stages !== undefined) {
      const planned = planStages(body.stages, new Map(stages.map((stage) => [stage.id, stage])));
      const kept = new Set(planned.flatMap((stage) => (stage.existing ? [stage.existing.id] : [])));
      const removed = stages.filter((stage) => !kept.has(stage.id));
      const rekinded = planned.filter((stage) => stage.existing && stage.existing.kind !== stage.kind);
      const counts = await dealCounts(tx, [
        ...removed.map((stage) => stage.id),
        ...rekinded.map((stage) => stage.existing!.id),
      ]);
      if (counts.size > 0) {
        const busy = stages.filter((stage) => counts.has(stage.id));
        throw new Problem(
          409,
          'stage_has_deals',
          'Conflict',
          `Deals are in ${busy.map((stage) => `${stage.name} (${counts.get(stage.id)})`).join(', ')}: move them ` +
            'to another stage before removing a stage or changing its kind.',
          busy.map((stage) => {
            const index = planned.findIndex((plan) => plan.existing?.id === stage.id);
            return index === -1
              ? { path: '/body/stages', message: `leaves out stage ${stage.id}, which has deals` }
              : { path: `/body/stages/${index}/kind`, message: 'changes the kind of a stage that has deals' };
          }),
        );
      }
      if (removed.length > 0) {
        await tx('mod_crm.stages')
          .whereIn(
            'id',
            removed.map((stage) => stage.id),
          )
          .delete();
      }
      for (const [position, stage] of planned.entries()) {
        if (!stage.existing) continue;
        await tx('mod_crm.stages').where({ id: stage.existing.id }).update({
          name: stage.name,
          position,
          kind: stage.kind,
          probability: stage.probability,
          updated_at: tx.fn.now(),
        });
      }
      await insertStages(
        tx,
        { agencyId: ctx.agencyId, siteId: params.siteId, id },
        planned.flatMap((stage, position) => (stage.existing ? [] : [{ ...stage, position }])),
      );
    }
    const columns: Record<string, unknown> = { updated_at: tx.fn.now() };
    if (body.name !== undefined) columns.name = body.name;
    if (body.position !== undefined) columns.position = body.position;
    await tx('mod_crm.pipelines').where({ id }).update(columns);
    return { status: 200, body: await pipelineOf(tx, params.siteId, id) };
  },

  async deleteCrmPipeline({ tx, params }) {
    await crmSite(tx, params.siteId);
    const id = params.pipelineId;
    await pipelineRow(tx, params.siteId, id, true);
    const stages = await stagesOf(tx, [id], true);
    const counts = await dealCounts(
      tx,
      stages.map((stage) => stage.id),
    );
    const deals = [...counts.values()].reduce((sum, count) => sum + count, 0);
    if (deals > 0) {
      throw new Problem(
        409,
        'pipeline_has_deals',
        'Conflict',
        `The pipeline has ${deals} deal${deals === 1 ? '' : 's'}: move them to another pipeline or delete them first.`,
      );
    }
    await deleteRows(tx('mod_crm.pipelines').where({ id }));
    return { status: 204 };
  },
};
