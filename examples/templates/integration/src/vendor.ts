/**
 * The integration template's vendor back end: it runs on the vendor's servers, never on the platform. The
 * platform POSTs each call to `integration.base_url` + its path, signed per Standard Webhooks with the install's
 * signing secret; this server verifies the signature, then calls the platform back with the install's OAuth
 * client (client credentials grant) to copy the vendor's products into the module's `products` collection.
 *
 *   POST /v1/sites/{siteId}/installs/starter.sync/calls {"path":"/sync"}  → the vendor's { created, updated, unchanged }
 *
 * Plain `node:http` and `fetch`, no dependencies. To run it for one install (its `integration_credentials`):
 *
 *   DRAMAC_URL=http://localhost:3000 DRAMAC_INSTALL_ID=… DRAMAC_CLIENT_ID=… DRAMAC_CLIENT_SECRET=ocs_… \
 *     DRAMAC_SIGNING_SECRET=whsec_… PORT=4000 npx tsx examples/templates/integration/src/vendor.ts
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const MODULE_ID = 'starter.sync';
/** The path of the manifest's `integration.base_url`: the platform's calls arrive under it. */
export const BASE_PATH = '/dramac';
/** How old a call may be (Standard Webhooks' five minutes): a captured call cannot be replayed after that. */
const TOLERANCE_SECONDS = 5 * 60;
/** The platform's calls are small; a body is read whole before its signature can be checked, so it is capped. */
const MAX_BODY_BYTES = 256 * 1024;

/** What the agency hands the vendor from the install's answer: `integration_credentials`. */
export interface Credentials {
  client_id: string;
  client_secret: string;
  signing_secret: string;
}

/** One of the vendor's own products; `sku` is its id on the vendor's side. */
export interface Product {
  sku: string;
  name: string;
}

/** The body the platform signs: whose call it is, and what it carries. */
interface Call {
  site_id: string;
  install_id: string;
  module_id: string;
  path: string;
  data: unknown;
}

/** A refusal, answered as problem+json: the vendor's errors read like the platform's. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    detail: string,
  ) {
    super(detail);
  }
}

/**
 * Whether `webhook-signature` holds a `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` made with the secret
 * (its base64 part after `whsec_`, decoded), and the call is recent. Compared in constant time.
 */
export function verifySignature(
  secret: string,
  headers: http.IncomingHttpHeaders,
  body: string,
  now = Date.now(),
): boolean {
  const id = headers['webhook-id'];
  const timestamp = headers['webhook-timestamp'];
  const signatures = headers['webhook-signature'];
  if (typeof id !== 'string' || typeof timestamp !== 'string' || typeof signatures !== 'string') return false;
  if (!(Math.abs(now / 1000 - Number(timestamp)) <= TOLERANCE_SECONDS)) return false;
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  // Several during a secret's rotation, separated by spaces.
  return signatures.split(' ').some((signature) => {
    const [version, value] = signature.split(',');
    const given = Buffer.from(value ?? '', 'base64');
    return version === 'v1' && given.length === expected.length && timingSafeEqual(given, expected);
  });
}

