/**
 * React wrappers for every Dramac element (`@dramac/components/react`): props become element properties,
 * and each `dm-` event an element dispatches is an `onDm…` prop with a typed `detail`. `key` is reserved by
 * React, so pass the publishable key as `publishableKey` (or set it once with `init()` from `@dramac/sdk`).
 * App elements (`DmCrmPipeline`, `DmCrmContact`) take the signed-in user's `token` prop (or their provider's).
 */
import * as React from 'react';
import { createComponent, type EventName } from '@lit/react';
import { DmBooking as DmBookingElement } from './booking/booking.js';
import { DmCollectionList as DmCollectionListElement } from './collection-list/collection-list.js';
import { DmContactForm as DmContactFormElement } from './crm/contact-form.js';
import { DmCrmContact as DmCrmContactElement } from './crm/crm-contact.js';
import { DmCrmPipeline as DmCrmPipelineElement } from './crm/crm-pipeline.js';
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

export const DmBooking = createComponent({
  react: React,
  tagName: 'dm-booking',
  elementClass: DmBookingElement,
  displayName: 'DmBooking',
  events: eventProps('dm-load', 'dm-booking-created', 'dm-booking-cancelled', 'dm-booking-rescheduled', 'dm-error'),
});

export const DmContactForm = createComponent({
  react: React,
  tagName: 'dm-contact-form',
  elementClass: DmContactFormElement,
  displayName: 'DmContactForm',
  events: eventProps('dm-contact-form-submitted', 'dm-error'),
});

export const DmCrmPipeline = createComponent({
  react: React,
  tagName: 'dm-crm-pipeline',
  elementClass: DmCrmPipelineElement,
  displayName: 'DmCrmPipeline',
  events: eventProps('dm-load', 'dm-crm-deal-moved', 'dm-error'),
});

export const DmCrmContact = createComponent({
  react: React,
  tagName: 'dm-crm-contact',
  elementClass: DmCrmContactElement,
  displayName: 'DmCrmContact',
  events: eventProps('dm-load', 'dm-error'),
});
