/**
 * React wrappers for every Dramac element (`@dramac/components/react`): props become element properties,
 * and each `dm-` event an element dispatches is an `onDm…` prop with a typed `detail`. `key` is reserved by
 * React, so pass the publishable key as `publishableKey` (or set it once with `init()` from `@dramac/sdk`).
 */
import * as React from 'react';
import { createComponent, type EventName } from '@lit/react';
import { DmCollectionList as DmCollectionListElement } from './collection-list/collection-list.js';
import type { DramacEventMap } from './shared/events.js';
import { DmProvider as DmProviderElement } from './shared/provider.js';

type Pascal<S extends string> = S extends `${infer Head}-${infer Tail}`
  ? `${Capitalize<Head>}${Pascal<Tail>}`
  : Capitalize<S>;

/** `dm-select` → `onDmSelect`, typed with that event's `detail`. */
type EventProps<K extends keyof DramacEventMap> = {
  [Name in K as `on${Pascal<Name>}`]: EventName<CustomEvent<DramacEventMap[Name]>>;
};

function eventProps<const K extends keyof DramacEventMap>(...names: K[]): EventProps<K> {
  const pascal = (name: string) => name.replace(/(?:^|-)(\w)/g, (_, letter: string) => letter.toUpperCase());
  // `EventName` is a string branded with its event type; the brand exists only for the compiler.
  return Object.fromEntries(names.map((name) => [`on${pascal(name)}`, name])) as unknown as EventProps<K>;
}

export const DmProvider = createComponent({
  react: React,
  tagName: 'dm-provider',
  elementClass: DmProviderElement,
  displayName: 'DmProvider',
});

export const DmCollectionList = createComponent({
  react: React,
  tagName: 'dm-collection-list',
  elementClass: DmCollectionListElement,
  displayName: 'DmCollectionList',
  events: eventProps('dm-load', 'dm-select', 'dm-error'),
});
