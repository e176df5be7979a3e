import { execFile } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { populateAgency, type PopulatedAgency } from './support/fixtures.js';
import { faqModule, published } from './support/modules.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

/** The Node back-end example (examples/node-integrator), run as its README says, against a real platform. */
const script = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../../examples/node-integrator/integrator.ts',
);

let platform: TestPlatform;
let agency: PopulatedAgency;
let secretKey: string;

beforeAll(async () => {
  platform = await startTestPlatform({ browser: true });
  agency = await populateAgency(platform, 'Integrator');
  const { v1 } = await faqModule();
  await published(platform, agency.token, v1);
  const key = await platform.request('POST', '/v1/keys', {
    token: agency.token,
    body: {
      type: 'secret',
      name: 'faq-sync',
      scopes: ['installs:read', 'installs:write', 'collections:read', 'collections:write'],
    },
  });
  secretKey = key.body.secret;
});
afterAll(() => platform?.close());

const run = (env: Record<string, string>) =>
  promisify(execFile)('npx', ['tsx', script], { env: { ...process.env, ...env }, timeout: 30_000 }).then(
    ({ stdout }) => ({ code: 0, out: stdout }),
    (error: { code: number; stdout: string; stderr: string }) => ({
      code: error.code,
      out: error.stdout + error.stderr,
    }),
  );

describe('the Node integrator example', () => {
  it('installs the module, syncs its questions, and creates nothing twice when run again', async () => {
    const env = { DRAMAC_URL: platform.url, DRAMAC_SECRET_KEY: secretKey, DRAMAC_SITE_ID: agency.siteId };
    const first = await run(env);
    expect(first).toEqual({ code: 0, out: `acme.faq on site ${agency.siteId}: 2 question(s) created, 2 in all.\n` });
    const second = await run(env);
    expect(second.out).toBe(`acme.faq on site ${agency.siteId}: 0 question(s) created, 2 in all.\n`);
    const visible = await platform.request('GET', `/v1/m/acme.faq/questions?site_id=${agency.siteId}`, {
      token: agency.token,
    });
    expect(visible.body.data.map((record: { question: string }) => record.question).sort()).toEqual([
      'Can I order a custom cake?',
      'Do you deliver on weekends?',
    ]);
  });

  it('says what is missing, and why the API refused', async () => {
    expect(await run({ DRAMAC_URL: '', DRAMAC_SECRET_KEY: '', DRAMAC_SITE_ID: '' })).toEqual({
      code: 2,
      out: 'Set DRAMAC_URL, DRAMAC_SECRET_KEY (sk_…) and DRAMAC_SITE_ID.\n',
    });
    const refused = await run({
      DRAMAC_URL: platform.url,
      DRAMAC_SECRET_KEY: 'sk_nope',
      DRAMAC_SITE_ID: agency.siteId,
    });
    expect(refused.code).toBe(1);
    expect(refused.out).toContain('401 unauthorized');
  });
});
