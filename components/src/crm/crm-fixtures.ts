/**
 * Canned CRM data and a stand-in for the CRM API at the fetch level, shared by the stories and the tests: the
 * elements' real client builds real requests, and these answer them. It keeps state: a move it accepts is
 * there when the board is read again.
 */
import type { components } from '@dramac/sdk';
import type {
  CrmCompany,
  CrmContact,
  CrmDeal,
  CrmPipeline,
  CrmPipelineBoard,
  CrmStage,
  CrmTimelineEntry,
} from './types.js';

type Problem = components['schemas']['Problem'];
type Session = components['schemas']['Session'];

export const fixtureApiBase = 'https://app.dramac.test';
export const fixtureSiteId = '5a17e000-0000-4000-8000-000000000001';
/** A session token, as `POST /v1/sessions` gives one. */
export const fixtureToken = 'ses_test_0123456789abcdefghijklmnopqrstuv';

const id = (group: number, n: number) => `5a17e000-0000-4000-8${group}00-${String(n).padStart(12, '0')}`;
const at = '2027-01-04T09:00:00Z';

export const stageIds = {
  lead: id(1, 1),
  qualified: id(1, 2),
  proposal: id(1, 3),
  won: id(1, 4),
  lost: id(1, 5),
} as const;

export const stages: CrmStage[] = [
  { id: stageIds.lead, name: 'Lead', position: 1, kind: 'open', probability: 10 },
  { id: stageIds.qualified, name: 'Qualified', position: 2, kind: 'open', probability: 30 },
  { id: stageIds.proposal, name: 'Proposal', position: 3, kind: 'open', probability: 60 },
  { id: stageIds.won, name: 'Won', position: 4, kind: 'won', probability: 100 },
  { id: stageIds.lost, name: 'Lost', position: 5, kind: 'lost', probability: 0 },
];

export const salesPipeline: CrmPipeline = {
  id: id(2, 1),
  name: 'Sales',
  position: 1,
  stages,
  created_at: at,
  updated_at: at,
};

export const contactIds = { ada: id(3, 1), alan: id(3, 2) } as const;
export const userIds = { grace: id(4, 1) } as const;
export const companyIds = { bakery: id(5, 1) } as const;

export function deal(
  n: number,
  name: string,
  stage: keyof typeof stageIds,
  amountMinor: number,
  more: Partial<CrmDeal> = {},
): CrmDeal {
  const kind = stages.find((candidate) => candidate.id === stageIds[stage])!.kind;
  return {
    id: id(6, n),
    name,
    amount_minor: amountMinor,
    currency: 'EUR',
    pipeline_id: salesPipeline.id,
    stage_id: stageIds[stage],
    position: n,
    status: kind === 'open' ? 'open' : kind,
    owner_id: null,
    contact_id: null,
    company_id: null,
    expected_close_date: null,
    closed_at: null,
    custom: {},
    created_at: at,
    updated_at: at,
    ...more,
  };
}

/** Lead: two deals (€16,500.00); Qualified: one (€990.00); Proposal: one in USD; Won: one; Lost: none. */
export const fixtureDeals: CrmDeal[] = [
  deal(1, 'Bakery website', 'lead', 1_200_000, {
    contact_id: contactIds.ada,
    owner_id: userIds.grace,
    company_id: companyIds.bakery,
    expected_close_date: '2027-03-12',
  }),
  deal(2, 'Shop relaunch', 'lead', 450_000, { contact_id: contactIds.alan }),
  deal(3, 'SEO retainer', 'qualified', 99_000, { expected_close_date: '2027-02-01' }),
  deal(4, 'Booking widget', 'proposal', 250_000, { currency: 'USD' }),
  deal(5, 'Logo design', 'won', 80_000, { closed_at: at }),
];

export const fixtureCompany: CrmCompany = {
  id: companyIds.bakery,
  name: 'Lovelace Bakery',
  domain: 'bakery.example',
  owner_id: userIds.grace,
  custom: {},
  contact_count: 1,
  created_at: at,
  updated_at: at,
};

export const fixtureContact: CrmContact = {
  id: contactIds.ada,
  first_name: 'Ada',
  last_name: 'Lovelace',
  emails: ['ada@bakery.example', 'ada.l@example.org'],
  phones: ['+44 20 7946 0000'],
  company_id: companyIds.bakery,
  owner_id: userIds.grace,
  tags: ['vip', 'newsletter'],
  lifecycle_stage: 'customer',
  source: 'form',
  consent: null,
  custom: {},
  created_at: at,
  updated_at: at,
};

