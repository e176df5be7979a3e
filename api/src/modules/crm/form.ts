/**
 * The CRM's lead form: what `<dm-contact-form>` posts with the site's publishable key. The install's
 * `dm-contact-form` settings decide which fields the form has; whatever else arrives is refused with a 400
 * naming the field, and what the spam checks catch is answered as if received and stored nowhere.
 */
import type { Knex } from 'knex';
import { v7 as uuidv7 } from 'uuid';
import { withPreparation, type Context, type Handlers, type Schemas } from '../../http/operations.js';
import { normalizeOrigin } from '../../http/origins.js';
import { badRequest, invalidField, Problem } from '../../http/problem.js';
import { emitSiteEvent } from '../../webhooks/outbox.js';
import { recordValidator } from '../json-schema.js';
import type { Manifest } from '../manifest.js';
import {
  addTimeline,
  contactByEmail,
  insertContact,
  MODULE_ID,
  normalizeEmail,
  updateContact,
  type ContactBody,
  type ContactFields,
  type ContactRow,
  type CrmContext,
} from './contacts.js';

export const FORM_TAG = 'dm-contact-form';

/** A form sent sooner than this after it appeared was not filled in by a person. */
export const MIN_FILL_MS = 2000;

/**
 * The consent sentence `<dm-contact-form>` shows when the settings give none, in each of its languages: what
 * the visitor agreed to, recorded in these words. components/src/crm/messages.ts says the same (a test checks).
 */
export const DEFAULT_CONSENT_TEXT = {
  en: 'I agree that my details are stored and used to answer my request.',
  de: 'Ich bin damit einverstanden, dass meine Angaben gespeichert und zur Beantwortung meiner Anfrage verwendet werden.',
} as const;

type Submission = Schemas['CrmFormSubmission'];
type FieldName = keyof Submission['fields'];

export interface FormSettings {
  fields: { name: FieldName; label?: string; required?: boolean }[];
  consent: { enabled: boolean; text?: string; required: boolean };
  tags: string[];
  lifecycle_stage: ContactBody['lifecycle_stage'];
}

/** What an install without settings of its own gets (the manifest's defaults say the same). */
const DEFAULT_FIELDS: FormSettings['fields'] = [
  { name: 'first_name' },
  { name: 'last_name' },
  { name: 'email', required: true },
  { name: 'message' },
];

/** An HTML tag's beginning: `<` then a letter, `/`, `!` or `?` (`<script`, `</b`, `<!--`, `<?xml`). */
const MARKUP = /<[a-zA-Z!/?]/;
const MARKUP_MESSAGE = 'contains markup (an HTML tag such as <script> or <img>); send plain text';

/**
 * The site's form settings with the installed version's defaults filled in: the manifest's schema is the
 * truth, so an install made before a setting existed gets its default too. 404 without the CRM.
 */
export async function formSettings(tx: Knex.Transaction, siteId: string): Promise<FormSettings> {
  const install = (await tx('installs')
    .where({ site_id: siteId, module_id: MODULE_ID, status: 'active' })
    .first('settings', 'version')) as { settings: Schemas['InstallSettings']; version: string } | undefined;
  if (!install)
    throw new Problem(404, 'module_not_installed', 'Not found', 'The CRM module is not installed on this site.');
  const version = (await tx('module_versions')
    .where({ module_id: MODULE_ID, version: install.version })
    .first(tx.raw(`manifest -> 'elements' AS elements`))) as { elements: Manifest['elements'] } | undefined;
  const schema = version?.elements?.find((element) => element.tag === FORM_TAG)?.settings ?? {};
  const given = (install.settings[FORM_TAG] ?? {}) as Record<string, unknown>;
  const validated = recordValidator(schema)(given);
  const settings = (validated.valid ? validated.value : given) as Partial<FormSettings>;
  return {
    fields: settings.fields?.length ? settings.fields : DEFAULT_FIELDS,
    consent: { enabled: false, required: true, ...settings.consent },
    tags: settings.tags ?? [],
    lifecycle_stage: settings.lifecycle_stage ?? 'lead',
  };
}

