/**
 * A back end that integrates with Dramac through the typed SDK and a secret key: it finds a site, makes sure
 * the example FAQ module is installed there, and syncs questions from its own source into the module's
 * collection (creating what is missing, idempotently), then prints what the site's visitors will see.
 *
 *   DRAMAC_URL=http://localhost:3000 DRAMAC_SECRET_KEY=sk_… DRAMAC_SITE_ID=… npx tsx examples/node-integrator/integrator.ts
 */
import { createDramacClient, type DramacClient } from '@dramac/sdk';

/** What this back end owns: its FAQ, kept in sync with the site's. */
const OUR_QUESTIONS = [
  { question: 'Do you deliver on weekends?', answer: 'Saturdays, 8 to 12.', category: 'delivery', position: 1 },
  { question: 'Can I order a custom cake?', answer: 'Yes, three days ahead.', category: 'orders', position: 2 },
];

/** Throws with the API's problem (`code`, `detail`) when a call fails: a back end wants to know why. */
function ok<T>(result: { data?: T; error?: unknown; response: Response }, what: string): T {
  if (result.error !== undefined || result.data === undefined) {
    const problem = result.error as { code?: string; detail?: string } | undefined;
    throw new Error(`${what}: ${result.response.status} ${problem?.code ?? ''} ${problem?.detail ?? ''}`.trim());
  }
  return result.data;
}

export async function syncFaq(dramac: DramacClient, siteId: string): Promise<{ created: number; total: number }> {
  const path = { siteId, moduleId: 'acme.faq' };
  const install = await dramac.GET('/v1/sites/{siteId}/installs/{moduleId}', { params: { path } });
  if (install.response.status === 404) {
    ok(
      await dramac.POST('/v1/sites/{siteId}/installs', {
        params: { path: { siteId } },
        body: { module_id: 'acme.faq' },
      }),
      'install',
    );
  } else {
    ok(install, 'read the install');
  }

  const list = ok(
    await dramac.GET('/v1/m/{moduleId}/{collection}', {
      params: { path: { moduleId: 'acme.faq', collection: 'questions' }, query: { site_id: siteId, limit: 100 } },
    }),
    'list questions',
  );
  const present = new Set(list.data.map((record) => record.question));
  let created = 0;
  for (const question of OUR_QUESTIONS.filter((candidate) => !present.has(candidate.question))) {
    ok(
      await dramac.POST('/v1/m/{moduleId}/{collection}', {
        params: {
          path: { moduleId: 'acme.faq', collection: 'questions' },
          query: { site_id: siteId },
          // A retry after a timeout replays instead of creating the question twice.
          header: { 'Idempotency-Key': `faq-sync:${siteId}:${question.question}` },
        },
        body: question,
      }),
      'create a question',
    );
    created += 1;
  }
  return { created, total: present.size + created };
}

async function main() {
  const { DRAMAC_URL, DRAMAC_SECRET_KEY, DRAMAC_SITE_ID } = process.env;
  if (!DRAMAC_URL || !DRAMAC_SECRET_KEY || !DRAMAC_SITE_ID) {
    console.error('Set DRAMAC_URL, DRAMAC_SECRET_KEY (sk_…) and DRAMAC_SITE_ID.');
    process.exit(2);
  }
  const dramac = createDramacClient({ baseUrl: DRAMAC_URL, token: DRAMAC_SECRET_KEY });
  const { created, total } = await syncFaq(dramac, DRAMAC_SITE_ID);
  console.log(`acme.faq on site ${DRAMAC_SITE_ID}: ${created} question(s) created, ${total} in all.`);
}

if (process.argv[1]?.endsWith('integrator.ts')) {
  main().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
