import { badRequest } from '../../http/problem.js';
import type { ContactBody } from './contacts.js';
import { normalizeEmail } from './contacts.js';
import { valueProblem, type CustomValue, type FieldRow } from './custom-fields.js';

/**
 * The CRM's CSV format for contacts, which the import reads and the export writes (so that a file exported
 * from one site imports into another as the same contacts). One header row names the columns; lists hold
 * their items with `;` between them (`\;` is a semicolon inside an item, `\\` a backslash). The contract
 * (`importCrmContacts` in openapi/modules/crm.yaml) describes it for people.
 */

type ListColumn = 'emails' | 'phones' | 'tags';
type TextColumn = 'first_name' | 'last_name' | 'company' | 'lifecycle_stage';
export type Column = { kind: ListColumn | TextColumn } | { kind: 'custom'; key: string; field: FieldRow };

/** The columns the export writes, in its order, before the custom fields' (`custom.<key>`). */
export const STANDARD_COLUMNS = [
  'first_name',
  'last_name',
  'emails',
  'phones',
  'company',
  'tags',
  'lifecycle_stage',
] as const;

/** Header names the import understands, and what each means. */
const NAMES: Record<string, ListColumn | TextColumn> = {
  ...Object.fromEntries(STANDARD_COLUMNS.map((name) => [name, name])),
  email: 'emails',
  phone: 'phones',
  tag: 'tags',
};

export const LIFECYCLE_STAGES: readonly ContactBody['lifecycle_stage'][] = [
  'subscriber',
  'lead',
  'marketing_qualified',
  'sales_qualified',
  'opportunity',
  'customer',
  'evangelist',
  'other',
];

