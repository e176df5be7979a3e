/**
 * Bad input, walked from the contract: every operation of the spec gets invalid requests derived from its
 * security, parameters and body schema, and each must be refused with a 4xx problem+json that leaks no
 * internals. A new route is covered as soon as it is in the spec.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  listOperations,
  loadPlatformSpec,
  resolve,
  type OperationInfo,
  type ParameterObject,
  type SchemaObject,
} from '../src/http/spec.js';
import { startTestPlatform, type Reply, type RequestOptions, type TestPlatform } from './support/platform.js';

const spec = loadPlatformSpec();
const operations = listOperations(spec);

/** The allowed origin of the publishable key the public endpoints are called with. */
const SHOP_ORIGIN = 'https://shop.example';
/** Over the server's body limits: 100 kB, and 4 MB for publishing a module (which carries its bundle). */
const oversize = (operation: OperationInfo) =>
  'x'.repeat(operation.id === 'publishModuleVersion' ? 4_200_000 : 200_000);
/** Path ids that are not UUIDs. */
const BAD_IDS: [string, string][] = [
  ['not a uuid', 'not-a-uuid'],
  ['SQL', "'; drop table agencies;--"],
  ['300 chars', 'x'.repeat(300)],
];

interface Credentials {
  /** An agency owner's session token. */
  token: string;
  /** A publishable key of a site that allows SHOP_ORIGIN. */
  publishableKey: string;
}

/** What a case changes in an otherwise valid request. */
interface Variation {
  /** Path parameter values, already percent-encoded. */
  path?: Record<string, string>;
  query?: Record<string, string | string[]>;
  headers?: Record<string, string>;
  /** Replaces the valid JSON body (`undefined` sends none). */
  body?: unknown;
  /** A raw body instead of a JSON one, with its content type. */
  raw?: { text: string; contentType: string };
  /**
   * How to authenticate: the operation's own valid credential (default; a session where both are accepted),
   * the valid publishable key, none, or an explicit one.
   */
  auth?: 'valid' | 'publishable' | 'none' | { bearer?: string; key?: string };
  /** The Origin header; by default the allowed origin for publishable-key operations, none for the others. */
  origin?: string | null;
}

interface Case {
  name: string;
  operation: OperationInfo;
  variation: Variation;
  status: number | number[];
  code?: string;
  /** An `errors[].path` the problem must name (a string: exactly; a RegExp: matching). */
  errorPath?: string | RegExp;
}

// ---------------------------------------------------------------------------------------------------------
// Schemas: valid examples and wrong-typed values

type Schema = SchemaObject & { examples?: unknown[] };

const schemaOf = (value: unknown): Schema => resolve<Schema>(spec, value as Schema);

/** The schema's main type, `null` aside (`[string, 'null']` is a string). */
function typeOf(input: unknown): string | undefined {
  const schema = schemaOf(input);
  const types = ([] as unknown[]).concat(schema.type ?? []).filter((t) => t !== 'null') as string[];
  if (types[0]) return types[0];
  if (schema.enum) return typeof schema.enum[0] === 'number' ? 'number' : 'string';
  for (const part of schema.allOf ?? []) {
    const type = typeOf(part);
    if (type) return type;
  }
  if (schema.properties) return 'object';
  return undefined;
}

/** The properties of an object schema, `allOf` merged. */
function propertiesOf(input: unknown): {
  properties: Record<string, unknown>;
  required: string[];
  minProperties: number;
} {
  const schema = schemaOf(input);
  const merged = {
    properties: { ...(schema.properties ?? {}) } as Record<string, unknown>,
    required: [...(schema.required ?? [])],
    minProperties: schema.minProperties ?? 0,
  };
  for (const part of schema.allOf ?? []) {
    const inner = propertiesOf(part);
    Object.assign(merged.properties, inner.properties);
    merged.required.push(...inner.required);
    merged.minProperties = Math.max(merged.minProperties, inner.minProperties);
  }
  return merged;
}

