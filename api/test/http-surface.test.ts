import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listOperations, loadPlatformSpec, resolve } from '../src/http/spec.js';
import { handlers } from '../src/platform/index.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';

const spec = loadPlatformSpec();
const operations = listOperations(spec);
let platform: TestPlatform;

beforeAll(async () => {
  platform = await startTestPlatform();
});
afterAll(() => platform?.close());

describe('the spec is the truth', () => {
  it('has a handler for every operation, and no handler without an operation', () => {
    const served = [...Object.keys(handlers), 'getHealth', 'getReadiness'].sort();
    expect(served).toEqual(operations.map((operation) => operation.id).sort());
  });

  it('declares security on every operation, with scopes the spec defines', () => {
    const scopes = resolve<{ enum: string[] }>(spec, { $ref: '#/components/schemas/Scope' }).enum;
    for (const operation of operations) {
      const raw = spec.paths?.[operation.path]?.[operation.method];
      expect(raw?.security, `${operation.id} declares its security`).toBeDefined();
      for (const requirement of operation.security) {
        for (const scope of requirement.bearer ?? []) expect(scopes, operation.id).toContain(scope);
      }
    }
  });

  it('serves the spec and its interactive reference', async () => {
    const json = await platform.request('GET', '/openapi.json');
    expect(json.body.info.title).toBe(spec.info.title);
    expect(Object.keys(json.body.paths)).toEqual(Object.keys(spec.paths ?? {}));
    const docs = await platform.request('GET', '/docs');
    expect(docs.headers.get('content-type')).toContain('text/html');
    expect(docs.text).toContain('/docs/scalar.js');
    // Its scripts come from /docs/ only, not from the module bundles the same origin serves.
    expect(docs.headers.get('content-security-policy')).toContain(`script-src ${platform.url}/docs/;`);
    const bundle = await platform.request('GET', '/docs/scalar.js');
    expect(bundle.status).toBe(200);
    expect(bundle.text.length).toBeGreaterThan(100_000);
  });
});

describe('requests', () => {
  it('carry a request id, taken from the caller when it is sane', async () => {
    const echoed = await platform.request('GET', '/v1/clients', { headers: { 'x-request-id': 'trace-42.a' } });
    expect(echoed.headers.get('x-request-id')).toBe('trace-42.a');
    expect(echoed.body.request_id).toBe('trace-42.a');
    const replaced = await platform.request('GET', '/healthz', { headers: { 'x-request-id': 'no spaces <allowed>' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('answer unknown routes and methods with problems', async () => {
    const route = await platform.request('GET', '/v1/nothing-here');
    expect(route.status).toBe(404);
    expect(route.headers.get('content-type')).toContain('application/problem+json');
    expect(route.body.code).toBe('route_not_found');
    const method = await platform.request('PUT', '/v1/clients');
    expect(method.status).toBe(405);
    expect(method.body.code).toBe('method_not_allowed');
  });

  it('report liveness and readiness', async () => {
    expect((await platform.request('GET', '/healthz')).body).toEqual({ status: 'ok' });
    expect((await platform.request('GET', '/readyz')).body).toMatchObject({
      status: 'ready',
      checks: { database: 'ok' },
    });
  });
});
