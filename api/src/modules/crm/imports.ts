import { Transform } from 'node:stream';
import type { Request } from 'express';
import { CsvError, parse } from 'csv-parse';
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import type { InTenant, Principal, Schemas } from '../../http/operations.js';
import { badRequest, notFound, Problem } from '../../http/problem.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import { CONTACT_COLUMNS, crmSite, type ContactRow, type CrmContext } from './contacts.js';
import { fieldsOf, type CustomValue, type FieldRow } from './custom-fields.js';
import { readHeader, readRow, type Column, type RowFields, type RowProblem } from './csv.js';

/**
 * CSV imports of contacts (docs/decisions/0015-crm-imports.md). The request's body is read as it arrives, a
 * batch of rows at a time, and each batch is committed in a transaction of its own together with the
 * import's counters — never one transaction for the whole file, which would hold the embedded database's
 * one connection for minutes and show no progress. Rows upsert by email address, so sending a file again
 * is safe whatever happened the first time.
 */

/** The largest file an import reads. */
export const IMPORT_BODY_LIMIT = 100 * 1024 * 1024;
/** Rows per batch (and so per transaction, and per progress step). */
export const BATCH_ROWS = 1000;
/** Rows' problems kept in the import (all are counted). */
const MAX_ERRORS = 1000;
/** A row longer than this (characters) stops the import: a quote never closed would otherwise buffer the rest. */
const MAX_ROW_CHARS = 1_000_000;
/** Attempts of a batch that lost a race with another writer (an address or a company taken meanwhile). */
const BATCH_ATTEMPTS = 3;

export type ImportBody = Schemas['CrmImport'];
type ImportError = ImportBody['errors'][number];

export const IMPORT_COLUMNS = [
  'id',
  'status',
  'file_bytes',
  'bytes_read',
  'rows_processed',
  'rows_created',
  'rows_updated',
  'rows_unchanged',
  'rows_failed',
  'errors',
  'failure',
  'created_at',
  'updated_at',
  'finished_at',
];

export function importBody(row: Record<string, unknown>): ImportBody {
  const date = (value: unknown) => (value === null ? null : new Date(value as Date).toISOString());
  return {
    id: row.id as string,
    status: row.status as ImportBody['status'],
    // bigint columns come back as strings
    file_bytes: row.file_bytes === null ? null : Number(row.file_bytes),
    bytes_read: Number(row.bytes_read),
    rows_processed: row.rows_processed as number,
    rows_created: row.rows_created as number,
    rows_updated: row.rows_updated as number,
    rows_unchanged: row.rows_unchanged as number,
    rows_failed: row.rows_failed as number,
    errors: row.errors as ImportError[],
    failure: row.failure as string | null,
    created_at: date(row.created_at)!,
    updated_at: date(row.updated_at)!,
    finished_at: date(row.finished_at),
  };
}

export async function importOf(tx: Knex.Transaction, siteId: string, importId: string): Promise<ImportBody> {
  const row = (await tx('mod_crm.imports').where({ site_id: siteId, id: importId }).first(IMPORT_COLUMNS)) as
    Record<string, unknown> | undefined;
  if (!row) throw notFound('import');
  return importBody(row);
}

/** A contact as an import sees it: what a row may change. */
interface Draft {
  first_name: string;
  last_name: string;
  emails: string[];
  phones: string[];
  tags: string[];
  lifecycle_stage: string;
  company_id: string | null;
  custom: Record<string, CustomValue>;
}

const DRAFT_KEYS = [
  'first_name',
  'last_name',
  'emails',
  'phones',
  'tags',
  'lifecycle_stage',
  'company_id',
  'custom',
] as const;

const union = (first: readonly string[], second: readonly string[] | undefined) =>
  second ? [...new Set([...first, ...second])] : [...first];

/** Same JSON, whatever the order of an object's keys. */
function sameValue(a: unknown, b: unknown): boolean {
  if (Array.isArray(a) || Array.isArray(b) || a === null || b === null || typeof a !== 'object') {
    return JSON.stringify(a) === JSON.stringify(b);
  }
  const keys = Object.keys(a as object);
  return (
    keys.length === Object.keys(b as object).length &&
    keys.every((key) => sameValue((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]))
  );
}

const sameDraft = (a: Draft, b: Draft) => DRAFT_KEYS.every((key) => sameValue(a[key], b[key]));

