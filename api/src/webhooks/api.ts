import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import type { Handlers, Schemas } from '../http/operations.js';
import { paginate } from '../http/pagination.js';
import { conflict, notFound, Problem } from '../http/problem.js';
import { urlRefusal } from '../modules/hooks.js';
import { newSigningSecret } from './signing.js';

type Endpoint = Schemas['WebhookEndpoint'];
const ENDPOINT = [
  'id',
  'url',
  'description',
  'event_types',
  'client_id',
  'site_id',
  'enabled',
  'disabled_reason',
  'disabled_at',
  'failure_streak',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
];
const DELIVERY = [
  'd.id',
  'd.event_id',
  'o.type as event_type',
  'd.status',
  'd.attempts',
  'd.next_attempt_at',
  'd.last_attempt_at',
  'd.last_status_code',
  'd.last_error',
  'd.latency_ms',
  'd.response_excerpt',
  'd.delivered_at',
  'd.created_at',
];

/** A URL the platform will not call is refused when it is registered (and checked again at every attempt). */
function assertCallable(url: string, allowLocal: boolean) {
  const refusal = urlRefusal(url, allowLocal);
  if (refusal) {
    throw new Problem(422, 'url_not_allowed', 'Unprocessable', `The webhook URL is refused: ${refusal}.`, [
      { path: '/body/url', message: refusal },
    ]);
  }
}

const assertEnabled = (endpoint: Endpoint) => {
  if (!endpoint.enabled) {
    throw conflict('webhook_disabled', 'The endpoint is disabled: enable it first (PATCH enabled: true).');
  }
};

async function findEndpoint(tx: Knex.Transaction, id: string): Promise<Endpoint> {
  const endpoint = await tx('webhook_endpoints').where({ id }).first(ENDPOINT);
  if (!endpoint) throw notFound('webhook endpoint');
  return endpoint as Endpoint;
}

export const webhookHandlers: Pick<
  Handlers,
  | 'listWebhooks'
  | 'createWebhook'
  | 'getWebhook'
  | 'updateWebhook'
  | 'deleteWebhook'
  | 'rotateWebhookSecret'
  | 'listWebhookDeliveries'
  | 'replayWebhookDelivery'
  | 'recoverWebhook'