/** A minimal value the schema accepts: what every case starts from, so that it has exactly one fault. */
function exampleOf(input: unknown): unknown {
  const schema = schemaOf(input);
  if (schema.const !== undefined) return schema.const;
  if (schema.default !== undefined) return schema.default;
  if (schema.examples?.length) return schema.examples[0];
  if (schema.enum?.length) return schema.enum[0];
  if (schema.oneOf?.[0]) return exampleOf(schema.oneOf[0]);
  if (schema.anyOf?.[0]) return exampleOf(schema.anyOf[0]);
  switch (typeOf(schema)) {
    case 'object': {
      const { properties, required, minProperties } = propertiesOf(schema);
      const names = [...required];
      for (const name of Object.keys(properties)) {
        if (names.length >= minProperties) break;
        if (!names.includes(name) && !schemaOf(properties[name]).readOnly) names.push(name);
      }
      return Object.fromEntries(names.map((name) => [name, exampleOf(properties[name])]));
    }
    case 'array': {
      const items = schemaOf((schema as { items?: unknown }).items);
      const count = Math.max(schema.minItems ?? 0, 1);
      return items.enum ? items.enum.slice(0, count) : Array.from({ length: count }, () => exampleOf(items));
    }
    case 'integer':
    case 'number':
      return typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return true;
    case 'string':
      switch (schema.format) {
        case 'uuid':
          return randomUUID();
        case 'email':
          return `${randomUUID()}@example.com`;
        case 'date-time':
          return new Date().toISOString();
        case 'date':
          return '2027-01-11';
        case 'uri':
          return 'https://example.com/';
        default:
          return 'x'.repeat(Math.max(schema.minLength ?? 1, 10));
      }
    default:
      return 'x';
  }
}

/** A value of the wrong JSON type for the schema, or undefined when its type is unknown. */
function wrongTypeFor(input: unknown): unknown {
  switch (typeOf(input)) {
    case 'string':
      return 123;
    case 'integer':
    case 'number':
    case 'array':
    case 'object':
    case 'boolean':
      return 'x';
    default:
      return undefined;
  }
}

const clone = <T>(value: T): T => structuredClone(value);