/** Every problem with the submission that the schema could not know: the site's form decides. */
function checkSubmission(body: Submission, settings: FormSettings): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = [];
  const offered = new Map<string, boolean>();
  for (const field of settings.fields) {
    if (!offered.has(field.name)) offered.set(field.name, field.name === 'email' || field.required === true);
  }
  const fields = body.fields as Record<string, string | undefined>;
  for (const [name, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    if (!offered.has(name)) errors.push({ path: `/body/fields/${name}`, message: 'is not a field of this form' });
    else if (MARKUP.test(value)) errors.push({ path: `/body/fields/${name}`, message: MARKUP_MESSAGE });
  }
  for (const [name, required] of offered) {
    if (required && !fields[name]?.trim()) errors.push({ path: `/body/fields/${name}`, message: 'is required' });
  }
  if (!settings.consent.enabled && body.consent !== undefined) {
    errors.push({ path: '/body/consent', message: 'is not asked for by this form' });
  } else if (settings.consent.enabled && settings.consent.required && body.consent !== true) {
    errors.push({ path: '/body/consent', message: 'must be given: the form requires it' });
  }
  for (const [name, value] of Object.entries(body.utm ?? {})) {
    if (MARKUP.test(value)) errors.push({ path: `/body/utm/${name}`, message: MARKUP_MESSAGE });
  }
  for (const name of ['page_url', 'referrer'] as const) {
    const value = body[name];
    if (value !== undefined && MARKUP.test(value)) errors.push({ path: `/body/${name}`, message: MARKUP_MESSAGE });
  }
  return errors;
}

/** The page the form was sent from, without its fragment, if it is on one of the site's allowed origins. */
async function pageUrlOf(ctx: Context<'submitCrmForm'>, siteId: string, given: string | undefined) {
  if (given === undefined) return null;
  const isAllowed = async (url: string) => {
    const normalized = URL.canParse(url) ? normalizeOrigin(new URL(url).origin) : null;
    return Boolean(
      normalized &&
      'origin' in normalized &&
      (await ctx.tx('site_origins').where({ site_id: siteId, origin: normalized.origin }).first('id')),
    );
  };
  const page = given.split('#')[0]!;
  if (await isAllowed(page)) return page;
  // From the iframe embed (the frames' own origin): the frame is no page of the site to record.
  const origin = ctx.request.get('origin');
  if (origin && !(await isAllowed(origin))) return null;
  throw invalidField('page_url', "is not a page on one of the site's allowed origins");
}

/** Digits only, to compare phone numbers however they are written. */
const digitsOf = (phone: string) => phone.replace(/\D/g, '');

/**
 * The contact with the submission's email address, completed with what it lacks, or a new one. Two
 * submissions racing for one new address: the second's insert meets the first's (the unique key on the
 * address decides), rolls back to its savepoint and completes the contact the first made.
 */
async function upsertContact(
  crm: CrmContext,
  siteId: string,
  fields: Record<string, string>,
  settings: FormSettings,
  consent: ContactBody['consent'] | undefined,
): Promise<ContactRow> {
  const email = normalizeEmail(fields.email!);
  const known = await contactByEmail(crm.tx, siteId, email);
  if (!known) {
    const created = await crm.tx
      .transaction((savepoint) =>
        insertContact({ ...crm, tx: savepoint }, siteId, {
          first_name: fields.first_name ?? '',
          last_name: fields.last_name ?? '',
          emails: [email],
          phones: fields.phone ? [fields.phone] : [],
          tags: settings.tags,
          lifecycle_stage: settings.lifecycle_stage,
          source: 'form',
          ...(consent ? { consent } : {}),
        }),
      )
      .catch((error: unknown) => {
        if (error instanceof Problem && error.code === 'duplicate_contact') return null;
        throw error;
      });
    if (created) return created;
  }
  const contact = known ?? (await contactByEmail(crm.tx, siteId, email))!;
  const changes: ContactFields = {};
  if (!contact.first_name && fields.first_name) changes.first_name = fields.first_name;
  if (!contact.last_name && fields.last_name) changes.last_name = fields.last_name;
  const phone = fields.phone;
  if (phone && contact.phones.length < 10 && !contact.phones.some((known) => digitsOf(known) === digitsOf(phone))) {
    changes.phones = [...contact.phones, phone];
  }
  const tags = settings.tags.filter((tag) => !contact.tags.includes(tag));
  if (tags.length > 0) changes.tags = [...contact.tags, ...tags].slice(0, 50);
  // The latest word counts: a box left unticked now withdraws what was granted before.
  if (consent) changes.consent = consent;
  if (Object.keys(changes).length === 0) return contact;
  return updateContact(crm, siteId, contact.id, changes);
}

