/**
 * The one place module JSON Schemas (draft 2020-12) are compiled: the publish-time check and the runtime
 * validators share these options, so a schema that passed publishing behaves the same when records arrive.
 */
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { RE2 } from 're2-wasm';
import { pointerToken } from '../http/problem.js';

export interface SchemaIssue {
  path: string;
  message: string;
}

export type Validation = { valid: true; value: unknown } | { valid: false; issues: SchemaIssue[] };
export type Validate = (data: unknown) => Validation;

/**
 * Schemas come from any publisher and records from any visitor: `pattern`s run on RE2, whose time is linear
 * in the input, so no pattern can stall the server (backreferences and lookarounds are refused with it).
 */
const re2 = Object.assign(
  (pattern: string, flags: string) => new RE2(pattern, flags.includes('u') ? flags : `${flags}u`),
  {
    code: 'RE2',
  },
);
const ajv = new Ajv2020({ strict: true, allErrors: true, useDefaults: true, code: { regExp: re2 } });
// ajv-formats is CommonJS; its plugin is also its own `.default`, which is what TypeScript sees here.
formats.default(ajv);

/** Compiles without keeping the schema in Ajv's registry: module schemas may reuse `$id`s across versions. */
function compile(schema: object): ValidateFunction {
  try {
    return ajv.compile(schema);
  } finally {
    ajv.removeSchema(schema);
  }
}

/** Where a schema refers elsewhere (`$ref`), as a JSON pointer: module schemas must be self-contained. */
function referenceIn(schema: unknown, at = ''): string | null {
  if (schema === null || typeof schema !== 'object') return null;
  for (const [key, value] of Object.entries(schema)) {
    if (key === '$ref' || key === '$dynamicRef') return `${at}/${key}`;
    const found = referenceIn(value, `${at}/${key}`);
    if (found) return found;
  }
  return null;
}

/** Compiles `schema` for a one-off check (publishing): its validator, or why it does not compile. */
export function compileSchema(schema: object, at = ''): { validate: Validate } | { error: string } {
  const reference = referenceIn(schema);
  if (reference) return { error: `${reference}: references are not supported; write the schema out in full` };
  try {
    return { validate: validator(compile(schema), at) };
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) };
  }
}

// Keyed by the schema's own text, not by module and version: two databases (two tenants' platforms, or
// tests sharing one process) may each hold a different `acme.faq@1.0.0`.
const compiled = new Map<string, ValidateFunction>();

/**
 * A validator for records or settings of a published `schema`, compiled once per distinct schema. It fills
 * defaults on a copy of the data and names each issue by JSON pointer, relative to the data (`/title`) unless
 * `at` gives where the data sits in the request (`/body`).
 */
export function recordValidator(schema: object, at = ''): Validate {
  const key = JSON.stringify(schema);
  let check = compiled.get(key);
  if (!check) {
    check = compile(schema);
    compiled.set(key, check);
  }
  return validator(check, at);
}

function validator(check: ValidateFunction, at: string): Validate {
  return (data) => {
    const value = structuredClone(data);
    if (check(value)) return { valid: true, value };
    return { valid: false, issues: (check.errors ?? []).map((error) => toIssue(error, at)) };
  };
}

/** Points at the field at fault: the missing or extra property rather than the object holding it. */
function toIssue(error: ErrorObject, at: string): SchemaIssue {
  const params = error.params as { missingProperty?: string; additionalProperty?: string };
  const property = params.missingProperty ?? params.additionalProperty;
  const suffix = property === undefined ? '' : `/${pointerToken(property)}`;
  return { path: `${at}${error.instancePath}${suffix}`, message: error.message ?? 'is invalid' };
}
