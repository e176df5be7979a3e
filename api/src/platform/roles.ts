import type { Role, Scope } from '../http/operations.js';

export const ALL_SCOPES: readonly Scope[] = [
  'agency:read',
  'agency:write',
  'agency:delete',
  'clients:read',
  'clients:write',
  'sites:read',
  'sites:write',
  'users:read',
  'users:write',
  'keys:read',
  'keys:write',
  'modules:read',
  'modules:publish',
  'installs:read',
  'installs:write',
  'collections:read',
  'collections:write',
  'webhooks:read',
  'webhooks:write',
  'booking:read',
  'booking:write',
  'booking:manage',
  'crm:read',
  'crm:write',
  'crm:admin',
];

/** What everyone who works on sites may do with modules: browse the catalog, install, manage the data. */
const MODULE_WORK: readonly Scope[] = [
  'modules:read',
  'installs:read',
  'installs:write',
  'collections:read',
  'collections:write',
  'booking:read',
  'booking:write',
  'booking:manage',
  'crm:read',
  'crm:write',
  'crm:admin',
];

/** What each role may do. Operations name the scopes they need in the spec; this is the only other half. */
export const ROLE_SCOPES: Record<Role, readonly Scope[]> = {
  agency_owner: ALL_SCOPES,
  agency_admin: ALL_SCOPES.filter((scope) => scope !== 'agency:delete'),
  agency_member: [
    'agency:read',
    'clients:read',
    'sites:read',
    'sites:write',
    'users:read',
    'keys:read',
    ...MODULE_WORK,
  ],
  client_admin: [
    'agency:read',
    'clients:read',
    'sites:read',
    'sites:write',
    'users:read',
    'users:write',
    'keys:read',
    'keys:write',
    'webhooks:read',
    'webhooks:write',
    ...MODULE_WORK,
  ],
  client_member: [
    'agency:read',
    'clients:read',
    'sites:read',
    'users:read',
    'modules:read',
    'installs:read',
    'collections:read',
    // Front-desk work: seeing the calendar, booking, cancelling and moving for visitors — not the services,
    // people and schedules (booking:write), nor where their emails go.
    'booking:read',
    'booking:manage',
    // Day-to-day sales work: contacts, companies, deals and activities — not pipelines, custom fields,
    // imports, merges or erasure (crm:admin).
    'crm:read',
    'crm:write',
  ],
};

export const isClientRole = (role: Role) => role.startsWith('client_');
