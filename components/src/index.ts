// The provider first: elements upgraded after it find their connection at once.
export { DmProvider } from './shared/provider.js';
export { DmCollectionList, type CollectionRecord } from './collection-list/collection-list.js';
export * from './shared/index.js';