/** What a row makes of a contact: its lists grow, names, stage and company are replaced, custom values combined. */
function applyRow(current: Draft, row: RowFields, companyId: string | undefined): Draft {
  return {
    first_name: row.first_name ?? current.first_name,
    last_name: row.last_name ?? current.last_name,
    emails: union(current.emails, row.emails),
    phones: union(current.phones, row.phones),
    tags: union(current.tags, row.tags),
    lifecycle_stage: row.lifecycle_stage ?? current.lifecycle_stage,
    company_id: companyId ?? current.company_id,
    custom: row.custom ? { ...current.custom, ...row.custom } : current.custom,
  };
}

/** What the API takes of a contact's lists (CrmContactCreate): a row that would grow one past it fails. */
const LIMITS = { emails: 10, phones: 10, tags: 50 } as const;

function overLimit(draft: Draft): RowProblem | null {
  for (const [column, most] of Object.entries(LIMITS) as [keyof typeof LIMITS, number][]) {
    if (draft[column].length > most) {
      return { column, message: `${column} would give the contact more than ${most} (it has ${draft[column].length})` };
    }
  }
  return null;
}

const EMPTY: Draft = {
  first_name: '',
  last_name: '',
  emails: [],
  phones: [],
  tags: [],
  lifecycle_stage: 'lead',
  company_id: null,
  custom: {},
};

interface ParsedRow {
  row: number;
  fields: RowFields | RowProblem;
}

interface BatchOutcome {
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  errors: ImportError[];
}

interface Job {
  id: string;
  agencyId: string;
  siteId: string;
  fields: ReadonlyMap<string, FieldRow>;
}

const isProblem = (fields: RowFields | RowProblem): fields is RowProblem => 'message' in fields;

/**
 * Writes one batch of rows: each row matched by its addresses to a contact (of the site, or created earlier in
 * the batch), contacts created and changed with a few multi-row statements, a timeline line each.
 */