/** Sets (or with `undefined`, removes) the value at `path` of a copy of `body`. */
function withValue(body: unknown, path: string[], value: unknown): unknown {
  const copy = clone(body) as Record<string, unknown>;
  let node = copy;
  for (const part of path.slice(0, -1)) node = node[part] as Record<string, unknown>;
  const last = path.at(-1)!;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

// ---------------------------------------------------------------------------------------------------------
// Cases, derived from each operation

const usesBearer = (operation: OperationInfo) => operation.security.some((r) => 'bearer' in r);
const usesPublishableKey = (operation: OperationInfo) => operation.security.some((r) => 'publishableKey' in r);
const label = (operation: OperationInfo) => `${operation.method.toUpperCase()} ${operation.path}`;
const parametersIn = (operation: OperationInfo, where: string) => operation.parameters.filter((p) => p.in === where);

/** Valid (but, for path ids, nonexistent) values for the parameters; generated once per operation. */
interface Baseline {
  path: Record<string, string>;
  query: Record<string, string>;
  headers: Record<string, string>;
  body: unknown;
  /** The body of an operation that takes no JSON (a CSV file): its media type's example. */
  raw?: { text: string; contentType: string };
}

/** An operation's example body in a media type other than JSON (`text/csv`), when that is what it takes. */
function rawExampleOf(operation: OperationInfo): Baseline['raw'] {
  const requestBody = spec.paths?.[operation.path]?.[operation.method]?.requestBody;
  if (!requestBody || operation.body) return undefined;
  const content = resolve<{ content: Record<string, { example?: unknown }> }>(spec, requestBody).content;
  const [contentType, media] = Object.entries(content)[0] ?? [];
  return typeof media?.example === 'string' ? { text: media.example, contentType: contentType! } : undefined;
}

function baselineOf(operation: OperationInfo): Baseline {
  // Required parameters, and the ids that complete a request (`site_id` says which site a record is of).
  const values = (where: string, all: boolean) =>
    Object.fromEntries(
      parametersIn(operation, where)
        .filter((p) => all || p.required || schemaOf(p.schema).format === 'uuid')
        .map((p) => [p.name, String(exampleOf(p.schema))]),
    );
  return {
    path: values('path', true),
    query: values('query', false),
    headers: values('header', false),
    body: operation.body ? exampleOf(operation.body.schema) : undefined,
    raw: rawExampleOf(operation),
  };
}
const baselines = new Map(operations.map((operation) => [operation, baselineOf(operation)]));

function credentialCases(operation: OperationInfo): Case[] {
  if (operation.security.length === 0) return [];
  const cases: Case[] = [
    { name: 'no credentials', operation, variation: { auth: 'none' }, status: 401, code: 'unauthorized' },
    {
      name: 'malformed bearer token',
      operation,
      variation: { auth: { bearer: 'nonsense' } },
      status: 401,
      code: 'unauthorized',
    },
  ];
  if (usesBearer(operation)) {
    for (const prefix of ['sk', 'ses']) {
      cases.push({
        name: `unknown ${prefix}_ bearer token`,
        operation,
        variation: { auth: { bearer: `${prefix}_${randomBytes(24).toString('base64url')}` } },
        status: 401,
        code: 'unauthorized',
      });
    }
  } else {
    // A well-formed secret where only a publishable key is accepted.
    cases.push({
      name: 'bearer token on a publishable-key endpoint',
      operation,
      variation: { auth: { bearer: `sk_${randomBytes(24).toString('base64url')}` } },
      status: 403,
      code: 'credential_not_accepted',
    });
  }
  if (usesPublishableKey(operation)) {
    cases.push(
      {
        name: 'malformed publishable key',
        operation,
        variation: { auth: { key: 'nonsense' } },
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'unknown pk_ publishable key',
        operation,
        variation: { auth: { key: `pk_${randomBytes(24).toString('base64url')}` } },
        status: 401,
        code: 'unauthorized',
      },
      {
        name: 'publishable key from an origin the site does not allow',
        operation,
        variation: { origin: 'https://evil.example', auth: 'publishable' },
        status: 403,
        code: 'origin_not_allowed',
      },
      {
        name: 'publishable key without an Origin',
        operation,
        variation: { origin: null, auth: 'publishable' },
        status: 403,
        code: 'origin_not_allowed',
      },
    );
  } else {
    // Only the public endpoints answer other sites' pages.
    cases.push({
      name: 'valid credentials from a foreign Origin',
      operation,
      variation: { origin: 'https://evil.example' },
      status: 403,
      code: 'origin_not_allowed',
    });
  }
  return cases;
}

function pathCases(operation: OperationInfo): Case[] {
  const parameters = parametersIn(operation, 'path');
  if (parameters.length === 0) return [];
  const cases: Case[] = parameters.flatMap((parameter) => {
    const invalid =
      schemaOf(parameter.schema).format === 'uuid'
        ? BAD_IDS
        : badValuesFor(parameter).filter((bad): bad is [string, string] => typeof bad[1] === 'string' && bad[1] !== '');
    return [
      ...invalid.map(([what, value]) => ({
        name: `path.${parameter.name} ${what}`,
        operation,
        variation: { path: { [parameter.name]: encodeURIComponent(value) } },
        status: 400,
        code: 'validation_failed',
        errorPath: new RegExp(`^/path/${parameter.name}$`),
      })),
      {
        name: `path.${parameter.name} with broken percent-encoding`,
        operation,
        variation: { path: { [parameter.name]: '%E0%A4%A' } },
        status: 400,
        code: 'malformed_url',
      },
    ];
  });
  // Ids that name nothing; a path of fixed names only (an enum: `/v1/runtime/lit@3.js`) has none.
  if (parameters.some((parameter) => !schemaOf(parameter.schema).enum)) {
    cases.push({ name: 'nonexistent path ids', operation, variation: {}, status: 404, code: 'not_found' });
  }
  return cases;
}

/** Values a parameter's schema refuses. */
function badValuesFor(parameter: ParameterObject): [string, string | string[]][] {
  const schema = schemaOf(parameter.schema);
  const bad: [string, string | string[]][] = [];
  if (schema.enum) bad.push(['not in the enum', 'bogus-value']);
  switch (typeOf(schema)) {
    case 'integer':
    case 'number': {
      bad.push(['not a number', 'abc']);
      if (typeOf(schema) === 'integer') bad.push(['not an integer', '1.5']);
      if (typeof schema.minimum === 'number') bad.push(['below the minimum', String(schema.minimum - 1)]);
      if (typeof schema.maximum === 'number') {
        bad.push(['above the maximum', String(schema.maximum + 1)], ['far above the maximum', '1000000']);
      }
      break;
    }
    case 'boolean':
      bad.push(['not a boolean', 'maybe']);
      break;
    case 'string':
      if (schema.format === 'uuid')
        bad.push(['not a uuid', 'not-a-uuid'], ['SQL in a uuid', "'; drop table agencies;--"]);
      if (typeof schema.maxLength === 'number') bad.push(['too long', 'x'.repeat(schema.maxLength + 1)]);
      if ((schema.minLength ?? 0) > 0) bad.push(['empty', '']);
      break;
  }
  if (typeOf(schema) !== 'array' && parameter.in === 'query') {
    bad.push(['repeated', [String(exampleOf(schema)), String(exampleOf(schema))]]);
  }
  return bad;
}

function queryCases(operation: OperationInfo): Case[] {
  const cases: Case[] = parametersIn(operation, 'query')
    .filter((parameter) => parameter.schema)
    .flatMap((parameter) =>
      badValuesFor(parameter).map(([what, value]) => ({
        name: `query.${parameter.name} ${what}`,
        operation,
        variation: { query: { [parameter.name]: value } },
        status: 400,
        code: 'validation_failed',
        errorPath: `/query/${parameter.name}`,
      })),
    );
  // An identity provider's redirect back carries parameters of its own choosing: that operation takes any.
  if (!operation.openQuery) {
    cases.push({
      name: 'unknown query parameter',
      operation,
      variation: { query: { unexpected_param: '1' } },
      status: 400,
      code: 'validation_failed',
      errorPath: '/query/unexpected_param',
    });
  }
  return cases;
}

function headerCases(operation: OperationInfo): Case[] {
  return parametersIn(operation, 'header')
    .filter((parameter) => parameter.schema && typeof schemaOf(parameter.schema).maxLength === 'number')
    .map((parameter) => ({
      name: `header ${parameter.name} too long`,
      operation,
      variation: { headers: { [parameter.name]: 'x'.repeat(schemaOf(parameter.schema).maxLength! + 1) } },
      status: 400,
      code: 'validation_failed',
      errorPath: `/header/${parameter.name.toLowerCase()}`,
    }));
}

/** Wrong-typed values and missing required properties, for an object schema and the objects nested in it. */
function fieldCases(operation: OperationInfo, base: unknown, schema: unknown, path: string[]): Case[] {
  const cases: Case[] = [];
  const { properties, required } = propertiesOf(schema);
  for (const [name, property] of Object.entries(properties)) {
    if (schemaOf(property).readOnly) continue;
    const at = [...path, name];
    const wrong = wrongTypeFor(property);
    if (wrong !== undefined) {
      cases.push({
        name: `body.${at.join('.')} wrong type (${JSON.stringify(wrong)})`,
        operation,
        variation: { body: withValue(base, at, wrong) },
        status: 400,
        code: 'validation_failed',
        errorPath: `/body/${at.join('/')}`,
      });
    }
    const resolved = schemaOf(property);
    if (typeOf(property) === 'string' && !resolved.format && !resolved.enum && !resolved.writeOnly) {
      // Text that is stored: a NUL character cannot go in a text column. When the request refers to ids (which
      // the cases leave nonexistent), the handler may answer 404 before it stores anything.
      cases.push({
        name: `body.${at.join('.')} with a NUL character`,
        operation,
        variation: { body: withValue(base, at, `${String(exampleOf(property))}\u0000`) },
        status: refersToIds(operation) ? [400, 404] : 400,
      });
    }
    if (typeOf(property) === 'object' && Object.keys(propertiesOf(property).properties).length > 0) {
      const nestedBase = withValue(base, at, exampleOf(property));
      cases.push(...fieldCases(operation, nestedBase, property, at));
    }
  }
  for (const name of required) {
    const at = [...path, name];
    cases.push({
      name: `body.${at.join('.')} missing`,
      operation,
      variation: { body: withValue(base, at, undefined) },
      status: 400,
      code: 'validation_failed',
      errorPath: `/body/${at.join('/')}`,
    });
  }
  return cases;
}

/** Whether the operation names other resources by id, in its path or its body. */
function refersToIds(operation: OperationInfo): boolean {
  const hasUuid = (schema: unknown): boolean =>
    schemaOf(schema).format === 'uuid' || Object.values(propertiesOf(schema).properties).some(hasUuid);
  return parametersIn(operation, 'path').length > 0 || (operation.body !== null && hasUuid(operation.body.schema));
}

function bodyCases(operation: OperationInfo): Case[] {
  if (!operation.body) return [];
  const { schema, required } = operation.body;
  const base = baselines.get(operation)!.body;
  const json = (text: string) => ({ text, contentType: 'application/json' });
  const cases: Case[] = [
    { name: 'malformed JSON body', operation, variation: { raw: json('{bad') }, status: 400, code: 'malformed_json' },
    { name: 'JSON array body', operation, variation: { raw: json(JSON.stringify([base])) }, status: 400 },
    { name: 'JSON string body', operation, variation: { raw: json('"a string"') }, status: 400 },
    { name: 'JSON null body', operation, variation: { raw: json('null') }, status: 400 },
    ...fieldCases(operation, base, schema, []),
    {
      name: 'oversize body',
      operation,
      variation: { body: withValue(base, [firstStringProperty(schema) ?? 'padding'], oversize(operation)) },
      status: 413,
      code: 'payload_too_large',
    },
    {
      name: 'text/plain body',
      operation,
      variation: { raw: { text: JSON.stringify(base), contentType: 'text/plain' } },
      status: [400, 415],
    },
    {
      name: 'gzip Content-Encoding on a plain body',
      operation,
      variation: { raw: json(JSON.stringify(base)), headers: { 'content-encoding': 'gzip' } },
      status: 400,
    },
    {
      name: 'unsupported Content-Encoding',
      operation,
      variation: { raw: json(JSON.stringify(base)), headers: { 'content-encoding': 'x-bogus' } },
      status: 415,
      code: 'unsupported_media_type',
    },
    {
      name: 'unsupported charset',
      operation,
      variation: { raw: { text: JSON.stringify(base), contentType: 'application/json; charset=x-bogus' } },
      status: 415,
      code: 'unsupported_media_type',
    },
  ];
  // A record's fields are the module's to define: only closed schemas refuse what they do not name.
  if (schemaOf(schema).additionalProperties === false) {
    cases.push({
      name: 'body with an unknown field',
      operation,
      variation: { body: { ...(base as object), unexpected_field: 'x' } },
      status: 400,
      code: 'validation_failed',
      errorPath: '/body/unexpected_field',
    });
  }
  const { required: requiredNames, minProperties } = propertiesOf(schema);
  if (requiredNames.length > 0 || minProperties > 0) {
    cases.push({
      name: 'empty object body',
      operation,
      variation: { body: {} },
      status: 400,
      code: 'validation_failed',
    });
  }
  if (required) {
    cases.push(
      // Without a Content-Type the validator answers 415 (no media type); either way a 4xx.
      { name: 'no body', operation, variation: { body: undefined }, status: [400, 415] },
      { name: 'empty body with a JSON Content-Type', operation, variation: { raw: json('') }, status: 400 },
    );
  }
  return cases;
}

function firstStringProperty(schema: unknown): string | undefined {
  return Object.entries(propertiesOf(schema).properties).find(([, property]) => typeOf(property) === 'string')?.[0];
}

const cases: Case[] = operations.flatMap((operation) =>
  [
    ...credentialCases(operation),
    ...pathCases(operation),
    ...queryCases(operation),
    ...headerCases(operation),
    ...bodyCases(operation),
  ].map((c) => ({ ...c, name: `${label(c.operation)}: ${c.name}` })),
);

// ---------------------------------------------------------------------------------------------------------
// Sending a case

function requestFor(c: Case, credentials: Credentials): { method: string; path: string; options: RequestOptions } {
  const { operation, variation } = c;
  const baseline = baselines.get(operation)!;
  const path = operation.path.replace(
    /\{([^}]+)\}/g,
    (_, name: string) => variation.path?.[name] ?? encodeURIComponent(baseline.path[name]!),
  );

  const query = new URLSearchParams();
  for (const [name, value] of Object.entries({ ...baseline.query, ...variation.query })) {
    for (const one of ([] as string[]).concat(value)) query.append(name, one);
  }
  const headers: Record<string, string> = { ...baseline.headers, ...variation.headers };
  const options: RequestOptions = { headers };

  const auth = variation.auth ?? 'valid';
  if (operation.security.length > 0 && auth !== 'none') {
    const explicit = auth === 'valid' ? null : auth === 'publishable' ? { key: credentials.publishableKey } : auth;
    if (explicit?.bearer) headers.authorization = `Bearer ${explicit.bearer}`;
    else if (explicit?.key) query.set('key', explicit.key);
    else if (usesBearer(operation)) options.token = credentials.token;
    else query.set('key', credentials.publishableKey);
  }
  // Only publishable keys answer other origins; they are called from the key's allowed origin.
  const withKey = query.has('key');
  const origin = 'origin' in variation ? variation.origin : withKey ? SHOP_ORIGIN : null;
  if (origin) headers.origin = origin;

  const raw = variation.raw ?? ('body' in variation ? undefined : baseline.raw);
  if (raw) {
    options.raw = raw.text;
    headers['content-type'] = raw.contentType;
  } else {
    const body = 'body' in variation ? variation.body : baseline.body;
    if (body !== undefined) options.body = body;
  }
  const search = query.toString();
  return { method: operation.method.toUpperCase(), path: search ? `${path}?${search}` : path, options };
}

