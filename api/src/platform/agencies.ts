import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import { withPreparation, type Handlers } from '../http/operations.js';
import { notFound } from '../http/problem.js';
import { paginate } from '../http/pagination.js';
import { hashPassword } from './secrets.js';
import { openSession } from './sessions.js';

const AGENCY = ['id', 'name', 'created_at', 'updated_at'];

export const agencyHandlers: Pick<
  Handlers,
  'createAgency' | 'listAgencies' | 'getAgency' | 'updateAgency' | 'deleteAgency'
> = {
  createAgency: withPreparation(
    async ({ body, request, limits }) => {
      await limits.consume('signUp', String(request.ip));
      return hashPassword(body.owner.password);
    },
    async ({ tx, body, enterTenant }, passwordHash) => {
      const agencyId = uuidv7();
      await enterTenant({ agencyId, clientId: null });
      const [agency] = await tx('agencies').insert({ id: agencyId, name: body.name }).returning(AGENCY);
      const [owner] = await tx('users')
        .insert({
          id: uuidv7(),
          agency_id: agencyId,
          email: body.owner.email,
          name: body.owner.name,
          password_hash: passwordHash,
          role: 'agency_owner',
        })
        .returning(['id', 'agency_id', 'email', 'name', 'role', 'client_id']);
      return { status: 201, body: { agency, session: await openSession(tx, owner) } };
    },
  ),

  async listAgencies({ tx, query }) {
    return { status: 200, body: await paginate(tx('agencies').select(AGENCY), 'id', query, (row) => row as never) };
  },

  async getAgency({ tx, params }) {
    const agency = await tx('agencies').where({ id: params.agencyId }).first(AGENCY);
    if (!agency) throw notFound('agency');
    return { status: 200, body: agency };
  },

  async updateAgency({ tx, params, body }) {
    const [agency] = await tx('agencies')
      .where({ id: params.agencyId })
      .update({ name: body.name, updated_at: tx.fn.now() })
      .returning(AGENCY);
    if (!agency) throw notFound('agency');
    return { status: 200, body: agency };
  },

  async deleteAgency({ tx, params }) {
    const deleted = await deleteRows(tx('agencies').where({ id: params.agencyId }));
    if (!deleted) throw notFound('agency');
    return { status: 204 };
  },
};
