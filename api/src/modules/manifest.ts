/**
 * What a manifest must satisfy beyond its structure (which the OpenAPI validator already checked): naming,
 * what each module type may do, versions, JSON Schemas, and the bundle it ships. Pure: no database, so
 * collisions with other owners' ids, tags and tables are the registry's to check.
 */
import { parse } from 'acorn';
import { createRequire } from 'node:module';
import semver from 'semver';
import type { Schemas, Scope } from '../http/operations.js';
import { migrationNames } from '../db/migrations/index.js';
import { pointerToken } from '../http/problem.js';
import { ROLE_SCOPES } from '../platform/roles.js';
import { compileSchema, type SchemaIssue } from './json-schema.js';

export type Manifest = Schemas['ModuleManifest'];
type JsonSchema = Record<string, unknown>;

/** The platform's version, which `engines.dramac` must accept. */
const require = createRequire(import.meta.url);
export const PLATFORM_VERSION: string = (require('../../package.json') as { version: string }).version;

/** One broken rule, named by JSON pointer the way the request validator names fields (`/body/manifest/id`). */
export type ManifestIssue = SchemaIssue;

export interface BundleFile {
  path: string;
  content: Buffer;
}

export interface Publisher {
  /** The platform operator publishes first-party and system modules. */
  operator: boolean;
}

export interface CheckOptions {
  /** Lets lifecycle hooks use `http:` (local development and tests). */
  allowHttpHooks?: boolean;
}

export interface ManifestCheck {
  /** Broken rules: `422 invalid_manifest`. */
  issues: ManifestIssue[];
  /** Files or a bundle over the size limits: `413 bundle_too_large`. */
  tooLarge: ManifestIssue[];
}

export const MAX_FILE_BYTES = 512 * 1024;
export const MAX_BUNDLE_BYTES = 2 * 1024 * 1024;
/** Bundles hold ES modules; a first-party module's API document may be JSON or YAML. */
const FILE_TYPES = ['.js', '.json', '.yaml'];
/** The columns the platform adds to every collection record. */
export const RESERVED_FIELDS = ['id', 'site_id', 'created_at', 'updated_at'];

/** First-party ids are bare words; third-party ones `vendor.name`. */
export const isFirstParty = (moduleId: string) => !moduleId.includes('.');
const THING_VERB = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

type ModuleElement = Schemas['ModuleElement'];

/** Who an element is for: its `audience`, else visitors in a widget module and signed-in users in any other. */
export function audienceOf(manifest: Pick<Manifest, 'type'>, element: ModuleElement): 'visitors' | 'users' {
  return element.audience ?? (manifest.type === 'widget' ? 'visitors' : 'users');
}

/**
 * The elements a site's pages show (the loader's and the iframe embed's): those for visitors, of widget and
 * app modules (an app may offer visitors something, as the CRM's lead form). Integrations and system modules
 * render nothing on a site's pages.
 */
export function visitorElements(manifest: Pick<Manifest, 'type' | 'elements'>): ModuleElement[] {
  if (manifest.type !== 'widget' && manifest.type !== 'app') return [];
  return (manifest.elements ?? []).filter((element) => audienceOf(manifest, element) === 'visitors');
}

/** Whether a module serves a site's visitors (a widget, or an app with an element for them): public data is theirs. */
export const servesVisitors = (manifest: Pick<Manifest, 'type' | 'elements'>) =>
  manifest.type === 'widget' || visitorElements(manifest).length > 0;

const at = (...tokens: (string | number)[]) => ['/body', ...tokens.map(pointerToken)].join('/');
const field = (...tokens: (string | number)[]) => at('manifest', ...tokens);

