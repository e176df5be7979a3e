import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import type { OpenAPIV3_1 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { collectionsDocument } from '../src/modules/collections-openapi.js';
import type { Manifest } from '../src/modules/manifest.js';
import { readFaqManifest } from '../../examples/faq-module/build.js';

const require = createRequire(import.meta.url);
const SERVER = { serverUrl: 'https://api.dramac.test' };

const faq: Manifest = {
  id: 'acme.faq',
  name: 'Acme FAQ',
  version: '1.2.0',
  type: 'widget',
  description: 'Questions and answers, and a form to ask new ones.',
  engines: { dramac: '^0.1.0' },
  collections: {
    questions: {
      description: 'The questions and their answers.',
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['question'],
        properties: {
          question: { type: 'string', minLength: 1, maxLength: 300 },
          answer: { type: 'string', maxLength: 5000 },
          category: { type: 'string', enum: ['billing', 'shipping', 'other'] },
          position: { type: 'integer', minimum: 0 },
          published: { type: 'boolean', default: false },
        },
      },
      indexes: ['category', 'position', 'published'],
      search: ['question', 'answer'],
      public: { read: ['question', 'answer', 'category'] },
    },
    submissions: {
      schema: {
        type: 'object',
        additionalProperties: false,
        required: ['email', 'message'],
        properties: {
          name: { type: 'string', maxLength: 100 },
          email: { type: 'string', format: 'email' },
          message: { type: 'string', minLength: 1, maxLength: 2000 },
          handled: { type: 'boolean', default: false },
        },
      },
      public: { create: ['name', 'email', 'message'] },
    },
  },
};
const bare: Manifest = {
  id: 'acme.banner',
  name: 'Acme Banner',
  version: '0.3.0',
  type: 'widget',
  description: 'A banner, with settings and no data of its own.',
  engines: { dramac: '^0.1.0' },
};

/**
 * Lints with the CLI `npm run lint:openapi` runs, and its config. Not `@redocly/openapi-core`'s API: the
 * package in node_modules is the 1.x one openapi-typescript depends on, whose rules differ from the CLI's
 * bundled 2.x (it misses an unused security scheme, for one).
 */
