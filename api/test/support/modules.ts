import { buildFaqModule, type ModulePublishBody } from '../../../examples/faq-module/build.js';
import type { Reply, TestPlatform } from './platform.js';

let built: Promise<{ v1: ModulePublishBody; v2: ModulePublishBody }> | undefined;

/** The example FAQ module's two versions, built once per test file. */
export const faqModule = () => (built ??= buildFaqModule());

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