> = {
  async listWebhooks({ tx, query }) {
    const endpoints = tx('webhook_endpoints').select(ENDPOINT);
    return { status: 200, body: await paginate(endpoints, 'id', query, (row) => row as Endpoint) };
  },

  async createWebhook({ tx, agencyId, principal, body, allowLocalHooks }) {
    assertCallable(body.url, allowLocalHooks);
    // The scope narrows: a site implies its client; a client-limited caller always gets its own client.
    let clientId = body.client_id ?? principal.clientId;
    if (body.site_id) {
      const site = await tx('sites').where({ id: body.site_id }).first('client_id');
      if (!site) throw notFound('site');
      if (clientId && clientId !== site.client_id) {
        throw new Problem(422, 'scope_mismatch', 'Unprocessable', 'The site belongs to another client.', [
          { path: '/body/site_id', message: 'is not a site of client_id' },
        ]);
      }
      clientId = site.client_id;
    }
    if (clientId && !(await tx('clients').where({ id: clientId }).first('id'))) throw notFound('client');
    const secret = newSigningSecret();
    const [endpoint] = await tx('webhook_endpoints')
      .insert({
        id: uuidv7(),
        agency_id: agencyId,
        client_id: clientId,
        site_id: body.site_id ?? null,
        url: body.url,
        description: body.description ?? null,
        event_types: body.event_types,
        secret,
      })
      .returning(ENDPOINT);
    return { status: 201, body: { ...endpoint, secret } };
  },

  async getWebhook({ tx, params }) {
    return { status: 200, body: await findEndpoint(tx, params.webhookId) };
  },

  async updateWebhook({ tx, params, body, allowLocalHooks }) {
    if (body.url !== undefined) assertCallable(body.url, allowLocalHooks);
    const changes: Record<string, unknown> = { updated_at: tx.fn.now() };
    if (body.url !== undefined) changes.url = body.url;
    if (body.event_types !== undefined) changes.event_types = body.event_types;
    if (body.description !== undefined) changes.description = body.description;
    if (body.enabled === true)
      Object.assign(changes, { enabled: true, disabled_reason: null, disabled_at: null, failure_streak: 0 });
    if (body.enabled === false)
      Object.assign(changes, { enabled: false, disabled_reason: null, disabled_at: tx.fn.now() });
    const [endpoint] = await tx('webhook_endpoints')
      .where({ id: params.webhookId })
      .update(changes)
      .returning(ENDPOINT);
    if (!endpoint) throw notFound('webhook endpoint');
    return { status: 200, body: endpoint };
  },

  async deleteWebhook({ tx, params }) {
    if (!(await deleteRows(tx('webhook_endpoints').where({ id: params.webhookId })))) {
      throw notFound('webhook endpoint');
    }
    return { status: 204 };
  },

  async rotateWebhookSecret({ tx, params, body }) {
    const current = await tx('webhook_endpoints').where({ id: params.webhookId }).forUpdate().first('secret');
    if (!current) throw notFound('webhook endpoint');
    const secret = newSigningSecret();
    const overlap = body?.overlap_seconds ?? 86_400;
    const [endpoint] = await tx('webhook_endpoints')
      .where({ id: params.webhookId })
      .update({
        secret,
        previous_secret: current.secret,
        previous_secret_expires_at: tx.raw(`now() + make_interval(secs => ?)`, [overlap]),
        updated_at: tx.fn.now(),
      })
      .returning(ENDPOINT);
    return { status: 201, body: { ...endpoint, secret } };
  },

  async listWebhookDeliveries({ tx, params, query }) {
    await findEndpoint(tx, params.webhookId);
    const deliveries = tx('webhook_deliveries as d')
      .join('outbox as o', 'o.id', 'd.event_id')
      .where('d.endpoint_id', params.webhookId)
      .select(DELIVERY);
    if (query.status) deliveries.where('d.status', query.status);
    return {
      status: 200,
      body: await paginate(deliveries, { column: 'd.id', field: 'id' }, query, (row) => row as never),
    };
  },

  async replayWebhookDelivery({ tx, params }) {
    assertEnabled(await findEndpoint(tx, params.webhookId));
    const updated = await tx('webhook_deliveries')
      .where({ id: params.deliveryId, endpoint_id: params.webhookId })
      .update({ status: 'pending', attempts: 0, next_attempt_at: tx.fn.now() })
      .returning('id');
    if (updated.length === 0) throw notFound('delivery');
    const delivery = await tx('webhook_deliveries as d')
      .join('outbox as o', 'o.id', 'd.event_id')
      .where('d.id', params.deliveryId)
      .first(DELIVERY);
    return { status: 202, body: delivery };
  },

  async recoverWebhook({ tx, agencyId, params, query }) {
    const endpoint = await findEndpoint(tx, params.webhookId);
    assertEnabled(endpoint);
    // What the worker's fan-out gives an enabled endpoint (see fanOut), less what it has or is about to get.
    const missed = (await tx('outbox as o')
      .where('o.created_at', '>=', new Date(query.since))
      .where('o.created_at', '>=', endpoint.created_at)
      .whereIn('o.type', endpoint.event_types)
      .modify((events) => {
        if (endpoint.client_id) events.where('o.client_id', endpoint.client_id);
        if (endpoint.site_id) events.where('o.site_id', endpoint.site_id);
      })
      .whereNotExists(
        tx('webhook_deliveries as d')
          .whereRaw('d.event_id = o.id')
          .where('d.endpoint_id', endpoint.id)
          .whereIn('d.status', ['pending', 'succeeded']),
      )
      .orderBy('o.id')
      .pluck('o.id')) as string[];
    let queued = 0;
    for (let start = 0; start < missed.length; start += 1_000) {
      const rows = missed.slice(start, start + 1_000).map((eventId) => ({
        id: uuidv7(),
        agency_id: agencyId,
        client_id: endpoint.client_id,
        endpoint_id: endpoint.id,
        event_id: eventId,
        next_attempt_at: tx.fn.now(),
      }));
      // A failed delivery is queued again, from its first attempt, as a replay would.
      const written = await tx('webhook_deliveries')
        .insert(rows)
        .onConflict(['endpoint_id', 'event_id'])
        .merge({ status: 'pending', attempts: 0, next_attempt_at: tx.fn.now() })
        .where('webhook_deliveries.status', 'failed')
        .returning('id');
      queued += written.length;
    }
    return { status: 202, body: { since: query.since, queued } };
  },
};
