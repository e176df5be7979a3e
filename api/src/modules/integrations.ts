import type { Knex } from 'knex';
import { request } from 'undici';
import { v7 as uuidv7 } from 'uuid';
import { enterTenant } from '../db/tenant.js';
import { withPreparation, type Handlers, type Principal, type Schemas, type Scope } from '../http/operations.js';
import { conflict, notFound, Problem } from '../http/problem.js';
import { assertMayGrant } from '../platform/keys.js';
import { ALL_SCOPES } from '../platform/roles.js';
import { hashToken, newToken, tokenPrefix } from '../platform/secrets.js';
import { newSigningSecret, signatureHeader } from '../webhooks/signing.js';
import { internetOnly, urlRefusal } from './hooks.js';
import type { Manifest } from './manifest.js';

const TIMEOUT_MS = 10_000;
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * Gives an install of an integration module what its vendor needs: an OAuth client to call the platform
 * back (limited to the site's client, with the module's `permissions.required` scopes, which the installer
 * must hold) and a secret that signs the platform's calls to the vendor. A reinstall replaces both.
 */
export async function provisionIntegration(
  tx: Knex.Transaction,
  principal: Principal,
  site: { agency_id: string; client_id: string },
  manifest: Manifest,
  installId: string,
): Promise<Schemas['IntegrationCredentials'] | undefined> {
  if (manifest.type !== 'integration' || !manifest.integration) return undefined;
  const scopes = (manifest.permissions?.required ?? []).filter((scope): scope is Scope =>
    ALL_SCOPES.includes(scope as Scope),
  );
  assertMayGrant(principal, scopes, site.client_id);
  await retireIntegration(tx, installId);
  const clientSecret = newToken('ocs');
  const oauthClientId = uuidv7();
  await tx('oauth_clients').insert({
    id: oauthClientId,
    agency_id: site.agency_id,
    client_id: site.client_id,
    type: 'service',
    name: `${manifest.name} (integration)`,
    scopes,
    secret_hash: hashToken(clientSecret),
    secret_prefix: tokenPrefix(clientSecret),
    install_id: installId,
  });
  const signingSecret = newSigningSecret();
  await tx('integrations').insert({
    install_id: installId,
    agency_id: site.agency_id,
    client_id: site.client_id,
    oauth_client_id: oauthClientId,
    signing_secret: signingSecret,
  });
  return { client_id: oauthClientId, client_secret: clientSecret, signing_secret: signingSecret, scopes };
}

/** Ends what an install shared with its vendor: its OAuth client (and with it, the integration). */
export async function retireIntegration(tx: Knex.Transaction, installId: string): Promise<void> {
  const integration = await tx('integrations').where({ install_id: installId }).first('oauth_client_id');
  if (integration) await tx('oauth_clients').where({ id: integration.oauth_client_id }).delete();
}

