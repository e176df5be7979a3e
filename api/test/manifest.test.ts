/**
 * The manifest rules beyond structure, one case per rule, each naming the field it refuses; and the published
 * editor schema, checked the way an editor would.
 */
import { Ajv2020 } from 'ajv/dist/2020.js';
import formats from 'ajv-formats';
import { createRequire } from 'node:module';
import { describe, expect, test } from 'vitest';
import { compileSchema, recordValidator } from '../src/modules/json-schema.js';
import {
  checkManifest,
  PLATFORM_VERSION,
  type BundleFile,
  type CheckOptions,
  type Manifest,
  type Publisher,
} from '../src/modules/manifest.js';

const require = createRequire(import.meta.url);

function validManifest(): Manifest {
  return {
    $schema: 'https://dramac.dev/schemas/dramac.module.json',
    id: 'acme.faq',
    name: 'FAQ',
    version: '1.2.0',
    type: 'widget',
    description: 'Questions and answers.',
    category: 'content',
    author: { name: 'Acme', email: 'dev@acme.example', url: 'https://acme.example' },
    elements: [
      {
        tag: 'acme-faq',
        entry: 'faq.js',
        settings: {
          type: 'object',
          properties: { title: { type: 'string', default: 'FAQ' }, columns: { type: 'integer', default: 1 } },
          required: ['title'],
          additionalProperties: false,
        },
      },
    ],
    collections: {
      questions: {
        schema: {
          type: 'object',
          properties: {
            question: { type: 'string', maxLength: 500 },
            answer: { type: 'string' },
            email: { type: 'string', format: 'email' },
            published: { type: 'boolean', default: false },
            position: { type: 'integer' },
          },
          required: ['question', 'published'],
          additionalProperties: false,
        },
        indexes: ['position', 'published'],
        search: ['question', 'answer'],
        public: { read: ['question', 'answer'], create: ['question', 'email'] },
      },
    },
    events: {
      'acme.faq.question.created': {
        payload: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
      },
    },
    permissions: { required: ['sites:read'] },
    engines: { dramac: '^0.1.0' },
    dependencies: { crm: '^1.0.0' },
    database: { rollback_floor: '1.0.0' },
    lifecycle: { post_install: 'https://acme.example/hooks/installed', uninstall: { retention_days: 30 } },
    locales: { default: 'en', supported: ['en', 'fr'] },
  };
}

const file = (path: string, source: string): BundleFile => ({ path, content: Buffer.from(source) });
const validBundle = () => [
  file(
    'faq.js',
    "import { html } from './lit.js';\ncustomElements.define('acme-faq', class extends HTMLElement {});\n",
  ),
  file('lit.js', 'export const html = String.raw;\n'),
];

const THIRD_PARTY: Publisher = { operator: false };
const OPERATOR: Publisher = { operator: true };

test('a valid widget manifest and its ES module bundle pass', () => {
  expect(checkManifest(validManifest(), validBundle(), THIRD_PARTY)).toEqual({ issues: [], tooLarge: [] });
});

test('the platform version is the api package’s', () => {
  expect(PLATFORM_VERSION).toBe((require('../package.json') as { version: string }).version);
});

interface Case {
  rule: string;
  change: (manifest: Manifest, files: BundleFile[]) => void;
  publisher?: Publisher;
  options?: CheckOptions;
  path: string;
  message: RegExp;
}

type Collection = NonNullable<Manifest['collections']>[string];
const questions = (manifest: Manifest) => manifest.collections!.questions as Collection;
const element = (manifest: Manifest) => manifest.elements![0]!;

