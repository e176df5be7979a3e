import type { Knex } from 'knex';
import { APP_ROLE, guardSiteTables, OF_SITE, runAll } from './sql.js';

const SCHEMA = 'mod_crm';
const TABLES = [
  'pipelines',
  'stages',
  'companies',
  'contacts',
  'contact_emails',
  'deals',
  'activities',
  'custom_fields',
  'timeline',
  'merges',
  'erasures',
  'imports',
  'form_submissions',
];

const TIMES = `created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now()`;

/**
 * The CRM module's tables (first-party, named by its manifest). Like every module's data they belong to a site
 * (uninstalling, purging and row-level security work on them as on collections). Search is a `tsvector` kept
 * by a trigger (a contact's emails live in their own table, so a generated column cannot see them); a contact's
 * normalised emails are unique per site, which is what deduplication rests on. See
 * docs/decisions/0014-crm-module.md.
 */
export async function up(knex: Knex): Promise<void> {
  await runAll(knex, [
    `CREATE SCHEMA ${SCHEMA}`,
    `GRANT USAGE ON SCHEMA ${SCHEMA} TO ${APP_ROLE}`,
    `CREATE TABLE ${SCHEMA}.pipelines (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       name text NOT NULL,
       position integer NOT NULL DEFAULT 0,
       ${TIMES},
       ${OF_SITE},
       UNIQUE (site_id, id))`,
    // Stages are ordered; `won` and `lost` close a deal.
    `CREATE TABLE ${SCHEMA}.stages (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       pipeline_id uuid NOT NULL,
       name text NOT NULL,
       position integer NOT NULL,
       kind text NOT NULL DEFAULT 'open' CHECK (kind IN ('open', 'won', 'lost')),
       probability integer CHECK (probability BETWEEN 0 AND 100),
       ${TIMES},
       UNIQUE (site_id, id),
       UNIQUE (pipeline_id, id),
       FOREIGN KEY (site_id, pipeline_id) REFERENCES ${SCHEMA}.pipelines (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX stages_pipeline ON ${SCHEMA}.stages (pipeline_id, position)`,
    `CREATE TABLE ${SCHEMA}.companies (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       name text NOT NULL,
       domain text,
       owner_id uuid,
       custom jsonb NOT NULL DEFAULT '{}',
       search tsvector NOT NULL DEFAULT ''::tsvector,
       ${TIMES},
       ${OF_SITE},
       UNIQUE (site_id, id))`,
    `CREATE UNIQUE INDEX companies_domain ON ${SCHEMA}.companies (site_id, domain) WHERE domain IS NOT NULL`,
    `CREATE INDEX companies_site ON ${SCHEMA}.companies (site_id, updated_at, id)`,
    `CREATE INDEX companies_search ON ${SCHEMA}.companies USING gin (search)`,
    `CREATE TABLE ${SCHEMA}.contacts (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       first_name text NOT NULL DEFAULT '',
       last_name text NOT NULL DEFAULT '',
       emails text[] NOT NULL DEFAULT '{}',
       phones text[] NOT NULL DEFAULT '{}',
       company_id uuid,
       owner_id uuid,
       tags text[] NOT NULL DEFAULT '{}',
       lifecycle_stage text NOT NULL DEFAULT 'lead',
       source text NOT NULL DEFAULT 'api',
       consent jsonb,
       custom jsonb NOT NULL DEFAULT '{}',
       search tsvector NOT NULL DEFAULT ''::tsvector,
       ${TIMES},
       ${OF_SITE},
       UNIQUE (site_id, id),
       FOREIGN KEY (site_id, company_id) REFERENCES ${SCHEMA}.companies (site_id, id) ON DELETE SET NULL (company_id))`,
    // The list's orders: newest first by default, recently changed, by surname.
    `CREATE INDEX contacts_created ON ${SCHEMA}.contacts (site_id, created_at, id)`,
    `CREATE INDEX contacts_updated ON ${SCHEMA}.contacts (site_id, updated_at, id)`,
    `CREATE INDEX contacts_last_name ON ${SCHEMA}.contacts (site_id, last_name, id)`,
    `CREATE INDEX contacts_company ON ${SCHEMA}.contacts (company_id)`,
    `CREATE INDEX contacts_search ON ${SCHEMA}.contacts USING gin (search)`,
    `CREATE INDEX contacts_tags ON ${SCHEMA}.contacts USING gin (tags)`,
    // One row per address of a contact: the normalised form is unique per site, so two contacts never share one.
    `CREATE TABLE ${SCHEMA}.contact_emails (
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       contact_id uuid NOT NULL,
       email text NOT NULL,
       PRIMARY KEY (site_id, email),
       FOREIGN KEY (site_id, contact_id) REFERENCES ${SCHEMA}.contacts (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX contact_emails_contact ON ${SCHEMA}.contact_emails (contact_id)`,
    `CREATE TABLE ${SCHEMA}.deals (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       name text NOT NULL,
       amount_minor bigint NOT NULL DEFAULT 0 CHECK (amount_minor >= 0),
       currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
       pipeline_id uuid NOT NULL,
       stage_id uuid NOT NULL,
       position double precision NOT NULL DEFAULT 0,
       owner_id uuid,
       contact_id uuid,
       company_id uuid,
       expected_close_date date,
       closed_at timestamptz,
       custom jsonb NOT NULL DEFAULT '{}',
       search tsvector NOT NULL DEFAULT ''::tsvector,
       ${TIMES},
       ${OF_SITE},
       UNIQUE (site_id, id),
       FOREIGN KEY (pipeline_id, stage_id) REFERENCES ${SCHEMA}.stages (pipeline_id, id),
       FOREIGN KEY (site_id, contact_id) REFERENCES ${SCHEMA}.contacts (site_id, id) ON DELETE SET NULL (contact_id),
       FOREIGN KEY (site_id, company_id) REFERENCES ${SCHEMA}.companies (site_id, id) ON DELETE SET NULL (company_id))`,
    `CREATE INDEX deals_site ON ${SCHEMA}.deals (site_id, updated_at, id)`,
    `CREATE INDEX deals_stage ON ${SCHEMA}.deals (stage_id, position)`,
    `CREATE INDEX deals_contact ON ${SCHEMA}.deals (contact_id)`,
    `CREATE INDEX deals_company ON ${SCHEMA}.deals (company_id)`,
    `CREATE INDEX deals_search ON ${SCHEMA}.deals USING gin (search)`,
    // Notes, tasks (due, assigned, done) and logged calls and meetings, of a contact, a company or a deal.
    `CREATE TABLE ${SCHEMA}.activities (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       kind text NOT NULL CHECK (kind IN ('note', 'task', 'call', 'meeting')),
       subject text NOT NULL DEFAULT '',
       body text NOT NULL DEFAULT '',
       contact_id uuid,
       company_id uuid,
       deal_id uuid,
       due_at timestamptz,
       assignee_id uuid,
       completed_at timestamptz,
       occurred_at timestamptz NOT NULL DEFAULT now(),
       duration_minutes integer CHECK (duration_minutes >= 0),
       created_by uuid,
       ${TIMES},
       ${OF_SITE},
       UNIQUE (site_id, id),
       CHECK (contact_id IS NOT NULL OR company_id IS NOT NULL OR deal_id IS NOT NULL),
       FOREIGN KEY (site_id, contact_id) REFERENCES ${SCHEMA}.contacts (site_id, id) ON DELETE CASCADE,
       FOREIGN KEY (site_id, company_id) REFERENCES ${SCHEMA}.companies (site_id, id) ON DELETE CASCADE,
       FOREIGN KEY (site_id, deal_id) REFERENCES ${SCHEMA}.deals (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX activities_contact ON ${SCHEMA}.activities (contact_id, occurred_at)`,
    `CREATE INDEX activities_company ON ${SCHEMA}.activities (company_id, occurred_at)`,
    `CREATE INDEX activities_deal ON ${SCHEMA}.activities (deal_id, occurred_at)`,
    `CREATE INDEX activities_open_tasks ON ${SCHEMA}.activities (site_id, due_at) WHERE kind = 'task' AND completed_at IS NULL`,
    `CREATE INDEX activities_site ON ${SCHEMA}.activities (site_id, occurred_at, id)`,
    `CREATE TABLE ${SCHEMA}.custom_fields (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       entity text NOT NULL CHECK (entity IN ('contact', 'company', 'deal')),
       key text NOT NULL CHECK (key ~ '^[a-z][a-z0-9_]{0,39}$'),
       label text NOT NULL,
       type text NOT NULL CHECK (type IN ('text', 'number', 'date', 'boolean', 'select')),
       options text[] NOT NULL DEFAULT '{}',
       required boolean NOT NULL DEFAULT false,
       position integer NOT NULL DEFAULT 0,
       ${TIMES},
       ${OF_SITE},
       UNIQUE (site_id, entity, key))`,
    // What happened to a contact: the CRM's own changes, its activities (a line each, which goes with the
    // activity however that is deleted) and other modules' events (bookings, orders, chats).
    `CREATE TABLE ${SCHEMA}.timeline (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       contact_id uuid NOT NULL,
       type text NOT NULL,
       summary text NOT NULL,
       data jsonb NOT NULL DEFAULT '{}',
       occurred_at timestamptz NOT NULL DEFAULT now(),
       event_id uuid,
       activity_id uuid,
       FOREIGN KEY (site_id, contact_id) REFERENCES ${SCHEMA}.contacts (site_id, id) ON DELETE CASCADE,
       FOREIGN KEY (site_id, activity_id) REFERENCES ${SCHEMA}.activities (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX timeline_contact ON ${SCHEMA}.timeline (contact_id, occurred_at, id)`,
    `CREATE UNIQUE INDEX timeline_activity ON ${SCHEMA}.timeline (activity_id)`,
    // An outbox event lands in a contact's timeline once, however often it is delivered (nulls never clash).
    `CREATE UNIQUE INDEX timeline_event ON ${SCHEMA}.timeline (site_id, event_id)`,
    // A merge keeps what the merged contact was, so that it can be audited; it goes with the contact kept
    // (the snapshot is that person's data too).
    `CREATE TABLE ${SCHEMA}.merges (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       kept_contact_id uuid NOT NULL,
       merged_contact_id uuid NOT NULL,
       merged_contact jsonb NOT NULL,
       merged_by uuid,
       created_at timestamptz NOT NULL DEFAULT now(),
       ${OF_SITE},
       FOREIGN KEY (site_id, kept_contact_id) REFERENCES ${SCHEMA}.contacts (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX merges_kept ON ${SCHEMA}.merges (kept_contact_id)`,
    // An erasure on request (GDPR art. 17), recorded without anything personal: which contact, when, by whom.
    `CREATE TABLE ${SCHEMA}.erasures (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       contact_id uuid NOT NULL,
       erased_by uuid,
       created_at timestamptz NOT NULL DEFAULT now(),
       ${OF_SITE})`,
    // A CSV import, committed batch by batch: the counters and errors of a batch are written in its
    // transaction, so `rows_processed` says exactly which rows are in (see docs/decisions/0015-crm-imports.md).
    `CREATE TABLE ${SCHEMA}.imports (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'done', 'failed')),
       file_bytes bigint,
       bytes_read bigint NOT NULL DEFAULT 0,
       rows_processed integer NOT NULL DEFAULT 0,
       rows_created integer NOT NULL DEFAULT 0,
       rows_updated integer NOT NULL DEFAULT 0,
       rows_unchanged integer NOT NULL DEFAULT 0,
       rows_failed integer NOT NULL DEFAULT 0,
       errors jsonb NOT NULL DEFAULT '[]',
       failure text,
       created_by uuid,
       ${TIMES},
       finished_at timestamptz,
       ${OF_SITE})`,
    `CREATE INDEX imports_site ON ${SCHEMA}.imports (site_id, created_at, id)`,
    `CREATE TABLE ${SCHEMA}.form_submissions (
       id uuid PRIMARY KEY,
       agency_id uuid NOT NULL,
       site_id uuid NOT NULL,
       contact_id uuid NOT NULL,
       fields jsonb NOT NULL,
       page_url text,
       utm jsonb NOT NULL DEFAULT '{}',
       created_at timestamptz NOT NULL DEFAULT now(),
       FOREIGN KEY (site_id, contact_id) REFERENCES ${SCHEMA}.contacts (site_id, id) ON DELETE CASCADE)`,
    `CREATE INDEX form_submissions_contact ON ${SCHEMA}.form_submissions (contact_id)`,
    // Row-level security lets a query's own conditions into an index scan only if their functions are
    // leakproof (a condition must not see rows the policy hides before the policy has). '@@' is not marked so,
    // though it only answers true or false, and without its GIN index every search reads every contact of the
    // site. Marking it takes a superuser (as migrations run here); without one searches still work, slower.
    `DO $$ BEGIN
       IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
         ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) LEAKPROOF;
       ELSE
         RAISE NOTICE 'not a superuser: ts_match_vq stays not leakproof, and CRM searches scan';
       END IF;
     END $$`,
    // Search vectors: 'simple' (no stemming, any language), weighted so names rank above the rest.
    // A text as words twice: as the parser cuts it (an address, a domain, "booking.com", "v2.0" as one word) and
    // cut at every character that is not a letter or digit, as a search's words are (search.ts: prefixQuery).
    `CREATE FUNCTION ${SCHEMA}.words(value text) RETURNS text LANGUAGE sql IMMUTABLE AS $$
       SELECT coalesce(value, '') || ' ' || regexp_replace(coalesce(value, ''), '[^[:alnum:]]+', ' ', 'g')
     $$`,
    `CREATE FUNCTION ${SCHEMA}.contact_search() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       NEW.search :=
         setweight(to_tsvector('simple', ${SCHEMA}.words(NEW.first_name || ' ' || NEW.last_name)), 'A') ||
         setweight(to_tsvector('simple', ${SCHEMA}.words(array_to_string(NEW.emails, ' '))), 'B') ||
         -- Phone numbers also as bare digits, as people type them ("+49 30 123" → 4930123).
         setweight(to_tsvector('simple', ${SCHEMA}.words(array_to_string(NEW.phones, ' ')) || ' ' ||
           (SELECT coalesce(string_agg(regexp_replace(phone, '[^0-9]', '', 'g'), ' '), '') FROM unnest(NEW.phones) phone) || ' ' ||
           ${SCHEMA}.words(array_to_string(NEW.tags, ' '))), 'C');
       RETURN NEW;
     END $$`,
    `CREATE TRIGGER contact_search BEFORE INSERT OR UPDATE ON ${SCHEMA}.contacts
       FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.contact_search()`,
    `CREATE FUNCTION ${SCHEMA}.company_search() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       NEW.search := setweight(to_tsvector('simple', ${SCHEMA}.words(NEW.name)), 'A') ||
         setweight(to_tsvector('simple', ${SCHEMA}.words(NEW.domain)), 'B');
       RETURN NEW;
     END $$`,
    `CREATE TRIGGER company_search BEFORE INSERT OR UPDATE ON ${SCHEMA}.companies
       FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.company_search()`,
    `CREATE FUNCTION ${SCHEMA}.deal_search() RETURNS trigger LANGUAGE plpgsql AS $$
     BEGIN
       NEW.search := setweight(to_tsvector('simple', ${SCHEMA}.words(NEW.name)), 'A');
       RETURN NEW;
     END $$`,
    `CREATE TRIGGER deal_search BEFORE INSERT OR UPDATE ON ${SCHEMA}.deals
       FOR EACH ROW EXECUTE FUNCTION ${SCHEMA}.deal_search()`,
    ...guardSiteTables(SCHEMA, TABLES),
  ]);
}

export async function down(knex: Knex): Promise<void> {
  await runAll(knex, [
    `DROP SCHEMA ${SCHEMA} CASCADE`,
    `DO $$ BEGIN
       IF (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) THEN
         ALTER FUNCTION pg_catalog.ts_match_vq(tsvector, tsquery) NOT LEAKPROOF;
       END IF;
     END $$`,
  ]);
}