/** `https://example.com/contact?x=1` → `/contact`: for the timeline's one line. */
function pathOf(url: string): string {
  return new URL(url).pathname;
}

export const crmFormHandlers: Pick<Handlers, 'submitCrmForm'> = {
  submitCrmForm: withPreparation(
    // Before the transaction, as bookings do: a limit reached costs no database connection.
    async ({ principal, limits, request }) => {
      await limits.consume('formSubmissions', `${request.ip}|${principal.siteId}`);
      await limits.consume('formSubmissionsPerSite', principal.siteId!);
    },
    async (ctx) => {
      const { tx, body } = ctx;
      const siteId = ctx.principal.siteId!;
      const settings = await formSettings(tx, siteId);
      const errors = checkSubmission(body, settings);
      if (errors.length > 0) {
        const [first] = errors;
        throw badRequest(
          'validation_failed',
          `${first!.path.replace('/body/', '')} ${first!.message}${errors.length > 1 ? ` (and ${errors.length - 1} more)` : ''}.`,
          errors,
        );
      }
      const pageUrl = await pageUrlOf(ctx, siteId, body.page_url);
      const receivedAt = new Date();
      const receipt = {
        status: 202 as const,
        body: { received: true as const, received_at: receivedAt.toISOString() },
      };

      // Spam: the same answer, nothing stored; the log says why (never who).
      const trap = body.honeypot.trim() !== '' ? 'honeypot' : body.elapsed_ms < MIN_FILL_MS ? 'too_fast' : null;
      if (trap) {
        ctx.request.log.info(
          { site_id: siteId, reason: trap, elapsed_ms: body.elapsed_ms },
          'contact form: a submission the spam checks caught was dropped',
        );
        return receipt;
      }

      const fields = Object.fromEntries(
        Object.entries(body.fields)
          .map(([name, value]) => [name, name === 'message' ? value.trim() : value.trim().replace(/\s+/g, ' ')])
          .filter(([, value]) => value !== ''),
      ) as Record<string, string>;
      fields.email = normalizeEmail(fields.email!);
      const locale = body.locale ?? 'en';
      const consent = settings.consent.enabled
        ? {
            granted: body.consent === true,
            text: settings.consent.text?.trim() || DEFAULT_CONSENT_TEXT[locale],
            recorded_at: receivedAt.toISOString(),
            page_url: pageUrl,
          }
        : undefined;
      const utm = body.utm ?? {};
      const referrer = body.referrer ?? null;
      const crm: CrmContext = { tx, agencyId: ctx.agencyId, afterCommit: ctx.afterCommit };
      const contact = await upsertContact(crm, siteId, fields, settings, consent);

      const id = uuidv7();
      await tx('mod_crm.form_submissions').insert({
        id,
        agency_id: ctx.agencyId,
        site_id: siteId,
        contact_id: contact.id,
        fields: JSON.stringify(fields),
        page_url: pageUrl,
        utm: JSON.stringify(utm),
        created_at: receivedAt,
      });
      await addTimeline(crm, siteId, contact.id, {
        type: 'form.submitted',
        summary: pageUrl ? `Sent the contact form on ${pathOf(pageUrl)}` : 'Sent the contact form',
        data: { submission_id: id, fields, page_url: pageUrl, referrer, utm, consent: consent ?? null },
        occurredAt: receivedAt,
      });
      await emitSiteEvent(crm, siteId, 'crm.form.submitted', {
        id,
        contact_id: contact.id,
        fields,
        consent: consent ?? null,
        page_url: pageUrl,
        referrer,
        utm,
        submitted_at: receivedAt.toISOString(),
      });
      return receipt;
    },
  ),
};