function lint(document: OpenAPIV3_1.Document) {
  const dir = mkdtempSync(join(tmpdir(), 'collections-openapi-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const cli = join(require.resolve('@redocly/cli/package.json'), '../bin/cli.js');
    const config = fileURLToPath(new URL('../../openapi/redocly.yaml', import.meta.url));
    const run = spawnSync(process.execPath, [cli, 'lint', file, '--config', config, '--format', 'json'], {
      encoding: 'utf8',
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
    });
    const report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{'))) as {
      totals: { errors: number; warnings: number };
      problems: { ruleId: string; message: string }[];
    };
    const { errors, warnings } = report.totals;
    return { errors, warnings, problems: report.problems.map((p) => `${p.ruleId}: ${p.message}`) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const operation = (document: OpenAPIV3_1.Document, path: string, method: 'get' | 'post' | 'patch' | 'delete') =>
  document.paths![path]![method]!;
const parameterNamed = (op: OpenAPIV3_1.OperationObject, name: string) =>
  (op.parameters as OpenAPIV3_1.ParameterObject[]).find((p) => p.name === name);
const schemaNamed = (document: OpenAPIV3_1.Document, name: string) =>
  document.components!.schemas![name] as { properties: Record<string, unknown>; required?: string[] };

/** An Ajv 2020 validator for one component schema, its `$ref`s resolved within the document. */
function validator(document: OpenAPIV3_1.Document) {
  // strict: false, since the document's root (openapi, info, paths) is no JSON Schema.
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats.default(ajv);
  ajv.addSchema(document as object, 'doc');
  return (name: string) => ajv.getSchema(`doc#/components/schemas/${name}`)!;
}

describe('the OpenAPI document of a module with collections', () => {
  const document = collectionsDocument(faq, SERVER);
  const questions = '/v1/m/acme.faq/questions';
  const submissions = '/v1/m/acme.faq/submissions';

  it('passes the lint of openapi/ with no error or warning', () => {
    expect(lint(document)).toEqual({ errors: 0, warnings: 0, problems: [] });
  });

  it('names the module, its version and its collections', () => {
    expect(document.openapi).toBe('3.1.0');
    expect(document.info).toMatchObject({ title: 'Acme FAQ API', version: '1.2.0' });
    expect(document.info.license).toEqual({ name: 'Proprietary', identifier: 'LicenseRef-Dramac' });
    expect(document.servers).toEqual([expect.objectContaining({ url: 'https://api.dramac.test' })]);
    expect(document.tags!.map((tag) => tag.name)).toEqual(['questions', 'submissions']);
    expect(Object.keys(document.paths!)).toEqual([
      questions,
      `${questions}/{itemId}`,
      submissions,
      `${submissions}/{itemId}`,
    ]);
    expect(operation(document, questions, 'get').operationId).toBe('listQuestions');
    expect(operation(document, questions, 'post').operationId).toBe('createQuestion');
    expect(operation(document, `${questions}/{itemId}`, 'get').operationId).toBe('getQuestion');
    expect(operation(document, `${questions}/{itemId}`, 'patch').operationId).toBe('updateQuestion');
    expect(operation(document, `${submissions}/{itemId}`, 'delete').operationId).toBe('deleteSubmission');
  });

  it('types a filter parameter per indexed field, and offers only their sorts', () => {
    const list = operation(document, questions, 'get');
    expect(parameterNamed(list, 'filter[category]')?.schema).toEqual({
      type: 'string',
      enum: ['billing', 'shipping', 'other'],
    });
    expect(parameterNamed(list, 'filter[position]')?.schema).toEqual({ type: 'integer', minimum: 0 });
    // The field's default is no default filter.
    expect(parameterNamed(list, 'filter[published]')?.schema).toEqual({ type: 'boolean' });
    expect(parameterNamed(list, 'filter[answer]')).toBeUndefined();
    expect((parameterNamed(list, 'sort')?.schema as { enum: string[] }).enum).toEqual([
      'category',
      '-category',
      'position',
      '-position',
      'published',
      '-published',
      'created_at',
      '-created_at',
      'updated_at',
      '-updated_at',
    ]);
    expect(parameterNamed(list, 'q')).toBeDefined();
    expect(parameterNamed(operation(document, submissions, 'get'), 'q')).toBeUndefined();
  });

  it('lets publishable keys do only what the manifest makes public', () => {
    const securityOf = (path: string, method: 'get' | 'post' | 'patch' | 'delete') =>
      operation(document, path, method).security!.flatMap((requirement) => Object.keys(requirement));
    expect(securityOf(questions, 'get')).toEqual(['bearer', 'oauth2', 'publishableKey']);
    expect(securityOf(`${questions}/{itemId}`, 'get')).toEqual(['bearer', 'oauth2', 'publishableKey']);
    expect(securityOf(questions, 'post')).toEqual(['bearer', 'oauth2']);
    expect(securityOf(`${questions}/{itemId}`, 'patch')).toEqual(['bearer', 'oauth2']);
    expect(securityOf(`${questions}/{itemId}`, 'delete')).toEqual(['bearer', 'oauth2']);
    expect(securityOf(submissions, 'get')).toEqual(['bearer', 'oauth2']);
    expect(securityOf(submissions, 'post')).toEqual(['bearer', 'oauth2', 'publishableKey']);
    expect(operation(document, questions, 'get').security![0]).toEqual({ bearer: ['collections:read'] });
    expect(operation(document, submissions, 'post').security![0]).toEqual({ bearer: ['collections:write'] });

    expect(Object.keys(schemaNamed(document, 'PublicQuestion').properties)).toEqual([
      'id',
      'created_at',
      'updated_at',
      'question',
      'answer',
      'category',
    ]);
    expect(Object.keys(schemaNamed(document, 'PublicSubmissionInput').properties)).toEqual([
      'name',
      'email',
      'message',
    ]);
    expect(document.components!.schemas!.PublicSubmissionList).toBeUndefined();
  });

  it('leaves a field visitors may not read out of the public record', () => {
    const hidden = structuredClone(faq);
    hidden.collections!.questions!.public = { read: ['question', 'category'] };
    const publicQuestion = schemaNamed(collectionsDocument(hidden, SERVER), 'PublicQuestion');
    expect(publicQuestion.properties).not.toHaveProperty('answer');
    expect(publicQuestion.properties).not.toHaveProperty('position');
  });

  it('answers 4xx with problems where they apply', () => {
    const statuses = (path: string, method: 'get' | 'post' | 'patch' | 'delete') =>
      Object.keys(operation(document, path, method).responses!);
    expect(statuses(questions, 'get')).toEqual(['200', '400', '401', '403', '404', 'default']);
    expect(statuses(questions, 'post')).toEqual(['201', '400', '401', '403', '404', '409', '422', 'default']);
    expect(statuses(`${questions}/{itemId}`, 'patch')).toEqual(['200', '400', '401', '403', '404', '422', 'default']);
    expect(statuses(`${questions}/{itemId}`, 'delete')).toEqual(['204', '400', '401', '403', '404', 'default']);
    expect(document.components!.responses!.Conflict).toEqual({
      description: expect.any(String),
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
  });

  it('has record, input and patch schemas that validate what the API exchanges', () => {
    const schema = validator(document);
    const record = {
      id: '0b0f6e1c-5d3a-4c7e-9a51-2f1f1b7e1d2a',
      created_at: '2025-01-02T03:04:05.000Z',
      updated_at: '2025-01-02T03:04:05.000Z',
      question: 'Do you ship abroad?',
      answer: 'Yes, to the whole EU.',
      category: 'shipping',
      position: 3,
      published: true,
    };
    expect(schema('Question')(record)).toBe(true);
    expect(schema('Question')({ ...record, position: 'third' })).toBe(false);
    expect(schema('Question')({ ...record, id: 'not-a-uuid' })).toBe(false);
    expect(schema('Question')({ ...record, created_at: undefined })).toBe(false);
    expect(schema('QuestionList')({ data: [record], has_more: false, next_cursor: null })).toBe(true);

    const { id: _id, created_at: _created, updated_at: _updated, ...fields } = record;
    expect(schema('QuestionInput')(fields)).toBe(true);
    expect(schema('QuestionInput')({ answer: 'No question' })).toBe(false);

    expect(schema('QuestionPatch')({ answer: null, position: 4 })).toBe(true);
    expect(schema('QuestionPatch')({ question: null })).toBe(false);
    expect(schema('QuestionPatch')({ colour: 'red' })).toBe(false);

    const { position: _position, published: _published, ...visible } = record;
    expect(schema('PublicQuestion')(visible)).toBe(true);
    expect(schema('PublicQuestion')(record)).toBe(false);

    expect(schema('PublicSubmissionInput')({ email: 'ann@example.com', message: 'Hi' })).toBe(true);
    expect(schema('PublicSubmissionInput')({ email: 'ann@example.com', message: 'Hi', handled: true })).toBe(false);
  });
});

describe('names that would collide', () => {
  const manifest: Manifest = {
    ...faq,
    collections: {
      question: { schema: { type: 'object', properties: { text: { type: 'string' } } } },
      questions: { schema: { type: 'object' }, public: { read: ['text'] } },
      problems: { schema: { type: 'object' }, public: { create: ['text'] } },
    },
  };
  const document = collectionsDocument(manifest, SERVER);

  it('are numbered, so operationIds and schemas stay unique and the document lints', () => {
    const operationIds = Object.values(document.paths!).flatMap((item) =>
      (['get', 'post', 'patch', 'delete'] as const).flatMap((method) => item?.[method]?.operationId ?? []),
    );
    expect(new Set(operationIds).size).toBe(operationIds.length);
    expect(operationIds).toEqual(expect.arrayContaining(['createQuestion', 'createQuestion2', 'createProblem2']));
    expect(schemaNamed(document, 'Problem').required).toEqual(['type', 'title', 'status', 'code']);
    expect(lint(document)).toEqual({ errors: 0, warnings: 0, problems: [] });
  });
});

describe('the OpenAPI document of a module without collections', () => {
  const document = collectionsDocument(bare, SERVER);

  it('is valid, with no paths and no components', () => {
    expect(document.paths).toEqual({});
    expect(document.components).toBeUndefined();
    expect(lint(document)).toEqual({ errors: 0, warnings: 0, problems: [] });
  });
});

describe('the example module’s documents', () => {
  it.each([1, 2] as const)('version %i passes the same lint', async (version) => {
    const document = collectionsDocument(await readFaqManifest(version), SERVER);
    expect(Object.keys(document.paths ?? {})).toContain('/v1/m/acme.faq/questions');
    expect(lint(document)).toEqual({ errors: 0, warnings: 0, problems: [] });
  });
});
