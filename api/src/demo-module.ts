/**
 * `npm start`'s demo shows a real widget: the example module (examples/faq-module) published, installed on
 * the demo site and given a few questions — through the platform's own API, the way a vendor and an agency
 * would. A convenience of the development checkout: building the bundle needs esbuild (a development
 * dependency), and where it is missing the demo goes without the widget.
 */
import type { DemoData } from './seed.js';

const QUESTIONS = [
  { question: 'Do you bake on Sundays?', answer: 'Yes, from 8 to 12.', category: 'opening hours', position: 1 },
  { question: 'Can I order a custom cake?', answer: 'Three days ahead, in the shop or by phone.', position: 2 },
  { question: 'Are your breads vegan?', answer: 'All of them but the brioche.', category: 'ingredients', position: 3 },
];

export async function seedDemoModule(apiUrl: string, demo: DemoData): Promise<string> {
  const call = async (method: string, path: string, token: string | null, body?: unknown) => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> };
  };
  const buildPath = '../../examples/faq-module/build.js';
  const { buildFaqModule } = (await import(buildPath)) as typeof import('../../examples/faq-module/build.js');
  const { v1 } = await buildFaqModule();
  const session = await call('POST', '/v1/sessions', null, { email: demo.email, password: demo.password });
  const token = session.body.token as string;
  const published = await call('POST', '/v1/modules', token, v1);
  if (published.status !== 201 && published.status !== 409) throw new Error(`publishing: ${published.status}`);
  const sites = await call('GET', '/v1/sites', token);
  const siteId = (sites.body.data as { id: string }[])[0]!.id;
  const installed = await call('POST', `/v1/sites/${siteId}/installs`, token, {
    module_id: 'acme.faq',
    settings: { 'acme-faq': { title: 'Questions about the bakery', expand_first: true } },
  });
  if (installed.status !== 201 && installed.status !== 409) throw new Error(`installing: ${installed.status}`);
  const existing = await call('GET', `/v1/m/acme.faq/questions?site_id=${siteId}`, token);
  if ((existing.body.data as unknown[]).length === 0) {
    for (const question of QUESTIONS) await call('POST', `/v1/m/acme.faq/questions?site_id=${siteId}`, token, question);
  }
  return 'acme.faq';
}
