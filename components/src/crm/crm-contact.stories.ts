/**
 * Stories of `<dm-crm-contact>` in Component Story Format 3 (plain objects: no Storybook package needed).
 * Every story answers the element's requests with the canned data of `fixtures.ts` (the tests use the same).
 */
import { html, nothing, type TemplateResult } from 'lit';
import { THEME_AND_LANGUAGE, until, type Story as BaseStory, type StoryContext } from '../shared/stories.js';
import './crm-contact.js';
import type { DmCrmContact } from './crm-contact.js';
import {
  crmFetch,
  fixtureApiBase,
  fixtureContact,
  fixtureSiteId,
  fixtureToken,
  timelineOf,
  type CrmScenario,
} from './crm-fixtures.js';

interface ContactStoryArgs {
  /** How the stand-in API answers. */
  scenario: CrmScenario;
  /** The module install's settings. */
  settings: Record<string, unknown>;
  /** Whether a user is signed in (the element gets their token). */
  signedIn: boolean;
  contactId: string;
  theme?: 'light' | 'dark';
  lang?: 'en' | 'de';
}

type Story = BaseStory<ContactStoryArgs>;

function render(args: ContactStoryArgs): TemplateResult {
  return html`<dm-crm-contact
    api-base=${fixtureApiBase}
    site-id=${fixtureSiteId}
    contact-id=${args.contactId}
    theme=${args.theme ?? nothing}
    lang=${args.lang ?? nothing}
    .token=${args.signedIn ? fixtureToken : undefined}
    .settings=${args.settings}
    .fetch=${crmFetch(args.scenario)}
  ></dm-crm-contact>`;
}

export default {
  title: 'Modules/CRM/dm-crm-contact',
  component: 'dm-crm-contact',
  render,
  args: { scenario: {}, settings: {}, signedIn: true, contactId: fixtureContact.id } satisfies ContactStoryArgs,
  argTypes: {
    ...THEME_AND_LANGUAGE,
    signedIn: { control: 'boolean' },
  },
};

/** Presses "Show more" once the timeline is there, and waits for the older entries. */
async function showMore({ canvasElement }: StoryContext): Promise<void> {
  const root = (canvasElement.querySelector('dm-crm-contact') as DmCrmContact).shadowRoot!;
  (await until(() => root.querySelector<HTMLElement>('[part~="more"]'), 'the Show more button')).click();
  await until(() => root.querySelectorAll('[part~="entry"]').length > 20, 'the older entries');
}

export const Loading: Story = { args: { scenario: { pending: 'contact' } } };

export const SignedOut: Story = { name: 'Signed out', args: { signedIn: false } };

export const ErrorState: Story = { name: 'Error', args: { scenario: { fail: 'contact' } } };

export const Contact: Story = { name: 'Contact with timeline' };

export const EmptyTimeline: Story = { name: 'Empty timeline', args: { scenario: { timeline: [] } } };

export const LongTimeline: Story = {
  name: 'Long timeline, older entries shown',
  args: { scenario: { timeline: timelineOf(30) } },
  play: showMore,
};

export const Dark: Story = { args: { theme: 'dark' } };

export const German: Story = { name: 'Deutsch', args: { lang: 'de', settings: { locale: 'de' } } };