export function checkManifest(
  manifest: Manifest,
  files: BundleFile[],
  publisher: Publisher,
  options: CheckOptions = {},
): ManifestCheck {
  const issues: ManifestIssue[] = [];
  const tooLarge: ManifestIssue[] = [];
  const report = (path: string, message: string) => issues.push({ path, message });
  const bundle = new Set(files.map((file) => file.path));
  const operatorOnly = (path: string, message: string) => {
    if (!publisher.operator) report(path, message);
  };

  // Naming: bare ids, `dm-` tags and the `dm` vendor are first-party.
  const firstParty = isFirstParty(manifest.id);
  const vendor = manifest.id.split('.')[0] ?? manifest.id;
  if (firstParty) {
    operatorOnly(
      field('id'),
      'is a first-party id (a bare word), which only the platform operator may use; use `vendor.name`',
    );
  } else if (vendor === 'dm') operatorOnly(field('id'), 'uses the `dm` vendor, which is the platform operator’s');
  const tagPrefix = firstParty ? 'dm-' : `${vendor}-`;

  // Type rules.
  const elements = manifest.elements ?? [];
  if (manifest.type === 'system') {
    operatorOnly(field('type'), 'is `system`, which only the platform operator may publish (it extends the platform)');
  }
  if ((manifest.type === 'widget' || manifest.type === 'app') && elements.length === 0) {
    report(field('elements'), `must list at least one element for a module of type \`${manifest.type}\``);
  }
  if (manifest.type === 'integration' && elements.length > 0) {
    report(field('elements'), 'must be empty: an integration has no element');
  }

  const tags = new Set<string>();
  elements.forEach((element, index) => {
    if (!element.tag.startsWith(tagPrefix)) {
      report(field('elements', index, 'tag'), `must start with \`${tagPrefix}\`, the prefix of \`${manifest.id}\``);
    }
    if (tags.has(element.tag)) report(field('elements', index, 'tag'), `repeats \`${element.tag}\``);
    tags.add(element.tag);
    if (!element.entry.endsWith('.js')) report(field('elements', index, 'entry'), 'must be a `.js` ES module');
    else if (!bundle.has(element.entry)) {
      report(field('elements', index, 'entry'), `names \`${element.entry}\`, which is not in the bundle`);
    }
    if (element.settings) checkSettings(element.settings, field('elements', index, 'settings'), report);
    if (element.launcher && !visitorElements(manifest).includes(element)) {
      report(field('elements', index, 'launcher'), 'is for elements of visitors only: it shows on the site’s pages');
    }
  });

  if (manifest.api) {
    operatorOnly(field('api'), 'is for first-party modules only: declare `collections` to get a generated API');
    const document = manifest.api.document;
    if (!bundle.has(document)) report(field('api', 'document'), `names \`${document}\`, which is not in the bundle`);
  }

  // Versions.
  const engines = manifest.engines.dramac;
  if (!semver.validRange(engines)) report(field('engines', 'dramac'), `\`${engines}\` is not a semver range`);
  else if (!semver.satisfies(PLATFORM_VERSION, engines)) {
    report(field('engines', 'dramac'), `\`${engines}\` excludes this platform, which is version ${PLATFORM_VERSION}`);
  }
  for (const [id, range] of Object.entries(manifest.dependencies ?? {})) {
    if (id === manifest.id) report(field('dependencies', id), 'a module cannot depend on itself');
    else if (!semver.validRange(range)) report(field('dependencies', id), `\`${range}\` is not a semver range`);
  }

  // A first-party module's tables come with the server, from its own migrations: none travel over HTTP.
  const database = manifest.database ?? {};
  if (database.migrations) {
    operatorOnly(field('database', 'migrations'), 'are for first-party modules only: declare `collections` instead');
    const known = migrationNames();
    database.migrations.forEach((name, index) => {
      if (!known.includes(name)) {
        report(field('database', 'migrations', index), `\`${name}\` is not a migration of this server`);
      }
    });
  }
  const floor = database.rollback_floor;
  if (floor && semver.valid(floor) && semver.valid(manifest.version) && semver.gt(floor, manifest.version)) {
    report(field('database', 'rollback_floor'), `must not be newer than the version itself (${manifest.version})`);
  }

  // Events are `<module id>.<thing>.<verb>`.
  for (const [name, event] of Object.entries(manifest.events ?? {})) {
    const prefix = `${manifest.id}.`;
    if (!name.startsWith(prefix) || !THING_VERB.test(name.slice(prefix.length))) {
      report(field('events', name), `must be named \`${prefix}<thing>.<verb>\``);
    }
    const compiled = compileSchema(event.payload);
    if ('error' in compiled) report(field('events', name, 'payload'), `is not a valid JSON Schema: ${compiled.error}`);
  }

  // Permissions are `<module id>.<thing>.<action>`, and collections name only declared ones.
  const permissions = manifest.access?.permissions ?? {};
  for (const id of Object.keys(permissions)) {
    const prefix = `${manifest.id}.`;
    if (!id.startsWith(prefix) || !THING_VERB.test(id.slice(prefix.length))) {
      report(field('access', 'permissions', id), `must be named \`${prefix}<thing>.<action>\``);
    }
  }

  for (const [name, collection] of Object.entries(manifest.collections ?? {})) {
    checkCollection(collection, field('collections', name), report);
    for (const [access, permission] of Object.entries(collection.access ?? {})) {
      if (!Object.hasOwn(permissions, permission)) {
        report(
          field('collections', name, 'access', access),
          `names \`${permission}\`, which the manifest does not declare in \`access.permissions\``,
        );
      }
    }
    const access = collection.public ?? {};
    if (!servesVisitors(manifest) && (access.read?.length || access.create?.length)) {
      report(
        field('collections', name, 'public'),
        'must be empty: the module has no element for visitors (widgets’ elements are; an app’s may say `audience: visitors`)',
      );
    }
  }

  for (const [hook, url] of hookUrls(manifest)) {
    const protocols = options.allowHttpHooks ? ['https:', 'http:'] : ['https:'];
    if (!protocols.includes(protocolOf(url))) {
      report(field('lifecycle', ...hook), `must be an ${protocols.join(' or ').replace(/:/g, '')} URL`);
    }
  }

  checkIntegration(manifest, options, report);

  const locales = manifest.locales;
  if (locales?.supported && !locales.supported.includes(locales.default)) {
    report(field('locales', 'default'), `\`${locales.default}\` must be one of \`supported\``);
  }

  checkBundle(files, manifest.api?.document, report, (path, message) => tooLarge.push({ path, message }));
  return { issues, tooLarge };
}

