import { createRequire } from 'node:module';
import type { OpenAPIV3_1 } from 'openapi-types';
import type { SecurityRequirements } from './auth.js';

const require = createRequire(import.meta.url);

export type OpenApiDocument = OpenAPIV3_1.Document;
export type ParameterObject = OpenAPIV3_1.ParameterObject;
export type SchemaObject = OpenAPIV3_1.SchemaObject;

/** The bundled contract (`npm run generate` writes it from openapi/). */
export function loadPlatformSpec(): OpenApiDocument {
  return require('@dramac/openapi/platform.json') as OpenApiDocument;
}

interface OAuthFlows {
  flows: Record<string, { tokenUrl?: string; authorizationUrl?: string; refreshUrl?: string }>;
}

/**
 * The contract as a server at `publicUrl` serves it: the OAuth flows' endpoints, relative in openapi/, made
 * absolute (the OpenAPI schema wants URLs there, and tools call them as they are).
 */
export function servedSpec(publicUrl: string): OpenApiDocument {
  const spec = loadPlatformSpec();
  const scheme = spec.components?.securitySchemes?.oauth2 as OAuthFlows | undefined;
  if (!scheme) return spec;
  const absolute = (url?: string) => url && new URL(url, publicUrl).href;
  const flows = Object.fromEntries(
    Object.entries(scheme.flows).map(([name, flow]) => [
      name,
      {
        ...flow,
        ...(flow.tokenUrl && { tokenUrl: absolute(flow.tokenUrl) }),
        ...(flow.authorizationUrl && { authorizationUrl: absolute(flow.authorizationUrl) }),
        ...(flow.refreshUrl && { refreshUrl: absolute(flow.refreshUrl) }),
      },
    ]),
  );
  return {
    ...spec,
    components: {
      ...spec.components,
      securitySchemes: { ...spec.components!.securitySchemes, oauth2: { ...scheme, flows } as never },
    },
  };
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/** One operation of the spec, with its `$ref`s resolved: what the server and the tests walk. */
export interface OperationInfo {
  id: string;
  method: (typeof METHODS)[number];
  /** The spec's path template, e.g. `/v1/sites/{siteId}`. */
  path: string;
  pattern: RegExp;
  security: SecurityRequirements;
  parameters: ParameterObject[];
  /** The JSON request body's schema, `$ref`s left for `resolve` to follow. */
  body: { required: boolean; schema: SchemaObject } | null;
  idempotent: boolean;
  /** The response statuses the spec declares explicitly (`default` aside). */
  statuses: string[];
  /** `x-any-origin`: public files any page may load (module bundles), so no Origin is refused. */
  anyOrigin: boolean;
  /**
   * `x-collection-access`: a module collection's operation, which needs the permission the collection names
   * for reading or writing (see api/src/http/authorize.ts).
   */
  collectionAccess: 'read' | 'write' | null;
  /** The query parameters it takes, the publishable key's `key` included. */
  queryNames: Set<string>;
  /** `x-eov-allow-unknown-query-parameters`: it takes others too (an identity provider's redirect adds its own). */
  openQuery: boolean;
}

/** Follows a local `$ref` (`#/components/…`) to what it names. */
export function resolve<T>(spec: OpenApiDocument, value: T | { $ref: string }): T {
  let current: unknown = value;
  while (current && typeof current === 'object' && '$ref' in current) {
    const ref = (current as { $ref: string }).$ref;
    current = ref
      .slice(2)
      .split('/')
      .reduce<unknown>(
        (node, part) => (node as Record<string, unknown>)[part.replace(/~1/g, '/').replace(/~0/g, '~')],
        spec,
      );
  }
  return current as T;
}

export function listOperations(spec: OpenApiDocument): OperationInfo[] {
  const operations: OperationInfo[] = [];
  for (const [path, item] of Object.entries(spec.paths ?? {})) {
    if (!item) continue;
    const pathParameters = (item.parameters ?? []).map((p) => resolve<ParameterObject>(spec, p));
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const own = (operation.parameters ?? []).map((p) => resolve<ParameterObject>(spec, p));
      const parameters = [...pathParameters.filter((p) => !own.some((o) => o.name === p.name)), ...own];
      const requestBody = operation.requestBody
        ? resolve<OpenAPIV3_1.RequestBodyObject>(spec, operation.requestBody)
        : null;
      const schema = requestBody?.content['application/json']?.schema;
      const security = (operation.security ?? spec.security ?? []) as SecurityRequirements;
      operations.push({
        id: operation.operationId!,
        method,
        path,
        pattern: new RegExp(`^${path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
        security,
        parameters,
        body: schema ? { required: requestBody?.required ?? false, schema: schema as SchemaObject } : null,
        idempotent: parameters.some((p) => p.in === 'header' && p.name.toLowerCase() === 'idempotency-key'),
        statuses: Object.keys(operation.responses ?? {}).filter((status) => status !== 'default'),
        anyOrigin: (operation as { 'x-any-origin'?: boolean })['x-any-origin'] === true,
        collectionAccess: (operation as { 'x-collection-access'?: 'read' | 'write' })['x-collection-access'] ?? null,
        queryNames: new Set([
          ...parameters.filter((p) => p.in === 'query').map((p) => p.name),
          ...(security.some((requirement) => 'publishableKey' in requirement) ? ['key'] : []),
        ]),
        openQuery:
          (operation as { 'x-eov-allow-unknown-query-parameters'?: boolean })[
            'x-eov-allow-unknown-query-parameters'
          ] === true,
      });
    }
  }
  return operations;
}
