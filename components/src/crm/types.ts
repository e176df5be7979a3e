/**
 * The CRM shapes the elements use, taken from the operations of the contract by their operationId (not by
 * schema name), so they follow the OpenAPI document whatever its schemas are called.
 */
import type { operations } from '@dramac/sdk';

type Ok<O extends keyof operations> = operations[O]['responses'] extends {
  200: { content: { 'application/json': infer T } };
}
  ? T
  : never;

export type CrmPipelineBoard = Ok<'getCrmPipelineBoard'>;
export type CrmBoardColumn = CrmPipelineBoard['columns'][number];
export type CrmPipeline = CrmPipelineBoard['pipeline'];
export type CrmStage = CrmBoardColumn['stage'];
export type CrmDeal = Ok<'moveCrmDeal'>;
export type CrmMoneyTotal = CrmBoardColumn['totals'][number];
export type CrmContact = Ok<'getCrmContact'>;
export type CrmCompany = Ok<'getCrmCompany'>;
export type CrmTimelineEntry = Ok<'listCrmContactTimeline'>['data'][number];