const cases: Case[] = [
  // Ids and tags.
  {
    rule: 'a bare id is first-party',
    change: (m) => {
      m.id = 'faq';
      m.events = {};
      element(m).tag = 'dm-faq';
    },
    path: '/body/manifest/id',
    message: /first-party id .*operator/,
  },
  {
    rule: 'the dm vendor is the operator’s',
    change: (m) => {
      m.id = 'dm.faq';
      m.events = {};
      element(m).tag = 'dm-faq';
    },
    path: '/body/manifest/id',
    message: /`dm` vendor/,
  },
  {
    rule: 'tags carry the vendor prefix',
    change: (m) => (element(m).tag = 'faq-list'),
    path: '/body/manifest/elements/0/tag',
    message: /must start with `acme-`/,
  },
  {
    rule: 'first-party tags carry dm-',
    change: (m) => {
      m.id = 'faq';
      m.events = {};
    },
    publisher: OPERATOR,
    path: '/body/manifest/elements/0/tag',
    message: /must start with `dm-`/,
  },
  {
    rule: 'tags are unique',
    change: (m) => m.elements!.push({ tag: 'acme-faq', entry: 'faq.js' }),
    path: '/body/manifest/elements/1/tag',
    message: /repeats `acme-faq`/,
  },
  {
    rule: 'entries are in the bundle',
    change: (m) => (element(m).entry = 'missing.js'),
    path: '/body/manifest/elements/0/entry',
    message: /`missing.js`.*not in the bundle/,
  },
  {
    rule: 'entries are ES modules',
    change: (m) => (element(m).entry = 'faq.mjs'),
    path: '/body/manifest/elements/0/entry',
    message: /\.js/,
  },

  // Types.
  {
    rule: 'a widget has an element',
    change: (m) => (m.elements = []),
    path: '/body/manifest/elements',
    message: /at least one element .*widget/,
  },
  {
    rule: 'an app has an element',
    change: (m) => {
      m.type = 'app';
      delete m.elements;
      delete questions(m).public;
    },
    path: '/body/manifest/elements',
    message: /at least one element .*app/,
  },
  {
    rule: 'an integration has no element',
    change: (m) => {
      m.type = 'integration';
      delete questions(m).public;
    },
    path: '/body/manifest/elements',
    message: /integration has no element/,
  },
  {
    rule: 'an integration has no public access',
    change: (m) => {
      m.type = 'integration';
      delete m.elements;
    },
    path: '/body/manifest/collections/questions/public',
    message: /no element for visitors/,
  },
  {
    rule: 'launchers are for elements of visitors',
    change: (m) => {
      m.type = 'app';
      delete questions(m).public;
      element(m).launcher = { label: 'Help' };
    },
    path: '/body/manifest/elements/0/launcher',
    message: /elements of visitors only/,
  },
  {
    rule: 'a widget’s element for signed-in users has no launcher',
    change: (m) => {
      element(m).audience = 'users';
      element(m).launcher = { label: 'Help' };
      delete questions(m).public;
    },
    path: '/body/manifest/elements/0/launcher',
    message: /elements of visitors only/,
  },
  {
    rule: 'an app has no public access',
    change: (m) => (m.type = 'app'),
    path: '/body/manifest/collections/questions/public',
    message: /no element for visitors/,
  },
  {
    rule: 'public conditions name properties',
    change: (m) => (questions(m).public!.where = { hidden: true }),
    path: '/body/manifest/collections/questions/public/where/0',
    message: /not a top-level property/,
  },
  {
    rule: 'system modules are the operator’s',
    change: (m) => {
      m.type = 'system';
      delete questions(m).public;
    },
    path: '/body/manifest/type',
    message: /only the platform operator/,
  },
  {
    rule: 'hand-written routes are first-party',
    change: (m, f) => ((m.api = { document: 'api.yaml' }), f.push(file('api.yaml', 'openapi: 3.1.0\n'))),
    path: '/body/manifest/api',
    message: /first-party modules only/,
  },
  {
    rule: 'the api document is in the bundle',
    change: (m) => {
      m.id = 'faq';
      m.events = {};
      element(m).tag = 'dm-faq';
      m.api = { document: 'openapi.yaml' };
    },
    publisher: OPERATOR,
    path: '/body/manifest/api/document',
    message: /`openapi.yaml`.*not in the bundle/,
  },
  {
    rule: 'migrations are first-party',
    change: (m) => (m.database = { migrations: ['0002_modules'] }),
    path: '/body/manifest/database/migrations',
    message: /first-party modules only/,
  },
  {
    rule: 'migrations are the server’s',
    change: (m) => (m.database = { migrations: ['0099_future'] }),
    publisher: OPERATOR,
    path: '/body/manifest/database/migrations/0',
    message: /`0099_future` is not a migration of this server/,
  },
  {
    rule: 'no SQL travels in a bundle',
    change: (_m, f) => f.push(file('001.sql', 'drop table agencies;')),
    path: '/body/files/001.sql',
    message: /must be a `\.js` ES module/,
  },
  {
    rule: 'schemas are self-contained',
    change: (m) =>
      (questions(m).schema = {
        type: 'object',
        $defs: { text: { type: 'string' } },
        properties: { question: { $ref: '#/$defs/text' } },
      }),
    path: '/body/manifest/collections/questions/schema',
    message: /references are not supported/,
  },
  {
    rule: 'patterns run on RE2, which has no backreferences',
    change: (m) =>
      ((questions(m).schema.properties as Record<string, object>).question = { type: 'string', pattern: '^(a)\\1$' }),
    path: '/body/manifest/collections/questions/schema',
    message: /not a valid JSON Schema/,
  },

  // Versions.
  {
    rule: 'engines is a semver range',
    change: (m) => (m.engines.dramac = 'soon'),
    path: '/body/manifest/engines/dramac',
    message: /`soon` is not a semver range/,
  },
  {
    rule: 'engines includes this platform',
    change: (m) => (m.engines.dramac = '>=2.0.0'),
    path: '/body/manifest/engines/dramac',
    message: new RegExp(`version ${PLATFORM_VERSION.replace(/\./g, '\\.')}`),
  },
  {
    rule: 'no dependency on itself',
    change: (m) => (m.dependencies = { 'acme.faq': '^1.0.0' }),
    path: '/body/manifest/dependencies/acme.faq',
    message: /itself/,
  },
  {
    rule: 'dependencies are ranges',
    change: (m) => (m.dependencies = { crm: 'latest!' }),
    path: '/body/manifest/dependencies/crm',
    message: /not a semver range/,
  },
  {
    rule: 'the rollback floor is not newer',
    change: (m) => (m.database = { rollback_floor: '1.3.0' }),
    path: '/body/manifest/database/rollback_floor',
    message: /1\.2\.0/,
  },

  // Events.
  {
    rule: 'events start with the module id',
    change: (m) => (m.events = { 'other.question.created': { payload: { type: 'object' } } }),
    path: '/body/manifest/events/other.question.created',
    message: /`acme\.faq\.<thing>\.<verb>`/,
  },
  {
    rule: 'events are thing.verb after the id',
    change: (m) => (m.events = { 'acme.faq.question.created.twice': { payload: { type: 'object' } } }),
    path: '/body/manifest/events/acme.faq.question.created.twice',
    message: /<thing>\.<verb>/,
  },
  {
    rule: 'payloads compile',
    change: (m) => (m.events = { 'acme.faq.question.created': { payload: { type: 'object', required: 'id' } } }),
    path: '/body/manifest/events/acme.faq.question.created/payload',
    message: /not a valid JSON Schema: .*required/,
  },

  // JSON Schemas.
  {
    rule: 'settings compile (strict)',
    change: (m) => (element(m).settings = { type: 'object', colour: 'red' }),
    path: '/body/manifest/elements/0/settings',
    message: /not a valid JSON Schema: .*unknown keyword: "colour"/,
  },
  {
    rule: 'settings are an object',
    change: (m) => (element(m).settings = { type: 'array' }),
    path: '/body/manifest/elements/0/settings/type',
    message: /`object`/,
  },
  {
    rule: 'settings defaults make {} valid',
    change: (m) =>
      (element(m).settings = { type: 'object', properties: { title: { type: 'string' } }, required: ['title'] }),
    path: '/body/manifest/elements/0/settings',
    message: /defaults .*\/title must have required property 'title'/,
  },
  {
    rule: 'collection schemas compile',
    change: (m) => (questions(m).schema = { type: 'object', properties: { a: { type: 'text' } } }),
    path: '/body/manifest/collections/questions/schema',
    message: /not a valid JSON Schema: .*type/,
  },
  {
    rule: 'collection schemas know their formats',
    change: (m) =>
      Object.assign(questions(m).schema.properties as object, { email: { type: 'string', format: 'colour' } }),
    path: '/body/manifest/collections/questions/schema',
    message: /unknown format "colour"/,
  },
  {
    rule: 'collection schemas are objects',
    change: (m) => (questions(m).schema = { type: 'string' }),
    path: '/body/manifest/collections/questions/schema/type',
    message: /`object`/,
  },
  {
    rule: 'platform fields are reserved',
    change: (m) => Object.assign(questions(m).schema.properties as object, { created_at: { type: 'string' } }),
    path: '/body/manifest/collections/questions/schema/properties/created_at',
    message: /reserved/,
  },

  // Collections.
  {
    rule: 'indexes are properties',
    change: (m) => (questions(m).indexes = ['position', 'rank']),
    path: '/body/manifest/collections/questions/indexes/1',
    message: /`rank` is not a top-level property/,
  },
  {
    rule: 'inherited names are not properties',
    change: (m) => (questions(m).indexes = ['constructor']),
    path: '/body/manifest/collections/questions/indexes/0',
    message: /`constructor` is not a top-level property/,
  },
  {
    rule: 'search fields are properties',
    change: (m) => (questions(m).search = ['title']),
    path: '/body/manifest/collections/questions/search/0',
    message: /`title` is not a top-level property/,
  },
  {
    rule: 'search fields are strings',
    change: (m) => (questions(m).search = ['question', 'position']),
    path: '/body/manifest/collections/questions/search/1',
    message: /`position` must be a string/,
  },
  {
    rule: 'public read fields are properties',
    change: (m) => (questions(m).public!.read = ['secret']),
    path: '/body/manifest/collections/questions/public/read/0',
    message: /`secret` is not a top-level property/,
  },
  {
    rule: 'public create fields are properties',
    change: (m) => (questions(m).public!.create = ['question', 'name']),
    path: '/body/manifest/collections/questions/public/create/1',
    message: /`name` is not a top-level property/,
  },
  {
    rule: 'public create covers required fields without default',
    change: (m) => (questions(m).public!.create = ['email']),
    path: '/body/manifest/collections/questions/public/create',
    message: /required fields without a default \(question\)/,
  },

  // Hooks and locales.
  {
    rule: 'hooks are https',
    change: (m) => (m.lifecycle = { pre_upgrade: 'http://acme.example/hook' }),
    path: '/body/manifest/lifecycle/pre_upgrade',
    message: /must be an https URL/,
  },
  {
    rule: 'the uninstall hook is https',
    change: (m) => (m.lifecycle = { uninstall: { hook: 'ftp://acme.example/hook', retention_days: 30 } }),
    options: { allowHttpHooks: true },
    path: '/body/manifest/lifecycle/uninstall/hook',
    message: /must be an https or http URL/,
  },
  {
    rule: 'the default locale is supported',
    change: (m) => (m.locales = { default: 'de', supported: ['en'] }),
    path: '/body/manifest/locales/default',
    message: /`de` must be one of `supported`/,
  },

  // Bundle files.
  {
    rule: 'CommonJS is refused',
    change: (_m, f) => f.push(file('lib/cjs.js', 'module.exports = {};')),
    path: '/body/files/lib~1cjs.js',
    message: /must be an ES module/,
  },
  {
    rule: 'an IIFE is refused',
    change: (_m, f) => f.push(file('iife.js', '(function () { window.x = 1; })();')),
    path: '/body/files/iife.js',
    message: /must be an ES module/,
  },
  {
    rule: 'unparsable JavaScript is refused',
    change: (_m, f) => f.push(file('broken.js', 'export const = ;')),
    path: '/body/files/broken.js',
    message: /does not parse/,
  },
  {
    rule: 'other file types are refused',
    change: (_m, f) => f.push(file('logo.png', 'png')),
    path: '/body/files/logo.png',
    message: /must be a `\.js` ES module/,
  },
];

