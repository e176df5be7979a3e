import { buildFaqModule, type ModulePublishBody } from '../../../examples/faq-module/build.js';
import { appointOperator } from '../../src/platform/operator.js';
import { populateAgency, type PopulatedAgency } from './fixtures.js';
import type { Reply, TestPlatform } from './platform.js';

let built: Promise<{ v1: ModulePublishBody; v2: ModulePublishBody }> | undefined;

/**
 * The example FAQ module's two versions, built once per test worker (suites share its modules), and a copy of
 * them for each caller, so what one suite changes in its copy no other suite sees.
 */
export const faqModule = async () => structuredClone(await (built ??= buildFaqModule()));

/** A copy of a publish body with the manifest changed (a new version, a new id …). */
export function variant(
  body: ModulePublishBody,
  change: (manifest: ModulePublishBody['manifest']) => void,
): ModulePublishBody {
  const copy = structuredClone(body);
  change(copy.manifest);
  return copy;
}

export async function publish(platform: TestPlatform, token: string, body: ModulePublishBody): Promise<Reply> {
  return platform.request('POST', '/v1/modules', { token, body });
}

/** Publishes, failing the test unless it is created. */
export async function published(platform: TestPlatform, token: string, body: ModulePublishBody) {
  const reply = await publish(platform, token, body);
  if (reply.status !== 201) throw new Error(`publish ${body.manifest.id}: ${reply.status} ${reply.text}`);
  return reply.body;
}

/** Calls with a site's publishable key from one of its allowed origins, as a widget would. */
export function asVisitor(
  platform: TestPlatform,
  site: { publishableKey: string; origin: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<Reply> {
  const separator = path.includes('?') ? '&' : '?';
  return platform.request(method, `${path}${separator}key=${encodeURIComponent(site.publishableKey)}`, {
    body,
    headers: { origin: site.origin },
  });
}

export interface PopulatedModule {
  moduleId: string;
  version: string;
  /** The content address of its bundle file, `<sha256>.js`. */
  file: string;
  collection: string;
  /** A record of the collection on the agency's site. */
  itemId: string;
}

/**
 * Declares module permissions for `questions`: `<module>.questions.read` for every built-in role and
 * `<module>.questions.write` for all but client members, the collection reading and writing with them.
 */
export function declareQuestionPermissions(manifest: ModulePublishBody['manifest']) {
  const [read, write] = ['read', 'write'].map((action) => `${manifest.id}.questions.${action}`) as [string, string];
  manifest.access = {
    permissions: {
      [read]: {
        description: 'Read every question, unpublished ones included.',
        roles: ['agency_owner', 'agency_admin', 'agency_member', 'client_admin', 'client_member'],
      },
      [write]: {
        description: 'Add, change and remove questions.',
        roles: ['agency_owner', 'agency_admin', 'agency_member', 'client_admin'],
      },
    },
  };
  manifest.collections!.questions!.access = { read, write };
}

/**
 * Publishes the example module under the agency's own namespace (`<namespace>.faq`, tag `<namespace>-faq`)
 * with module permissions for its questions, installs it on the agency's site with one question, and gives
 * the site a theme.
 */
export async function populateModule(
  platform: TestPlatform,
  agency: { token: string; siteId: string },
  namespace: string,
): Promise<PopulatedModule> {
  const { v1 } = await faqModule();
  const moduleId = `${namespace}.faq`;
  const body = variant(v1, (manifest) => {
    manifest.id = moduleId;
    manifest.elements![0]!.tag = `${namespace}-faq`;
    manifest.events = Object.fromEntries(
      Object.entries(manifest.events ?? {}).map(([name, event]) => [
        name.replace(/^acme\.faq\./, `${moduleId}.`),
        event,
      ]),
    );
    declareQuestionPermissions(manifest);
  });
  const version = await published(platform, agency.token, body);
  const install = await platform.request('POST', `/v1/sites/${agency.siteId}/installs`, {
    token: agency.token,
    body: { module_id: moduleId },
  });
  if (install.status !== 201) throw new Error(`install ${moduleId}: ${install.status} ${install.text}`);
  const item = await platform.request('POST', `/v1/m/${moduleId}/questions?site_id=${agency.siteId}`, {
    token: agency.token,
    body: { question: `${namespace}: what is this?`, answer: 'A question of this agency.' },
  });
  if (item.status !== 201) throw new Error(`create a question: ${item.status} ${item.text}`);
  const theme = await platform.request('PUT', `/v1/sites/${agency.siteId}/theme`, {
    token: agency.token,
    body: { tokens: { '--dm-color-primary': '#123456' } },
  });
  if (theme.status !== 200) throw new Error(`theme: ${theme.status} ${theme.text}`);
  return {
    moduleId,
    version: version.version,
    file: new URL(version.files[0].url).pathname.split('/').pop()!,
    collection: 'questions',
    itemId: item.body.id,
  };
}

/** Publishes first-party modules as the platform operator (once per platform). */
export async function publishFirstParty(platform: TestPlatform, modules: Promise<ModulePublishBody>[]): Promise<void> {
  const operator = await populateAgency(platform, 'Operator');
  await appointOperator(platform.db.knex, operator.agencyId);
  for (const body of modules) await published(platform, operator.token, await body);
}

/** POSTs, failing the test unless it is created; the new thing. */
export async function created(platform: TestPlatform, token: string, path: string, body: unknown) {
  const reply = await platform.request('POST', path, { token, body });
  if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${reply.text}`);
  return reply.body;
}

export interface ModuleSite extends PopulatedAgency {
  /** Calls the API as the agency's owner. */
  call(method: string, path: string, body?: unknown): Promise<Reply>;
  /** Calls as a visitor of the site (publishable key, allowed origin). */
  visit(method: string, path: string, body?: unknown): Promise<Reply>;
}

/**
 * A site with a module installed, its own allowed origin and publishable key: of a new agency, or of
 * `owner`'s (sign-ups are rate-limited per address, so a file's tests share a few agencies).
 */
export async function siteWithModule(
  platform: TestPlatform,
  moduleId: string,
  name: string,
  owner?: PopulatedAgency,
): Promise<ModuleSite> {
  const agency = owner ?? (await populateAgency(platform, name));
  const { token } = agency;
  const site = owner
    ? await created(platform, token, '/v1/sites', { client_id: owner.clientId, name: `${name}.example` })
    : { id: agency.siteId };
  const origin = owner ? `https://${name.toLowerCase()}.example` : agency.origin;
  if (owner) await created(platform, token, `/v1/sites/${site.id}/origins`, { origin });
  const publishableKey = owner
    ? (await created(platform, token, '/v1/keys', { type: 'publishable', name: 'web', site_id: site.id })).secret
    : agency.publishableKey;
  await created(platform, token, `/v1/sites/${site.id}/installs`, { module_id: moduleId });
  const here = { ...agency, siteId: site.id, origin, publishableKey };
  return {
    ...here,
    call: (method, path, body) => platform.request(method, path, { token, body }),
    visit: (method, path, body) => asVisitor(platform, here, method, path, body),
  };
}