export const otherContact: CrmContact = {
  ...fixtureContact,
  id: contactIds.alan,
  first_name: 'Alan',
  last_name: 'Turing',
  emails: ['alan@example.com'],
  phones: [],
  company_id: null,
  tags: [],
  lifecycle_stage: 'lead',
};

/** `count` timeline entries, an hour apart, the newest an hour before `newest`. */
export function timelineOf(count: number, newest = '2027-01-11T09:00:00Z'): CrmTimelineEntry[] {
  return Array.from({ length: count }, (_, index) => ({
    id: id(7, index + 1),
    type: index % 2 ? 'booking.booking.created' : 'form.submitted',
    summary: index % 2 ? `Booked an intro call (${index + 1})` : `Sent the contact form (${index + 1})`,
    data: {},
    occurred_at: new Date(Date.parse(newest) - (index + 1) * 3_600_000).toISOString(),
  }));
}

/** How the stand-in API behaves. */
export interface CrmScenario {
  pipelines?: CrmPipeline[];
  deals?: CrmDeal[];
  /** Deals per column on the board (the API: 100). */
  boardLimit?: number;
  /** The scopes `GET /v1/sessions/current` reports (default: a client member's: users:read, crm:read, crm:write). */
  scopes?: string[];
  /** These requests never get an answer (a loading state). */
  pending?: 'board' | 'contact' | 'move';
  /** These requests fail: 500, or the status given for `move`. */
  fail?: 'board' | 'contact' | 'more' | 'timeline-more';
  /** How `POST …/deals/{id}/move` answers: 200 (default), 403 (`forbidden`), 422 or 500. */
  move?: 'ok' | 'forbidden' | 'stage_not_in_pipeline' | 'error';
  contacts?: CrmContact[];
  company?: CrmCompany;
  timeline?: CrmTimelineEntry[];
  /** Names of users by id (`GET /v1/users/{id}`). */
  users?: Record<string, string>;
}

export function problem(status: number, code: string): Response {
  const body: Problem = { type: `urn:dramac:problem:${code}`, title: code, status, code };
  return Response.json(body, { status, headers: { 'content-type': 'application/problem+json' } });
}

function never(request: Request): Promise<Response> {
  return new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason)));
}

function page<T>(items: T[], url: URL, fallback: number) {
  const offset = Number(url.searchParams.get('cursor') ?? 0);
  const limit = Number(url.searchParams.get('limit') ?? fallback);
  const data = items.slice(offset, offset + limit);
  const more = offset + limit < items.length;
  return { data, has_more: more, next_cursor: more ? String(offset + limit) : null };
}

