import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import type { Handlers } from '../http/operations.js';
import { notFound } from '../http/problem.js';
import { paginate } from '../http/pagination.js';

const CLIENT = ['id', 'agency_id', 'name', 'created_at', 'updated_at'];

export const clientHandlers: Pick<
  Handlers,
  'listClients' | 'createClient' | 'getClient' | 'updateClient' | 'deleteClient'
> = {
  async listClients({ tx, query }) {
    return { status: 200, body: await paginate(tx('clients').select(CLIENT), 'id', query, (row) => row as never) };
  },

  async createClient({ tx, agencyId, body }) {
    const [client] = await tx('clients')
      .insert({ id: uuidv7(), agency_id: agencyId, name: body.name })
      .returning(CLIENT);
    return { status: 201, body: client };
  },

  async getClient({ tx, params }) {
    const client = await tx('clients').where({ id: params.clientId }).first(CLIENT);
    if (!client) throw notFound('client');
    return { status: 200, body: client };
  },

  async updateClient({ tx, params, body }) {
    const [client] = await tx('clients')
      .where({ id: params.clientId })
      .update({ name: body.name, updated_at: tx.fn.now() })
      .returning(CLIENT);
    if (!client) throw notFound('client');
    return { status: 200, body: client };
  },

  async deleteClient({ tx, params }) {
    if (!(await deleteRows(tx('clients').where({ id: params.clientId })))) throw notFound('client');
    return { status: 204 };
  },
};