type Report = (path: string, message: string) => void;

/** Compiles an object schema the way runtime validation will; `undefined` when it is unusable. */
function objectSchema(schema: JsonSchema, path: string, report: Report) {
  const compiled = compileSchema(schema);
  if ('error' in compiled) report(path, `is not a valid JSON Schema: ${compiled.error}`);
  else if (schema.type !== 'object') report(`${path}/type`, 'must be `object`');
  else return compiled.validate;
}

/** Installs may leave settings out, so the defaults alone must make valid settings. */
function checkSettings(schema: JsonSchema, path: string, report: Report) {
  const validate = objectSchema(schema, path, report);
  const result = validate?.({});
  if (result && !result.valid) {
    const problems = result.issues.map((issue) => `${issue.path || '/'} ${issue.message}`).join('; ');
    report(path, `must have defaults that make \`{}\` valid settings (give required fields a default): ${problems}`);
  }
}

function checkCollection(collection: Schemas['ModuleCollection'], path: string, report: Report) {
  const schema = collection.schema;
  if (!objectSchema(schema, `${path}/schema`, report)) return;
  const declared = (schema.properties ?? {}) as Record<string, JsonSchema>;
  // Own properties only: `constructor` or `toString` must not pass for fields.
  const property = (name: string) => (Object.hasOwn(declared, name) ? declared[name] : undefined);
  for (const name of RESERVED_FIELDS) {
    if (property(name)) report(`${path}/schema/properties/${name}`, 'is reserved: the platform adds it');
  }

  const lists: [string, string[] | undefined][] = [
    ['indexes', collection.indexes],
    ['search', collection.search],
    ['public/read', collection.public?.read],
    ['public/create', collection.public?.create],
    ['public/where', Object.keys(collection.public?.where ?? {})],
  ];
  for (const [list, names] of lists) {
    names?.forEach((name, index) => {
      const definition = property(name);
      if (!definition) report(`${path}/${list}/${index}`, `\`${name}\` is not a top-level property of the schema`);
      else if (list === 'search' && definition.type !== 'string') {
        report(`${path}/${list}/${index}`, `\`${name}\` must be a string field to be searched`);
      }
    });
  }

  // A form that may not send a required field can never create a record.
  const create = collection.public?.create ?? [];
  if (create.length > 0) {
    const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
    const missing = required.filter((name) => !create.includes(name) && property(name)?.default === undefined);
    if (missing.length > 0) {
      report(
        `${path}/public/create`,
        `must include the required fields without a default (${missing.join(', ')}), or visitors cannot create records`,
      );
    }
  }
}