describe('manifest rules', () => {
  test.each(cases)('$rule', ({ change, publisher = THIRD_PARTY, options, path, message }) => {
    const manifest = validManifest();
    const files = validBundle();
    change(manifest, files);
    const { issues, tooLarge } = checkManifest(manifest, files, publisher, options);
    expect(issues).toEqual([{ path, message: expect.stringMatching(message) }]);
    expect(tooLarge).toEqual([]);
  });

  test('the operator may publish first-party, system modules with routes and migrations', () => {
    const manifest = validManifest();
    Object.assign(manifest, { id: 'faq', type: 'system', events: {}, api: { document: 'openapi.json' } });
    delete manifest.collections!.questions!.public;
    manifest.database = { migrations: ['0001_platform', '0002_modules'] };
    element(manifest).tag = 'dm-faq';
    const files = [...validBundle(), file('openapi.json', '{}')];
    expect(checkManifest(manifest, files, OPERATOR).issues).toEqual([]);
  });

  test('http hooks are allowed when asked for', () => {
    const manifest = validManifest();
    manifest.lifecycle = { pre_install: 'http://localhost:9999/hook' };
    expect(checkManifest(manifest, validBundle(), THIRD_PARTY, { allowHttpHooks: true }).issues).toEqual([]);
    expect(checkManifest(manifest, validBundle(), THIRD_PARTY).issues).toHaveLength(1);
  });

  test('a file over 512 KiB is too large', () => {
    const files = [...validBundle(), file('big.js', `export const s = '${'x'.repeat(512 * 1024)}';`)];
    const { issues, tooLarge } = checkManifest(validManifest(), files, THIRD_PARTY);
    expect(issues).toEqual([]);
    expect(tooLarge).toEqual([{ path: '/body/files/big.js', message: expect.stringMatching(/at most 524288/) }]);
  });

  test('a bundle over 2 MiB is too large', () => {
    const chunk = `export const s = '${'x'.repeat(500 * 1024)}';`;
    const files = [...validBundle(), ...[1, 2, 3, 4, 5].map((n) => file(`chunk${n}.js`, chunk))];
    const { issues, tooLarge } = checkManifest(validManifest(), files, THIRD_PARTY);
    expect(issues).toEqual([]);
    expect(tooLarge).toEqual([{ path: '/body/files', message: expect.stringMatching(/at most 2097152/) }]);
  });
});