const STACK_FRAME = /\n\s+at\s|^\s{4}at\s/m;
const INTERNAL_PATH = /\/src\/|node_modules|\.[cm]?[jt]s:\d+|file:\/\//;

function expectProblem(reply: Reply, c: Case) {
  const statuses = ([] as number[]).concat(c.status);
  const context = `${reply.status} ${reply.text.slice(0, 600)}`;
  expect(reply.status, context).toBeGreaterThanOrEqual(400);
  expect(reply.status, context).toBeLessThan(500);
  expect(statuses, context).toContain(reply.status);
  expect(reply.headers.get('content-type'), context).toMatch(/^application\/problem\+json(\s*;|$)/);
  expect(reply.body, context).toMatchObject({
    type: expect.any(String),
    title: expect.any(String),
    status: reply.status,
    code: expect.stringMatching(/^[a-z][a-z0-9_]*$/),
  });
  if (c.code) expect(reply.body.code, context).toBe(c.code);
  if (c.errorPath) {
    const wanted = c.errorPath;
    const paths: string[] = (reply.body.errors ?? []).map((e: { path: string }) => e.path);
    const named = paths.some((p) => (typeof wanted === 'string' ? p === wanted : wanted.test(p)));
    expect(named, `errors[].path ${JSON.stringify(paths)} should name ${wanted}`).toBe(true);
  }
  if (reply.status === 401) expect(reply.headers.get('www-authenticate'), context).toBeTruthy();
  expect(reply.text, context).not.toMatch(STACK_FRAME);
  expect(reply.text, context).not.toMatch(INTERNAL_PATH);
}