async function writeBatch(tx: Knex.Transaction, job: Job, batch: readonly ParsedRow[]): Promise<BatchOutcome> {
  const outcome: BatchOutcome = { created: 0, updated: 0, unchanged: 0, failed: 0, errors: [] };
  const fail = (row: number, problem: RowProblem) => {
    outcome.failed += 1;
    outcome.errors.push({ row, column: problem.column, message: problem.message });
  };
  const rows = batch.filter((parsed): parsed is { row: number; fields: RowFields } => !isProblem(parsed.fields));
  const emails = [...new Set(rows.flatMap((parsed) => parsed.fields.emails))];
  const owners = new Map<string, string>(
    (
      (await tx('mod_crm.contact_emails')
        .where({ site_id: job.siteId })
        .whereRaw('email = ANY(?::text[])', [emails])
        .select('email', 'contact_id')) as { email: string; contact_id: string }[]
    ).map((row) => [row.email, row.contact_id]),
  );
  const existing = new Map<string, Draft>();
  const ids = [...new Set(owners.values())].sort();
  if (ids.length > 0) {
    // Locked in id order, as merges lock, so that two writers never wait for each other in a circle.
    const found = (await tx('mod_crm.contacts')
      .where({ site_id: job.siteId })
      .whereIn('id', ids)
      .orderBy('id')
      .forUpdate()
      .select(CONTACT_COLUMNS)) as ContactRow[];
    for (const contact of found) existing.set(contact.id, contact as unknown as Draft);
  }
  // Companies by name (case-insensitive): the site's oldest of that name, or one the batch creates.
  const names = [...new Set(rows.flatMap((parsed) => (parsed.fields.company ? [parsed.fields.company] : [])))];
  const companies = new Map<string, string>();
  if (names.length > 0) {
    const found = (await tx('mod_crm.companies')
      .where({ site_id: job.siteId })
      .whereRaw('lower(name) = ANY(?::text[])', [names.map((name) => name.toLowerCase())])
      .orderBy(['created_at', 'id'])
      .select('id', 'name')) as { id: string; name: string }[];
    for (const company of found.reverse()) companies.set(company.name.toLowerCase(), company.id);
  }
  const newCompanies: { id: string; name: string }[] = [];

  const created = new Map<string, Draft>();
  const changed = new Map<string, Draft>();
  for (const parsed of batch) {
    if (isProblem(parsed.fields)) {
      fail(parsed.row, parsed.fields);
      continue;
    }
    const fields = parsed.fields;
    const matches = [...new Set(fields.emails.flatMap((email) => owners.get(email) ?? []))];
    if (matches.length > 1) {
      fail(parsed.row, {
        column: 'emails',
        message: `emails belong to different contacts (${matches.join(', ')}): merge them first`,
      });
      continue;
    }
    const id = matches[0];
    if (id === undefined) {
      const missing = [...job.fields.values()].find(
        (field) => field.required && (fields.custom?.[field.key] ?? null) === null,
      );
      if (missing) {
        fail(parsed.row, { column: `custom.${missing.key}`, message: `custom.${missing.key} is required` });
        continue;
      }
    }
    let companyId: string | undefined;
    if (fields.company) {
      const key = fields.company.toLowerCase();
      companyId = companies.get(key);
      if (companyId === undefined) {
        companyId = uuidv7();
        companies.set(key, companyId);
        newCompanies.push({ id: companyId, name: fields.company });
      }
    }
    if (id === undefined) {
      const contactId = uuidv7();
      created.set(contactId, applyRow(EMPTY, fields, companyId));
      for (const email of fields.emails) owners.set(email, contactId);
      outcome.created += 1;
      continue;
    }
    const current = created.get(id) ?? changed.get(id) ?? existing.get(id);
    // Deleted between the two reads: the batch starts again (see RACES).
    if (!current) throw Object.assign(new Error('a contact went away during an import batch'), { code: '40001' });
    const next = applyRow(current, fields, companyId);
    const over = overLimit(next);
    if (over) {
      fail(parsed.row, over);
      continue;
    }
    for (const email of fields.emails) owners.set(email, id);
    if (sameDraft(current, next)) {
      outcome.unchanged += 1;
    } else {
      (created.has(id) ? created : changed).set(id, next);
      outcome.updated += 1;
    }
  }

  // Multi-row statements whose rows travel as one JSON parameter (far cheaper than thousands of bind
  // parameters, for the driver and the server alike).
  const rowsOf = (rows: readonly object[]) => JSON.stringify(rows);
  const tenant = [job.agencyId, job.siteId];
  if (newCompanies.length > 0) {
    await tx.raw(
      `INSERT INTO mod_crm.companies (id, agency_id, site_id, name)
       SELECT v.id, ?, ?, v.name FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, name text)`,
      [...tenant, rowsOf(newCompanies)],
    );
  }
  if (created.size > 0) {
    await tx.raw(
      `INSERT INTO mod_crm.contacts (id, agency_id, site_id, first_name, last_name, emails, phones, tags,
              lifecycle_stage, company_id, custom, source)
       SELECT v.id, ?, ?, v.first_name, v.last_name, v.emails, v.phones, v.tags, v.lifecycle_stage, v.company_id,
              v.custom, 'import'
         FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, first_name text, last_name text, emails text[],
              phones text[], tags text[], lifecycle_stage text, company_id uuid, custom jsonb)`,
      [...tenant, rowsOf([...created].map(([id, draft]) => ({ id, ...draft })))],
    );
  }
  const newEmails = [
    ...[...created].flatMap(([id, draft]) => draft.emails.map((email) => ({ contact_id: id, email }))),
    ...[...changed].flatMap(([id, draft]) =>
      draft.emails
        .filter((email) => !existing.get(id)!.emails.includes(email))
        .map((email) => ({ contact_id: id, email })),
    ),
  ];
  if (newEmails.length > 0) {
    await tx.raw(
      `INSERT INTO mod_crm.contact_emails (agency_id, site_id, contact_id, email)
       SELECT ?, ?, v.contact_id, v.email FROM jsonb_to_recordset(?::jsonb) AS v(contact_id uuid, email text)`,
      [...tenant, rowsOf(newEmails)],
    );
  }
  if (changed.size > 0) {
    await tx.raw(
      `UPDATE mod_crm.contacts AS c
          SET first_name = v.first_name, last_name = v.last_name, emails = v.emails, phones = v.phones,
              tags = v.tags, lifecycle_stage = v.lifecycle_stage, company_id = v.company_id, custom = v.custom,
              updated_at = now()
         FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, first_name text, last_name text, emails text[],
              phones text[], tags text[], lifecycle_stage text, company_id uuid, custom jsonb)
        WHERE c.site_id = ? AND c.id = v.id`,
      [rowsOf([...changed].map(([id, draft]) => ({ id, ...draft }))), job.siteId],
    );
  }
  const lines = [
    ...[...created.keys()].map((id) => ({
      id: uuidv7(),
      contact_id: id,
      type: 'contact.created',
      summary: 'Contact created (import)',
      data: { source: 'import', import_id: job.id },
    })),
    ...[...changed.keys()].map((id) => ({
      id: uuidv7(),
      contact_id: id,
      type: 'contact.updated',
      summary: 'Updated by an import',
      data: { import_id: job.id },
    })),
  ];
  if (lines.length > 0) {
    await tx.raw(
      `INSERT INTO mod_crm.timeline (id, agency_id, site_id, contact_id, type, summary, data)
       SELECT v.id, ?, ?, v.contact_id, v.type, v.summary, v.data
         FROM jsonb_to_recordset(?::jsonb) AS v(id uuid, contact_id uuid, type text, summary text, data jsonb)`,
      [...tenant, rowsOf(lines)],
    );
  }
  return outcome;
}