/** Whether a path could leave the base URL's path: a `..` segment or a backslash, plain or percent-escaped. */
function climbs(path: string): boolean {
  let decoded = path;
  try {
    decoded = decodeURIComponent(path);
  } catch {
    return true;
  }
  return /\\/.test(decoded) || decoded.split(/[/?#]/).some((segment) => segment === '..' || segment === '.');
}

interface Target {
  url: string;
  body: string;
  signingSecret: string;
}

/** Where a call goes and what it carries, read as the caller (a site they cannot see is not found). */
async function targetOf(
  tx: Knex.Transaction,
  params: { siteId: string; moduleId: string },
  call: Schemas['IntegrationCall'],
): Promise<Target> {
  const row = (await tx('installs as i')
    .join('module_versions as v', function () {
      this.on('v.module_id', 'i.module_id').andOn('v.version', 'i.version');
    })
    .leftJoin('integrations as n', 'n.install_id', 'i.id')
    .where({ 'i.site_id': params.siteId, 'i.module_id': params.moduleId })
    .first('i.id', 'i.status', 'v.manifest', 'n.signing_secret')) as
    { id: string; status: string; manifest: Manifest; signing_secret: string | null } | undefined;
  if (!row || row.status === 'purged') throw notFound('install');
  if (row.status !== 'active') {
    throw conflict('not_installed', `${params.moduleId} is uninstalled on this site: install it again first.`);
  }
  if (!row.manifest.integration || !row.signing_secret) {
    throw conflict('not_an_integration', `${params.moduleId} is not an integration: it has no vendor to call.`);
  }
  if (climbs(call.path)) {
    throw new Problem(400, 'validation_failed', 'Bad Request', 'The path must not climb out of the base URL.', [
      { path: '/body/path', message: 'must not contain `..` segments or backslashes, plain or escaped' },
    ]);
  }
  const body = JSON.stringify({
    site_id: params.siteId,
    install_id: row.id,
    module_id: params.moduleId,
    path: call.path,
    data: call.data ?? null,
  });
  return {
    url: row.manifest.integration.base_url.replace(/\/$/, '') + call.path,
    body,
    signingSecret: row.signing_secret,
  };
}

const unreachable = (detail: string) => new Problem(502, 'integration_unreachable', 'Bad Gateway', detail);

/** Reads an answer, refusing one larger than the limit (a vendor cannot make the platform buffer gigabytes). */
async function readAnswer(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) throw unreachable(`The vendor answered with more than ${MAX_ANSWER_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Sends the signed call: HTTPS to an internet address (unless local calls are allowed), no redirects. */
async function send(target: Target, allowLocal: boolean): Promise<Schemas['IntegrationAnswer']> {
  const refusal = urlRefusal(target.url, allowLocal);
  if (refusal) throw unreachable(`The vendor's URL cannot be called: ${refusal}.`);
  const id = `msg_${uuidv7()}`;
  const timestamp = Math.floor(Date.now() / 1000);
  let response;
  try {
    response = await request(target.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Dramac-Integrations/1',
        'webhook-id': id,
        'webhook-timestamp': String(timestamp),
        'webhook-signature': signatureHeader([target.signingSecret], id, timestamp, target.body),
      },
      body: target.body,
      dispatcher: allowLocal ? undefined : internetOnly,
      headersTimeout: TIMEOUT_MS,
      bodyTimeout: TIMEOUT_MS,
      signal: AbortSignal.timeout(TIMEOUT_MS),
    });
  } catch (error) {
    if ((error as Error).name === 'TimeoutError' || (error as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT') {
      throw new Problem(
        504,
        'integration_timeout',
        'Gateway Timeout',
        `The vendor did not answer within ${TIMEOUT_MS / 1000} s.`,
      );
    }
    throw unreachable('The vendor could not be reached.');
  }
  let raw: string;
  try {
    raw = (await readAnswer(response.body)).toString('utf8');
  } catch (error) {
    if (error instanceof Problem) throw error;
    if ((error as Error).name === 'TimeoutError' || (error as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT') {
      throw new Problem(
        504,
        'integration_timeout',
        'Gateway Timeout',
        `The vendor did not finish answering within ${TIMEOUT_MS / 1000} s.`,
      );
    }
    throw unreachable('The vendor broke off its answer.');
  }
  const type = response.headers['content-type'];
  const contentType = typeof type === 'string' ? type : null;
  let body: unknown = raw === '' ? null : raw;
  if (raw && contentType && /^application\/([\w.+-]*\+)?json/.test(contentType)) {
    try {
      body = JSON.parse(raw);
    } catch {
      body = raw;
    }
  }
  return { status: response.statusCode, content_type: contentType, body };
}

export const integrationHandlers: Pick<Handlers, 'callIntegration'> = {
  // The vendor may take seconds: the call is made before the request's transaction, holding no connection.
  callIntegration: withPreparation(
    async ({ knex, principal, params, body, allowLocalHooks }) => {
      const target = await knex.transaction(async (tx) => {
        await enterTenant(tx, { agencyId: principal.agencyId, clientId: principal.clientId });
        return targetOf(tx, params, body);
      });
      return send(target, allowLocalHooks);
    },
    async (_ctx, answer) => ({ status: 200, body: answer }),
  ),
};