/** Most of what a row may hold, as the JSON schemas of the contract say it (openapi/modules/crm.yaml). */
const LIMITS = { name: 100, company: 200, emails: 10, email: 254, phones: 10, tags: 50, tag: 50, text: 2000 };
const PLAIN = /^[^\x00-\x1f<>]*$/; // eslint-disable-line no-control-regex -- what names may not hold
const PHONE = /^\+?[0-9 ()./-]{3,40}$/;
/** The validator's `email` format (ajv-formats, "fast"), so an import accepts what the API accepts. */
const EMAIL =
  /^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*@(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/i;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const NUMBER = /^-?(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?$/i;

/**
 * Reads the header row: each column a known one or a custom field of the site's contacts. Anything else,
 * a column named twice, or no column of email addresses is `400` with every problem listed.
 */
export function readHeader(cells: readonly string[], fields: ReadonlyMap<string, FieldRow>): Column[] {
  const problems: { path: string; message: string }[] = [];
  const seen = new Set<string>();
  const columns = cells.map((cell, index): Column => {
    const name = cell.trim().toLowerCase();
    const path = `/body/header/${index}`;
    const standard = NAMES[name];
    const key = name.startsWith('custom.') ? name.slice('custom.'.length) : null;
    const field = key === null ? undefined : fields.get(key);
    const column: Column = standard
      ? { kind: standard }
      : field
        ? { kind: 'custom', key: key!, field }
        : { kind: 'first_name' };
    if (!standard && !field) {
      problems.push({
        path,
        message:
          key === null
            ? `column ${index + 1} is not one the import knows (${[...STANDARD_COLUMNS, 'custom.<key>'].join(', ')})`
            : `column ${index + 1} names no custom field of this site's contacts`,
      });
    }
    const identity = column.kind === 'custom' ? `custom.${column.key}` : column.kind;
    if ((standard || field) && seen.has(identity)) {
      problems.push({ path, message: `column ${index + 1} repeats ${identity}` });
    }
    seen.add(identity);
    return column;
  });
  if (!seen.has('emails')) {
    problems.push({ path: '/body/header', message: 'has no emails column: rows are matched to contacts by it' });
  }
  if (problems.length > 0) {
    throw badRequest(
      'invalid_csv_header',
      `The header row is not one the import can use: ${problems[0]!.message}.`,
      problems,
    );
  }
  return columns;
}

/** What one row says of a contact: only what its non-empty cells give. */
export interface RowFields {
  first_name?: string;
  last_name?: string;
  emails: string[];
  phones?: string[];
  tags?: string[];
  lifecycle_stage?: ContactBody['lifecycle_stage'];
  company?: string;
  custom?: Record<string, CustomValue>;
}

/** Why a row is skipped: the column at fault (if one is) and the reason, without the value (it may be personal). */
export interface RowProblem {
  column: string | null;
  message: string;
}

/** Splits a list cell at its unescaped semicolons; items are trimmed, empty ones dropped. */
export function splitList(cell: string): string[] {
  const items: string[] = [];
  let current = '';
  for (let index = 0; index < cell.length; index += 1) {
    const char = cell[index]!;
    const next = cell[index + 1];
    if (char === '\\' && (next === ';' || next === '\\')) {
      current += next;
      index += 1;
    } else if (char === ';') {
      items.push(current);
      current = '';
    } else current += char;
  }
  items.push(current);
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

/** The cell of a list, escaped so that splitList gives the items back. */
export const joinList = (items: readonly string[]) => items.map((item) => item.replace(/[\\;]/g, '\\$&')).join(';');

/**
 * A cell a spreadsheet could take for a formula (`=`, `+`, `-`, `@`, a tab or a return first) is written with an apostrophe
 * before it, as spreadsheets do for text (CSV injection); the import takes that apostrophe away again. (Phone
 * numbers start with `+` and can hold nothing harmful: they are written as they are. A value that itself
 * starts with an apostrophe and then one of those characters loses its apostrophe on the way.)
 */
const FORMULA = /^[=+\-@\t\r]/;
export const guardFormula = (cell: string) => (FORMULA.test(cell) ? `'${cell}` : cell);
const unguard = (cell: string) => (cell.startsWith("'") && FORMULA.test(cell.slice(1)) ? cell.slice(1) : cell);

const ordinal = (index: number) => `${index + 1}${['st', 'nd', 'rd'][index] ?? 'th'}`;

/** A custom field's value from its cell, or why it is not one. */
function readCustom(field: FieldRow, cell: string): { value: CustomValue } | string {
  let value: CustomValue = cell;
  if (field.type === 'number') {
    if (!NUMBER.test(cell)) return 'must be a number';
    value = Number(cell);
  } else if (field.type === 'boolean') {
    const lower = cell.toLowerCase();
    if (lower !== 'true' && lower !== 'false') return 'must be true or false';
    value = lower === 'true';
  } else if (field.type === 'date' && !DATE.test(cell)) return 'must be a date (YYYY-MM-DD)';
  else if (cell.length > LIMITS.text) return `is longer than ${LIMITS.text} characters`;
  return valueProblem(field, value) ?? { value };
}

/** One data row, checked as the API checks a contact; a RowProblem when it cannot be imported. */
export function readRow(columns: readonly Column[], cells: readonly string[]): RowFields | RowProblem {
  if (cells.length !== columns.length) {
    return { column: null, message: `has ${cells.length} cells where the header has ${columns.length}` };
  }
  const fields: RowFields = { emails: [] };
  for (let index = 0; index < columns.length; index += 1) {
    const column = columns[index]!;
    const cell = unguard(cells[index]!.trim());
    if (cell === '') continue;
    const name = column.kind === 'custom' ? `custom.${column.key}` : column.kind;
    const problem = (message: string): RowProblem => ({ column: name, message: `${name} ${message}` });
    if (cell.includes('\0')) return problem('contains a NUL character');
    switch (column.kind) {
      case 'first_name':
      case 'last_name':
        if (cell.length > LIMITS.name) return problem(`is longer than ${LIMITS.name} characters`);
        if (!PLAIN.test(cell)) return problem('contains < > or control characters');
        fields[column.kind] = cell;
        break;
      case 'company':
        if (cell.length > LIMITS.company) return problem(`is longer than ${LIMITS.company} characters`);
        if (!PLAIN.test(cell)) return problem('contains < > or control characters');
        fields.company = cell;
        break;
      case 'lifecycle_stage':
        if (!LIFECYCLE_STAGES.includes(cell as ContactBody['lifecycle_stage'])) {
          return problem(`must be one of ${LIFECYCLE_STAGES.join(', ')}`);
        }
        fields.lifecycle_stage = cell as ContactBody['lifecycle_stage'];
        break;
      case 'emails': {
        const emails = [...new Set(splitList(cell).map(normalizeEmail))];
        if (emails.length > LIMITS.emails) return problem(`holds more than ${LIMITS.emails} addresses`);
        const bad = emails.findIndex((email) => email.length > LIMITS.email || !EMAIL.test(email));
        if (bad !== -1) return problem(`holds something that is not an email address (the ${ordinal(bad)} item)`);
        fields.emails = emails;
        break;
      }
      case 'phones': {
        const phones = [...new Set(splitList(cell))];
        if (phones.length > LIMITS.phones) return problem(`holds more than ${LIMITS.phones} numbers`);
        const bad = phones.findIndex((phone) => !PHONE.test(phone));
        if (bad !== -1) return problem(`holds something that is not a phone number (the ${ordinal(bad)} item)`);
        fields.phones = phones;
        break;
      }
      case 'tags': {
        const tags = [...new Set(splitList(cell))];
        if (tags.length > LIMITS.tags) return problem(`holds more than ${LIMITS.tags} tags`);
        const bad = tags.findIndex((tag) => tag.length > LIMITS.tag || !PLAIN.test(tag));
        if (bad !== -1) {
          return problem(`holds a tag longer than ${LIMITS.tag} characters or with < > (the ${ordinal(bad)} item)`);
        }
        fields.tags = tags;
        break;
      }
      case 'custom': {
        const read = readCustom(column.field, cell);
        if (typeof read === 'string') return problem(read);
        fields.custom = { ...fields.custom, [column.key]: read.value };
        break;
      }
    }
  }
  if (fields.emails.length === 0) {
    return { column: 'emails', message: 'emails is empty: rows are matched to contacts by their addresses' };
  }
  return fields;
}

/** A custom value as a cell. */
function customCell(value: CustomValue | undefined): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'string' ? guardFormula(value) : String(value);
}

/** The header row of an export, for the site's contact fields (in their order). */
export const exportHeader = (customKeys: readonly string[]) => [
  ...STANDARD_COLUMNS,
  ...customKeys.map((key) => `custom.${key}`),
];

/** A contact as a row of the export. */
export function exportRow(
  contact: Pick<ContactBody, 'first_name' | 'last_name' | 'emails' | 'phones' | 'tags' | 'lifecycle_stage' | 'custom'>,
  company: string | null,
  customKeys: readonly string[],
): string[] {
  return [
    guardFormula(contact.first_name),
    guardFormula(contact.last_name),
    guardFormula(joinList(contact.emails)),
    joinList(contact.phones),
    guardFormula(company ?? ''),
    guardFormula(joinList(contact.tags)),
    contact.lifecycle_stage,
    ...customKeys.map((key) => customCell(contact.custom[key])),
  ];
}