/** Postgres errors of a batch that lost a race (unique violation, deadlock): the batch is tried again. */
const RACES = new Set(['23505', '40P01', '40001']);

/**
 * Reads a CSV request body into the site's contacts; returns the import's id once the body has been read to
 * its end (or the import failed). Runs before the request's own transaction (a handler's `prepare`): the
 * caller is already authenticated; each step here is a short transaction of its own in the caller's tenant.
 */
export async function runImport(input: {
  request: Request;
  siteId: string;
  principal: Principal;
  inTenant: InTenant;
}): Promise<string> {
  const { request, siteId, inTenant } = input;
  const encoding = request.get('content-encoding');
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new Problem(415, 'unsupported_media_type', 'Unsupported media type', 'Send the file uncompressed.');
  }
  const length = request.get('content-length');
  const fileBytes = length === undefined ? null : Number(length);
  if (fileBytes !== null && fileBytes > IMPORT_BODY_LIMIT) throw tooLarge(request);
  const fields = await inTenant(async (tx) => {
    await crmSite(tx, siteId);
    return fieldsOf(tx, siteId, 'contact');
  });

  let bytesRead = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      bytesRead += chunk.length;
      done(bytesRead > IMPORT_BODY_LIMIT ? tooLarge(request) : null, chunk);
    },
  });
  const parser = parse({
    bom: true,
    info: true,
    relax_column_count: true,
    // A quote inside an unquoted cell (`5" screen`) is kept as it is.
    relax_quotes: true,
    skip_empty_lines: true,
    max_record_size: MAX_ROW_CHARS,
  });
  request.on('error', (error) => parser.destroy(error));
  request.on('aborted', () => parser.destroy(new Error('the upload was aborted')));
  counter.on('error', (error) => parser.destroy(error));
  request.pipe(counter).pipe(parser);
  /** Stops reading the body: the rest is left unread and the connection closed after the answer. */
  const stopReading = () => {
    request.unpipe(counter);
    request.pause();
    request.res?.set('Connection', 'close');
  };
  /**
   * Reads the rest of the body without parsing it (still within the size limit), so that the client, still
   * sending, gets the answer on a connection that stays usable.
   */
  const discardRest = () => {
    counter.unpipe(parser);
    counter.resume();
  };
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<{
    record: string[];
    info: { lines: number; empty_lines: number };
  }>;

  let header: Column[];
  // Where the last record read ended, to tell where the next starts (its row number).
  let lastLine = 0;
  let lastEmpty = 0;
  try {
    const first = await records.next();
    if (first.done) throw badRequest('empty_csv', 'The file is empty: its first row must name the columns.');
    header = readHeader(first.value.record, fields);
    lastLine = first.value.info.lines;
    lastEmpty = first.value.info.empty_lines;
  } catch (error) {
    discardRest();
    if (error instanceof CsvError)
      throw badRequest('invalid_csv_header', `The header row cannot be read: ${csvReason(error)}.`);
    throw error;
  }

  const job: Job = { id: uuidv7(), agencyId: input.principal.agencyId!, siteId, fields };
  await inTenant((tx) =>
    tx('mod_crm.imports').insert({
      id: job.id,
      agency_id: job.agencyId,
      site_id: siteId,
      file_bytes: fileBytes,
      bytes_read: bytesRead,
      created_by: input.principal.userId,
    }),
  );
  let errorsKept = 0;
  /** Commits a batch with the import's counters; with `end`, the import's end too, and its event. */
  const commit = async (batch: ParsedRow[], end?: { status: 'done' | 'failed'; failure: string | null }) => {
    for (let attempt = 1; ; attempt += 1) {
      const effects: (() => void)[] = [];
      try {
        await inTenant(async (tx) => {
          const outcome = batch.length > 0 ? await writeBatch(tx, job, batch) : null;
          const kept = outcome?.errors.slice(0, Math.max(0, MAX_ERRORS - errorsKept)) ?? [];
          const [updated] = (await tx('mod_crm.imports')
            .where({ site_id: siteId, id: job.id })
            .update(
              {
                bytes_read: bytesRead,
                rows_processed: tx.raw('rows_processed + ?', [batch.length]),
                rows_created: tx.raw('rows_created + ?', [outcome?.created ?? 0]),
                rows_updated: tx.raw('rows_updated + ?', [outcome?.updated ?? 0]),
                rows_unchanged: tx.raw('rows_unchanged + ?', [outcome?.unchanged ?? 0]),
                rows_failed: tx.raw('rows_failed + ?', [outcome?.failed ?? 0]),
                ...(kept.length > 0 && { errors: tx.raw('errors || ?::jsonb', [JSON.stringify(kept)]) }),
                updated_at: tx.fn.now(),
                ...(end && { status: end.status, failure: end.failure, finished_at: tx.fn.now() }),
              },
              IMPORT_COLUMNS,
            )) as Record<string, unknown>[];
          if (end) {
            const ctx: CrmContext = { tx, agencyId: job.agencyId, afterCommit: (effect) => effects.push(effect) };
            const body = importBody(updated!);
            await emitSiteEvent(ctx, siteId, 'crm.import.finished', {
              id: body.id,
              status: body.status,
              rows_processed: body.rows_processed,
              rows_created: body.rows_created,
              rows_updated: body.rows_updated,
              rows_unchanged: body.rows_unchanged,
              rows_failed: body.rows_failed,
            });
          }
          errorsKept += kept.length;
        });
        for (const effect of effects) effect();
        request.log?.debug({ importId: job.id, rows: batch.length, bytesRead }, 'import batch committed');
        return;
      } catch (error) {
        if (attempt >= BATCH_ATTEMPTS || !RACES.has((error as { code?: string }).code ?? '')) throw error;
      }
    }
  };

  let batch: ParsedRow[] = [];
  /** Why the file could not be read to its end, once it could not. */
  let unread: unknown = null;
  try {
    for (;;) {
      let next: IteratorResult<{ record: string[]; info: { lines: number; empty_lines: number } }>;
      try {
        next = await records.next();
      } catch (error) {
        unread = error;
        break;
      }
      if (next.done) break;
      const { record, info } = next.value;
      const row = lastLine + 1 + (info.empty_lines - lastEmpty);
      lastLine = info.lines;
      lastEmpty = info.empty_lines;
      // A row of empty cells (",,,", as spreadsheets write below their data) is no row.
      if (record.every((cell) => cell.trim() === '')) continue;
      batch.push({ row, fields: readRow(header, record) });
      if (batch.length >= BATCH_ROWS) {
        await commit(batch);
        batch = [];
      }
    }
  } catch (error) {
    // The database failed: the import says so (if it can), and the request fails as any would.
    stopReading();
    await commit([], { status: 'failed', failure: 'The import stopped on an error on our side.' }).catch(() => {});
    throw error;
  }
  if (unread === null) {
    await commit(batch, { status: 'done', failure: null });
    return job.id;
  }
  // The rows read before the failure are whole rows: they go in, and the import says where it stopped.
  const row = lastLine + 1;
  if (unread instanceof CsvError) {
    discardRest();
    await commit(batch, { status: 'failed', failure: `Row ${row} cannot be read: ${csvReason(unread)}.` });
    return job.id;
  }
  const tooBig = unread instanceof Problem && unread.status === 413;
  await commit(batch, {
    status: 'failed',
    failure: tooBig
      ? `The file is larger than ${IMPORT_BODY_LIMIT / 1024 / 1024} MB: it was read up to row ${row - 1}.`
      : `The upload broke off: the file was read up to row ${row - 1}.`,
  });
  if (tooBig) throw unread;
  throw badRequest('upload_incomplete', 'The upload broke off before the end of the file.');
}

function tooLarge(request: Request): Problem {
  request.res?.set('Connection', 'close');
  return new Problem(
    413,
    'payload_too_large',
    'Payload too large',
    `The file is larger than an import accepts (${IMPORT_BODY_LIMIT / 1024 / 1024} MB): split it.`,
  );
}

/** Why csv-parse could not read on, for people (its own messages quote the data). */
function csvReason(error: CsvError): string {
  switch (error.code) {
    case 'CSV_QUOTE_NOT_CLOSED':
      return 'a quote opens a cell and is never closed';
    case 'CSV_INVALID_CLOSING_QUOTE':
      return 'a quoted cell has more text after its closing quote';
    case 'CSV_MAX_RECORD_SIZE':
      return `the row is longer than ${MAX_ROW_CHARS} characters (is a quote never closed?)`;
    default:
      return `the CSV is malformed (${error.code})`;
  }
}
