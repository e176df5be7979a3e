import os from 'node:os';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { crmSite, publishCrm, type CrmSite } from './support/crm.js';
import { populateAgency } from './support/fixtures.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

const ROWS = 100_000;
/** Rows per chunk of the generated upload. */
const CHUNK_ROWS = 500;

let platform: TestPlatform;
let site: CrmSite;

beforeAll(async () => {
  platform = await startTestPlatform();
  await publishCrm(platform);
  site = await crmSite(platform, 'Bulk', await populateAgency(platform, 'Bulk'));
});
afterAll(() => platform?.close());

/** The file, made as it is sent: never more than a chunk of it exists at once. */
async function* generatedCsv(): AsyncGenerator<Buffer> {
  yield Buffer.from('email,first_name,last_name,phones,tags,lifecycle_stage,company\n');
  for (let start = 0; start < ROWS; start += CHUNK_ROWS) {
    let chunk = '';
    for (let index = start; index < Math.min(start + CHUNK_ROWS, ROWS); index += 1) {
      chunk +=
        `person${index}@bulk.example,First${index},"Last, ${index}",+1 555 ${String(index).padStart(6, '0')},` +
        `bulk;t${index % 10},${index % 2 ? 'lead' : 'customer'},Company ${index % 100}\n`;
    }
    yield Buffer.from(chunk);
  }
}

const megabytes = (bytes: number) => (bytes / 1024 / 1024).toFixed(0);

describe('a large import', () => {
  it(`imports ${ROWS} generated rows streamed over HTTP, showing its progress while it runs`, async () => {
    const database = process.env.DATABASE_URL ? 'PostgreSQL' : 'the embedded database';
    const peak = { rss: 0, heap: 0 };
    const sampleMemory = () => {
      const { rss, heapUsed } = process.memoryUsage();
      peak.rss = Math.max(peak.rss, rss);
      peak.heap = Math.max(peak.heap, heapUsed);
    };
    sampleMemory();
    const before = { ...peak };
    const memoryTimer = setInterval(sampleMemory, 50);

    // Another caller watches the import's progress meanwhile (on the embedded database, between batches).
    const seen: { status: string; rows_processed: number }[] = [];
    let importing = true;
    const watching = (async () => {
      while (importing) {
        const list = await site.crm('GET', '/imports?limit=1');
        const running = list.body.data[0];
        if (running?.status === 'running') seen.push(running);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    })();

    const started = performance.now();
    const cpuBefore = process.cpuUsage();
    const response = await fetch(`${platform.url}${site.base}/imports`, {
      method: 'POST',
      headers: { authorization: `Bearer ${site.token}`, 'content-type': 'text/csv' },
      body: Readable.toWeb(Readable.from(generatedCsv())) as ReadableStream<Uint8Array>,
      duplex: 'half',
    } as RequestInit);
    const result = await response.json();
    const seconds = (performance.now() - started) / 1000;
    const cpu = process.cpuUsage(cpuBefore);
    importing = false;
    clearInterval(memoryTimer);
    sampleMemory();
    await watching;
    console.log(
      `${ROWS} rows imported on ${database} in ${seconds.toFixed(1)} s ` +
        `(this process's CPU: ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s; load average ${os.loadavg()[0]!.toFixed(1)}); ` +
        `peak RSS ${megabytes(peak.rss)} MB (${megabytes(before.rss)} MB before), ` +
        `heap ${megabytes(peak.heap)} MB (${megabytes(before.heap)} MB before)`,
    );

    expect(response.status, JSON.stringify(result)).toBe(201);
    expect(result).toMatchObject({
      status: 'done',
      file_bytes: null,
      rows_processed: ROWS,
      rows_created: ROWS,
      rows_updated: 0,
      rows_unchanged: 0,
      rows_failed: 0,
      errors: [],
    });
    const count = async (table: string) =>
      Number(
        ((await platform.db.knex(table).where({ site_id: site.siteId }).count('* as n')) as { n: number }[])[0]!.n,
      );
    expect(await count('mod_crm.contacts')).toBe(ROWS);
    expect(await count('mod_crm.contact_emails')).toBe(ROWS);
    expect(await count('mod_crm.companies')).toBe(100);
    const last = await site.crm('GET', `/contacts?q=${encodeURIComponent(`person${ROWS - 1}@bulk.example`)}`);
    expect(last.body.data).toMatchObject([
      { first_name: `First${ROWS - 1}`, last_name: `Last, ${ROWS - 1}`, tags: ['bulk', 't9'], source: 'import' },
    ]);

    // Progress was visible while it ran: counts that grew, a batch at a time.
    console.log(`progress seen while running: ${seen.map((sample) => sample.rows_processed).join(', ')}`);
    expect(seen.length).toBeGreaterThanOrEqual(2);
    const counts = seen.map((sample) => sample.rows_processed);
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBeGreaterThan(counts[0]!);
    expect(counts.every((rows) => rows % 1000 === 0 && rows < ROWS)).toBe(true);
  }, 180_000);
});