/** A token of the install's OAuth client: for the site's client only, with scopes the manifest requires. */
export async function platformToken(platformUrl: string, credentials: Credentials, scope: string): Promise<string> {
  const basic = Buffer.from(`${credentials.client_id}:${credentials.client_secret}`).toString('base64');
  const response = await fetch(`${platformUrl}/oauth/token`, {
    method: 'POST',
    headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope }),
  });
  const answer = (await response.json()) as { access_token?: string; error?: string; error_description?: string };
  if (!answer.access_token) {
    throw new Refusal(502, 'Bad Gateway', `The platform gave no token (${answer.error}: ${answer.error_description})`);
  }
  return answer.access_token;
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Refusal(413, 'Content Too Large', `A call may carry ${MAX_BODY_BYTES} bytes.`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export interface Vendor {
  /** Where it listens, without a trailing slash; the manifest's `base_url` is this plus BASE_PATH. */
  url: string;
  /** Stores an install's credentials (a real vendor keeps them encrypted, with the agency's account). */
  connect(installId: string, credentials: Credentials): void;
  close(): Promise<void>;
}

/** Starts the vendor's server; `products` is the vendor's catalogue, which `/sync` copies. */
export async function startVendor(options: {
  platformUrl: string;
  products: Product[];
  port?: number;
  host?: string;
}): Promise<Vendor> {
  const { platformUrl, products } = options;
  const installs = new Map<string, Credentials>();

  /** One call to the platform's API with the vendor's token; a refusal's `detail` when it fails. */
  async function api<T>(token: string, method: string, url: string, body?: unknown): Promise<T> {
    const response = await fetch(`${platformUrl}${url}`, {
      method,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const answer = (await response.json()) as T & { detail?: string };
    if (!response.ok) throw new Refusal(502, 'Bad Gateway', `The platform refused ${method} ${url}: ${answer.detail}`);
    return answer;
  }

  /** Creates the products the site lacks and renames the ones whose name changed, found by their `sku`. */
  async function sync(call: Call, credentials: Credentials) {
    const token = await platformToken(platformUrl, credentials, 'collections:read collections:write');
    const collection = `/v1/m/${MODULE_ID}/products`;
    const site = `site_id=${encodeURIComponent(call.site_id)}`;
    const counts = { created: 0, updated: 0, unchanged: 0 };
    for (const product of products) {
      const query = `${site}&filter[sku]=${encodeURIComponent(product.sku)}&limit=1`;
      const [known] = (await api<{ data: (Product & { id: string })[] }>(token, 'GET', `${collection}?${query}`)).data;
      if (!known) {
        await api(token, 'POST', `${collection}?${site}`, product);
        counts.created++;
      } else if (known.name !== product.name) {
        await api(token, 'PATCH', `${collection}/${known.id}`, { name: product.name });
        counts.updated++;
      } else counts.unchanged++;
    }
    return counts;
  }

  async function handle(req: http.IncomingMessage): Promise<unknown> {
    if (req.method !== 'POST' || !req.url?.startsWith(`${BASE_PATH}/`)) {
      throw new Refusal(404, 'Not Found', 'The platform calls POST under the base URL.');
    }
    const raw = await readBody(req);
    // The unverified body only says whose secret to check it with: nothing in it is trusted before that.
    let call: Call | undefined;
    try {
      call = JSON.parse(raw) as Call;
    } catch {
      call = undefined;
    }
    const credentials = call && installs.get(call.install_id);
    if (!call || !credentials || !verifySignature(credentials.signing_secret, req.headers, raw)) {
      throw new Refusal(401, 'Unauthorized', 'The call is not signed by a connected install, or is too old.');
    }
    // Route by the signed `path`: the request's own URL is not signed.
    if (call.module_id === MODULE_ID && call.path === '/sync') return sync(call, credentials);
    throw new Refusal(404, 'Not Found', `Nothing answers ${call.path}.`);
  }

  const server = http.createServer((req, res) => {
    const send = (status: number, type: string, body: unknown) =>
      res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
    handle(req).then(
      (answer) => send(200, 'application/json', answer),
      (error: unknown) => {
        const refusal =
          error instanceof Refusal ? error : new Refusal(500, 'Internal Server Error', 'The vendor failed.');
        if (!(error instanceof Refusal)) console.error(error);
        send(refusal.status, 'application/problem+json', {
          type: 'about:blank',
          title: refusal.title,
          status: refusal.status,
          detail: refusal.message,
        });
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    connect: (installId, credentials) => installs.set(installId, credentials),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const env = (name: string) => process.env[name] ?? (console.error(`${name} is not set`), process.exit(2));
  const vendor = await startVendor({
    platformUrl: env('DRAMAC_URL'),
    products: [{ sku: 'TEA-001', name: 'Green tea' }],
    port: Number(process.env.PORT ?? 4000),
  });
  vendor.connect(env('DRAMAC_INSTALL_ID'), {
    client_id: env('DRAMAC_CLIENT_ID'),
    client_secret: env('DRAMAC_CLIENT_SECRET'),
    signing_secret: env('DRAMAC_SIGNING_SECRET'),
  });
  console.log(`the vendor listens at ${vendor.url}${BASE_PATH}: the manifest's integration.base_url`);
}
