import type { Handlers } from '../http/operations.js';
import { agencyHandlers } from './agencies.js';
import { clientHandlers } from './clients.js';
import { customRoleHandlers } from './custom-roles.js';
import { keyHandlers } from './keys.js';
import { oauthClientHandlers } from './oauth-clients.js';
import { sessionHandlers } from './sessions.js';
import { siteHandlers } from './sites.js';
import { ssoHandlers } from './sso.js';
import { userHandlers } from './users.js';
import { collectionHandlers } from '../modules/collections.js';
import { installHandlers } from '../modules/installs.js';
import { integrationHandlers } from '../modules/integrations.js';
import { registryHandlers } from '../modules/registry.js';
import { siteConfigHandlers } from '../modules/site-config.js';
import { embedHandlers } from '../modules/embed.js';
import { webhookHandlers } from '../webhooks/api.js';
import { bookingHandlers } from '../modules/booking/handlers.js';
import { crmHandlers } from '../modules/crm/handlers.js';
import { crmFormHandlers } from '../modules/crm/form.js';
import { crmHygieneHandlers } from '../modules/crm/hygiene.js';

/** Every operation of the platform spec but the health checks, by operationId. */
export const handlers: Omit<Handlers, 'getHealth' | 'getReadiness'> = {
  ...sessionHandlers,
  ...agencyHandlers,
  ...clientHandlers,
  ...siteHandlers,
  ...userHandlers,
  ...customRoleHandlers,
  ...keyHandlers,
  ...oauthClientHandlers,
  ...registryHandlers,
  ...installHandlers,
  ...integrationHandlers,
  ...siteConfigHandlers,
  ...collectionHandlers,
  ...embedHandlers,
  ...webhookHandlers,
  ...ssoHandlers,
  ...bookingHandlers,
  ...crmHandlers,
  ...crmFormHandlers,
  ...crmHygieneHandlers,
};
