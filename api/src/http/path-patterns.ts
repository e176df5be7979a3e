import { createRequire } from 'node:module';

type PathToRegexp = (path: unknown, options?: { sensitive?: boolean; strict?: boolean }) => unknown;

/**
 * express-openapi-validator looks up each request's route by compiling every route template of the spec
 * into a regular expression again (path-to-regexp's `pathToRegexp`, its only caller): a tenth of a
 * request's CPU time. The templates are the spec's, so the compiled patterns are kept, on the module
 * instance the validator itself loads. It only reads them (`regexp` has no global flag: `exec` keeps no state).
 */
export function cachePathPatterns(): void {
  const validator = createRequire(import.meta.url).resolve('express-openapi-validator');
  const pathToRegexp = createRequire(validator)('path-to-regexp') as { pathToRegexp: PathToRegexp };
  const compile = pathToRegexp.pathToRegexp;
  if ((compile as { cached?: true }).cached) return;
  // One map per combination of the two flags the validator passes, keyed by the template.
  const caches = [
    new Map<string, unknown>(),
    new Map<string, unknown>(),
    new Map<string, unknown>(),
    new Map<string, unknown>(),
  ];
  const cached: PathToRegexp = (path, options) => {
    if (typeof path !== 'string') return compile(path, options);
    const cache = caches[(options?.sensitive ? 1 : 0) + (options?.strict ? 2 : 0)]!;
    let compiled = cache.get(path);
    if (compiled === undefined) cache.set(path, (compiled = compile(path, options)));
    return compiled;
  };
  pathToRegexp.pathToRegexp = Object.assign(cached, { cached: true as const });
}