/**
 * What an integration's vendor may be given: what a credential limited to one client may carry (see
 * assertMayGrant), but nothing that makes credentials or changes who may do what — those would outlive the
 * install.
 */
const MINTING: readonly Scope[] = ['keys:write', 'users:write', 'webhooks:write', 'installs:write', 'sites:write'];
const INTEGRATION_SCOPES = ROLE_SCOPES.client_admin.filter((scope) => !MINTING.includes(scope));

/**
 * An integration's vendor back end, and the scopes its vendor will be given at each install: platform scopes a
 * credential limited to one client may carry.
 */
function checkIntegration(manifest: Manifest, options: CheckOptions, report: Report) {
  if (!manifest.integration) return;
  if (manifest.type !== 'integration') {
    report(field('integration'), `must not be set for a module of type \`${manifest.type}\``);
    return;
  }
  const url = URL.parse(manifest.integration.base_url);
  const protocols = options.allowHttpHooks ? ['https:', 'http:'] : ['https:'];
  if (!url || !protocols.includes(url.protocol) || url.search || url.hash || url.username) {
    report(
      field('integration', 'base_url'),
      `must be an ${protocols.join(' or ').replace(/:/g, '')} URL without query, fragment or credentials`,
    );
  }
  (manifest.permissions?.required ?? []).forEach((scope, index) => {
    if (!INTEGRATION_SCOPES.includes(scope as Scope)) {
      report(
        field('permissions', 'required', index),
        `\`${scope}\` cannot be given to an integration's vendor: use one of ${INTEGRATION_SCOPES.join(', ')}`,
      );
    }
  });
}

function protocolOf(url: string): string {
  try {
    return new URL(url).protocol;
  } catch {
    return '';
  }
}

function hookUrls(manifest: Manifest): [string[], string][] {
  const { uninstall, ...hooks } = manifest.lifecycle ?? {};
  const urls = Object.entries(hooks).map(([name, url]): [string[], string] => [[name], url]);
  if (uninstall?.hook) urls.push([['uninstall', 'hook'], uninstall.hook]);
  return urls;
}

function checkBundle(files: BundleFile[], apiDocument: string | undefined, report: Report, reportTooLarge: Report) {
  let total = 0;
  for (const file of files) {
    const path = at('files', file.path);
    total += file.content.length;
    const type = FILE_TYPES.find((extension) => file.path.endsWith(extension));
    if (!type || (type !== '.js' && file.path !== apiDocument)) {
      report(path, 'must be a `.js` ES module (or the `api` document, JSON or YAML)');
    } else if (file.content.length > MAX_FILE_BYTES) {
      reportTooLarge(path, `is ${file.content.length} bytes; a file may have at most ${MAX_FILE_BYTES}`);
    } else if (type === '.js') {
      const problem = esModuleProblem(file.content.toString('utf8'));
      if (problem) report(path, problem);
    }
  }
  if (total > MAX_BUNDLE_BYTES) {
    reportTooLarge(at('files'), `total ${total} bytes; a bundle may have at most ${MAX_BUNDLE_BYTES}`);
  }
}

const MODULE_SYNTAX = [
  'ImportDeclaration',
  'ExportNamedDeclaration',
  'ExportDefaultDeclaration',
  'ExportAllDeclaration',
];

/** The loader imports bundle files as ES modules; CommonJS, UMD and IIFE scripts would not load. */
function esModuleProblem(source: string): string | undefined {
  try {
    const program = parse(source, { ecmaVersion: 'latest', sourceType: 'module' });
    if (program.body.some((node) => MODULE_SYNTAX.includes(node.type))) return undefined;
    return 'must be an ES module (it has no import or export); CommonJS, UMD and IIFE scripts are not loaded';
  } catch (error) {
    return `must be an ES module, but does not parse as one: ${(error as Error).message}`;
  }
}
