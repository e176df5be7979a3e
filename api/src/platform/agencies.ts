import { v7 as uuidv7 } from 'uuid';
import { deleteRows } from '../db/delete.js';
import type { Handlers } from '../http/operations.js';
import { conflict, notFound } from '../http/problem.js';
import { paginate } from '../http/pagination.js';
import { hashPassword, verifyPassword } from './secrets.js';
import { membershipsOf, openSession } from './sessions.js';

const AGENCY = ['id', 'name', 'created_at', 'updated_at'];

export const agencyHandlers: Pick<
  Handlers,
  'createAgency' | 'listAgencies' | 'getAgency' | 'updateAgency' | 'deleteAgency'
> = {
  async createAgency({ tx, body, enterTenant }) {
    const { owner } = body;
    const { rows } = (await tx.raw('SELECT * FROM dramac_ensure_user(?, ?, ?, ?)', [
      uuidv7(),
      owner.email,
      owner.name,
      await hashPassword(owner.password),
    ])) as { rows: { user_id: string; created: boolean; known_password_hash: string | null }[] };
    const account = rows[0]!;
    if (!account.created && !(await verifyPassword(owner.password, account.known_password_hash))) {
      throw conflict(
        'email_in_use',
        'This email already has a Dramac account: sign up with its password to add an agency to it.',
      );
    }
    const agencyId = uuidv7();
    await enterTenant({ agencyId, clientId: null });
    const [agency] = await tx('agencies').insert({ id: agencyId, name: body.name }).returning(AGENCY);
    await tx('memberships').insert({
      id: uuidv7(),
      agency_id: agencyId,
      user_id: account.user_id,
      role: 'agency_owner',
    });
    const user = await tx('users').where({ id: account.user_id }).first('id', 'email', 'name');
    const agencies = await membershipsOf(tx, account.user_id);
    const membership = agencies.find((a) => a.agency_id === agencyId)!;
    return { status: 201, body: { agency, session: await openSession(tx, user, membership, agencies) } };
  },

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
      .update({ ...body, updated_at: tx.fn.now() })
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