describe('runtime validators', () => {
  const schema = validManifest().collections!.questions!.schema;

  test('fill defaults on a copy and return it', () => {
    const input = { question: 'Why?' };
    expect(recordValidator(schema)(input)).toEqual({
      valid: true,
      value: { question: 'Why?', published: false },
    });
    expect(input).toEqual({ question: 'Why?' });
  });

  test('name the missing, extra and invalid fields', () => {
    const result = recordValidator(schema, '/body')({ extra: 1, position: 'first' });
    expect(result).toEqual({
      valid: false,
      issues: expect.arrayContaining([
        { path: '/body/question', message: "must have required property 'question'" },
        { path: '/body/extra', message: 'must NOT have additional properties' },
        { path: '/body/position', message: 'must be integer' },
      ]),
    });
  });

  test('each schema by its own rules, however many share a process', () => {
    // Two databases may each hold an acme.faq@1.0.0 with a different schema; neither may borrow the other's.
    const optional = { type: 'object', properties: { x: { type: 'string' } } };
    const required = { ...optional, required: ['x'] };
    expect(recordValidator(optional)({}).valid).toBe(true);
    expect(recordValidator(required)({}).valid).toBe(false);
    expect(recordValidator(structuredClone(optional))({}).valid).toBe(true);
  });

  test('point relative to the data unless told where it sits', () => {
    const settings = element(validManifest()).settings!;
    expect(recordValidator(settings)({ columns: 'two' })).toEqual({
      valid: false,
      issues: [{ path: '/columns', message: 'must be integer' }],
    });
    expect(recordValidator(settings, '/body/settings/acme-faq')({ x: 1 })).toEqual({
      valid: false,
      issues: [{ path: '/body/settings/acme-faq/x', message: 'must NOT have additional properties' }],
    });
  });

  test('schemas may reuse an $id across versions', () => {
    const withId = { $id: 'https://acme.example/faq.json', type: 'object' };
    expect(compileSchema(withId)).not.toHaveProperty('error');
    expect(compileSchema({ ...withId })).not.toHaveProperty('error');
  });
});

describe('the editor schema (dramac.module.schema.json)', () => {
  const editorSchema = require('@dramac/openapi/dramac.module.schema.json') as Record<string, unknown>;
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  formats.default(ajv);
  const validate = ajv.compile(editorSchema);

  test('is a standalone draft 2020-12 schema', () => {
    expect(editorSchema.$schema).toBe('https://json-schema.org/draft/2020-12/schema');
    expect(editorSchema.$id).toBe('https://dramac.dev/schemas/dramac.module.json');
    expect(JSON.stringify(editorSchema)).not.toContain('#/components/');
  });

  test('accepts the valid manifest', () => {
    expect(validate(validManifest()), JSON.stringify(validate.errors)).toBe(true);
  });

  test.each([
    ['an unknown type', { type: 'gadget' }, '/type'],
    ['a version that is not semver', { version: '1.0' }, '/version'],
  ])('refuses %s', (_name, change, instancePath) => {
    expect(validate({ ...validManifest(), ...change })).toBe(false);
    expect(validate.errors).toEqual([expect.objectContaining({ instancePath })]);
  });
});
