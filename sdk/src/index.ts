export {
  createDramacClient,
  type components,
  type DramacClient,
  type DramacClientOptions,
  type operations,
  type paths,
} from './client.js';
export {
  getDefaultConnection,
  init,
  onDefaultConnectionChange,
  type DefaultConnection,
  type InitOptions,
} from './init.js';