// ---------------------------------------------------------------------------------------------------------

let platform: TestPlatform;
const credentials: Credentials = { token: '', publishableKey: '' };

async function created(path: string, body: unknown): Promise<Record<string, string>> {
  const reply = await platform.request('POST', path, { token: credentials.token, body });
  if (reply.status !== 201) throw new Error(`POST ${path}: ${reply.status} ${reply.text}`);
  return reply.body;
}

beforeAll(async () => {
  platform = await startTestPlatform();
  ({ token: credentials.token } = await platform.signUp('Bad Input Agency'));
  const client = await created('/v1/clients', { name: 'Shop' });
  const site = await created('/v1/sites', { client_id: client.id, name: 'shop.example' });
  await created(`/v1/sites/${site.id}/origins`, { origin: SHOP_ORIGIN });
  credentials.publishableKey = (
    await created('/v1/keys', { type: 'publishable', name: 'web', site_id: site.id })
  ).secret!;
});
afterAll(() => platform?.close());

describe('bad input', () => {
  test('the walk covers every operation of the spec', () => {
    expect(operations.length).toBeGreaterThan(0);
    const covered = new Set(cases.map((c) => c.operation.id));
    expect(operations.map((o) => o.id).filter((id) => !covered.has(id))).toEqual([]);
    const names = cases.map((c) => c.name);
    expect(names.filter((name, i) => names.indexOf(name) !== i)).toEqual([]);
  });

  test('the valid credentials the cases start from are accepted', async () => {
    const session = await platform.request('GET', '/v1/agencies', { token: credentials.token });
    expect(session.status, session.text).toBe(200);
    const pk = await platform.request('GET', `/v1/public/site?key=${credentials.publishableKey}`, {
      headers: { origin: SHOP_ORIGIN },
    });
    expect(pk.status, pk.text).toBe(200);
  });

  for (const c of cases) {
    test(c.name, async () => {
      const { method, path, options } = requestFor(c, credentials);
      expectProblem(await platform.request(method, path, options), c);
    });
  }
});
