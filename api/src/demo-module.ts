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

type Call = (
  method: string,
  path: string,
  token: string | null,
  body?: unknown,
) => Promise<{ status: number; body: Record<string, unknown> }>;

function caller(apiUrl: string): Call {
  return async (method, path, token, body) => {
    const response = await fetch(`${apiUrl}${path}`, {
      method,
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json().catch(() => null)) as Record<string, unknown> };
  };
}

export async function seedDemoModule(apiUrl: string, demo: DemoData): Promise<string> {
  const call = caller(apiUrl);
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

/** What the demo bakery books: a cake consultation with Mia, weekdays and Saturday mornings, Berlin time. */
const CONSULTATION = {
  name: 'Cake consultation',
  description: 'Tell us about your celebration; we sketch the cake with you.',
  duration_minutes: 30,
  slot_interval_minutes: 30,
  buffer_after_minutes: 10,
  minimum_notice_minutes: 120,
  booking_window_days: 60,
  price: { amount: 0, currency: 'EUR' },
  questions: [
    {
      id: 'occasion',
      label: 'What is the occasion?',
      type: 'select',
      options: ['Wedding', 'Birthday', 'Other'],
      required: true,
    },
    { id: 'guests', label: 'How many guests?', type: 'text' },
  ],
};
const MIA = {
  name: 'Mia (pastry chef)',
  email: 'mia@demo-bakery.example',
  time_zone: 'Europe/Berlin',
  weekly_hours: {
    ...Object.fromEntries(
      ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map((day) => [day, [{ start: '09:00', end: '17:00' }]]),
    ),
    saturday: [{ start: '09:00', end: '12:00' }],
  },
};

/** Publishes a first-party module as the demo agency (the operator of a development checkout) and installs it. */
async function installFirstParty(
  apiUrl: string,
  demo: DemoData,
  moduleId: string,
  settings: Record<string, unknown>,
): Promise<{ token: string; siteId: string; call: ReturnType<typeof caller> }> {
  const call = caller(apiUrl);
  // Building the elements needs esbuild, as the FAQ example does.
  const buildPath = '../../scripts/first-party-module.js';
  const { buildFirstPartyModule } = (await import(buildPath)) as typeof import('../../scripts/first-party-module.js');
  const session = await call('POST', '/v1/sessions', null, { email: demo.email, password: demo.password });
  const token = session.body.token as string;
  const published = await call('POST', '/v1/modules', token, await buildFirstPartyModule(moduleId));
  if (published.status !== 201 && published.status !== 409) throw new Error(`publishing: ${published.status}`);
  const sites = await call('GET', '/v1/sites', token);
  const siteId = (sites.body.data as { id: string }[])[0]!.id;
  const installed = await call('POST', `/v1/sites/${siteId}/installs`, token, { module_id: moduleId, settings });
  if (installed.status !== 201 && installed.status !== 409) throw new Error(`installing: ${installed.status}`);
  return { token, siteId, call };
}

/**
 * The booking module on the demo site: published by the demo agency (the operator of a development checkout),
 * installed, with one service and one person.
 */
export async function seedDemoBooking(apiUrl: string, demo: DemoData): Promise<string> {
  const { token, siteId, call } = await installFirstParty(apiUrl, demo, 'booking', {
    'dm-booking': { title: 'Book a cake consultation' },
  });
  const base = `/v1/sites/${siteId}/booking`;
  const services = await call('GET', `${base}/services`, token);
  if ((services.body.data as unknown[]).length === 0) {
    const staff = await call('POST', `${base}/staff`, token, MIA);
    await call('POST', `${base}/services`, token, { ...CONSULTATION, staff_ids: [staff.body.id] });
  }
  return 'booking';
}

/** The CRM on the demo site, its lead form asking for a name, an address and a message. */
export async function seedDemoCrm(apiUrl: string, demo: DemoData): Promise<string> {
  await installFirstParty(apiUrl, demo, 'crm', {
    'dm-contact-form': {
      title: 'Ask the bakery',
      fields: [
        { name: 'first_name', label: 'Your name', required: true },
        { name: 'email', required: true },
        { name: 'message', label: 'Your question', required: true },
      ],
      tags: ['website'],
    },
  });
  return 'crm';
}