/** The API's answers to the CRM elements' requests, in a scenario; `deals` is its state (moves change it). */
export function crmResponder(scenario: CrmScenario = {}) {
  const pipelines = scenario.pipelines ?? [salesPipeline];
  const deals = (scenario.deals ?? fixtureDeals).map((item) => ({ ...item }));
  const contacts = scenario.contacts ?? [fixtureContact, otherContact];
  const company = scenario.company ?? fixtureCompany;
  const timeline = scenario.timeline ?? timelineOf(3);
  const users = scenario.users ?? { [userIds.grace]: 'Grace Hopper' };
  const inStage = (stageId: string) =>
    deals.filter((item) => item.stage_id === stageId).sort((a, b) => a.position - b.position);

  function board(pipeline: CrmPipeline): CrmPipelineBoard {
    return {
      pipeline,
      columns: [...pipeline.stages]
        .sort((a, b) => a.position - b.position)
        .map((stage) => {
          const all = inStage(stage.id);
          const totals = new Map<string, number>();
          for (const item of all) totals.set(item.currency, (totals.get(item.currency) ?? 0) + item.amount_minor);
          return {
            stage,
            deal_count: all.length,
            totals: [...totals].map(([currency, amount_minor]) => ({ currency, amount_minor })),
            deals: all.slice(0, scenario.boardLimit ?? 100),
            has_more: all.length > (scenario.boardLimit ?? 100),
          };
        }),
    };
  }

  async function move(request: Request, dealId: string): Promise<Response> {
    if (scenario.move === 'forbidden') return problem(403, 'insufficient_scope');
    if (scenario.move === 'stage_not_in_pipeline') return problem(422, 'stage_not_in_pipeline');
    if (scenario.move === 'error') return problem(500, 'internal_error');
    const body = (await request.clone().json()) as { stage_id: string; before_deal_id?: string | null };
    const item = deals.find((candidate) => candidate.id === dealId);
    const stage = pipelines.flatMap((pipeline) => pipeline.stages).find((s) => s.id === body.stage_id);
    if (!item) return problem(404, 'not_found');
    if (!stage) return problem(422, 'stage_not_in_pipeline');
    const others = inStage(stage.id).filter((candidate) => candidate.id !== dealId);
    const before = others.findIndex((candidate) => candidate.id === body.before_deal_id);
    const index = before < 0 ? others.length : before;
    const previous = others[index - 1]?.position;
    const next = others[index]?.position;
    item.position =
      previous === undefined ? (next ?? 1) - 1 : next === undefined ? previous + 1 : (previous + next) / 2;
    item.stage_id = stage.id;
    item.status = stage.kind === 'open' ? 'open' : stage.kind;
    item.closed_at = stage.kind === 'open' ? null : at;
    item.updated_at = new Date().toISOString();
    return Response.json(item);
  }

  const respond = async (request: Request): Promise<Response> => {
    const url = new URL(request.url);
    const path = url.pathname.replace(`/v1/sites/${fixtureSiteId}/crm`, '/crm');
    const kind = /\/(pipelines|board)$/.test(path)
      ? 'board'
      : /^\/crm\/contacts\/[^/]+(\/timeline)?$/.test(path)
        ? 'contact'
        : path.endsWith('/move')
          ? 'move'
          : undefined;
    if (kind && scenario.pending === kind) return never(request);
    if (kind === 'board' && scenario.fail === 'board') return problem(500, 'internal_error');
    if (kind === 'contact' && scenario.fail === 'contact' && !url.searchParams.has('cursor')) {
      return problem(500, 'internal_error');
    }

    const route = `${request.method} ${path}`;
    let match: RegExpExecArray | null;
    if (route === 'GET /v1/sessions/current') {
      const session: Session = {
        token: null,
        expires_at: '2027-02-01T00:00:00Z',
        agency_id: id(8, 1),
        role: 'client_member',
        client_id: id(8, 2),
        scopes: (scenario.scopes ?? ['users:read', 'crm:read', 'crm:write']) as Session['scopes'],
        user: { id: userIds.grace, email: 'grace@example.com', name: 'Grace Hopper' },
      };
      return Response.json(session);
    }
    if (route === 'GET /crm/pipelines') return Response.json(page(pipelines, url, 20));
    if ((match = /^GET \/crm\/pipelines\/([^/]+)\/board$/.exec(route))) {
      const pipeline = pipelines.find((candidate) => candidate.id === match![1]);
      return pipeline ? Response.json(board(pipeline)) : problem(404, 'not_found');
    }
    if (route === 'GET /crm/deals') {
      if (scenario.fail === 'more') return problem(500, 'internal_error');
      const stageId = url.searchParams.get('stage_id');
      return Response.json(page(stageId ? inStage(stageId) : deals, url, 20));
    }
    if ((match = /^POST \/crm\/deals\/([^/]+)\/move$/.exec(route))) return move(request, match[1]!);
    if ((match = /^GET \/crm\/contacts\/([^/]+)\/timeline$/.exec(route))) {
      if (scenario.fail === 'timeline-more' && url.searchParams.has('cursor')) return problem(500, 'internal_error');
      return Response.json(page(timeline, url, 20));
    }
    if ((match = /^GET \/crm\/contacts\/([^/]+)$/.exec(route))) {
      const contact = contacts.find((candidate) => candidate.id === match![1]);
      return contact ? Response.json(contact) : problem(404, 'not_found');
    }
    if ((match = /^GET \/crm\/companies\/([^/]+)$/.exec(route))) {
      return match[1] === company.id ? Response.json(company) : problem(404, 'not_found');
    }
    if ((match = /^GET \/v1\/users\/([^/]+)$/.exec(route))) {
      const name = users[match[1]!];
      return name
        ? Response.json({
            id: match[1],
            email: 'someone@example.com',
            name,
            role: 'client_member',
            client_id: id(8, 2),
            custom_role_ids: [],
            created_at: at,
          })
        : problem(404, 'not_found');
    }
    return problem(404, 'not_found');
  };
  return Object.assign(respond, { deals });
}

/** A `fetch` answering the CRM elements' requests in a scenario (stories pass it as `.fetch`). */
export function crmFetch(scenario: CrmScenario = {}): typeof globalThis.fetch {
  const respond = crmResponder(scenario);
  return async (input, init) => respond(new Request(input, init));
}
