/**
 * Stories of `<dm-booking>` in Component Story Format 3 (a default export describing the component, one
 * named export per state). Storybook is wired up later; these are plain objects so they need none of its
 * packages. Every story answers the element's requests with the canned data of `fixtures.ts` (the tests use
 * the same), so nothing needs a running API.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { THEME_AND_LANGUAGE, until, type Story as BaseStory, type StoryContext } from '../shared/stories.js';
import './booking.js';
import type { DmBooking } from './booking.js';
import {
  bookingFetch,
  fixtureApiBase,
  fixtureKey,
  fixtureToken,
  introCall,
  managedBooking,
  type BookingScenario,
} from './fixtures.js';

interface BookingStoryArgs {
  /** How the stand-in API answers. */
  scenario: BookingScenario;
  /** The module install's settings. */
  settings: Record<string, unknown>;
  theme?: 'light' | 'dark';
  lang?: 'en' | 'de';
  service?: string;
  timeZone?: string;
  /** Opens the manage view, as the confirmation email's `#dm-booking=<token>` link does. */
  manage: boolean;
}

type Story = BaseStory<BookingStoryArgs>;

function render(args: BookingStoryArgs): TemplateResult {
  // The manage view opens from the page address's fragment, as it does on a real page.
  const fragment = args.manage ? `#dm-booking=${fixtureToken}` : '';
  if (location.hash !== fragment) history.replaceState(null, '', `${location.pathname}${location.search}${fragment}`);
  return html`<dm-booking
    api-base=${fixtureApiBase}
    key=${fixtureKey}
    theme=${args.theme ?? nothing}
    lang=${args.lang ?? nothing}
    service=${args.service ?? nothing}
    time-zone=${args.timeZone ?? nothing}
    .settings=${args.settings}
    .fetch=${bookingFetch(args.scenario)}
  ></dm-booking>`;
}

export default {
  title: 'Modules/Booking/dm-booking',
  component: 'dm-booking',
  render,
  args: { scenario: {}, settings: {}, manage: false } satisfies BookingStoryArgs,
  argTypes: {
    ...THEME_AND_LANGUAGE,
    timeZone: { control: 'text' },
  },
};

function shadowOf(canvas: HTMLElement): ShadowRoot {
  return (canvas.querySelector('dm-booking') as DmBooking).shadowRoot!;
}

/** Chooses the first free day and its first free time: the details form opens. */
async function openForm({ canvasElement }: StoryContext): Promise<void> {
  const root = shadowOf(canvasElement);
  (await until(() => root.querySelector<HTMLElement>('[part~="available"]'), 'a free day')).click();
  (await until(() => root.querySelector<HTMLElement>('[part~="slot"]'), 'a free time')).click();
  await until(() => root.querySelector('form'), 'the form');
}

/** Fills in the form and books; waits for `part` (the confirmation, or the notice of a taken slot). */
const fillAndBook = (part: string) => async (context: StoryContext) => {
  await openForm(context);
  const root = shadowOf(context.canvasElement);
  const fill = (id: string, value: string) => {
    const field = root.getElementById(id) as HTMLInputElement;
    field.value = value;
  };
  fill('f-name', 'Margaret Hamilton');
  fill('f-email', 'margaret@example.com');
  fill('q-company', 'Apollo');
  root.querySelector('form')!.requestSubmit();
  await until(() => root.querySelector(`[part~="${part}"]`)?.textContent?.trim(), `the ${part}`);
};

export const Loading: Story = { args: { scenario: { pending: 'services' } } };

export const LoadingFreeTimes: Story = {
  name: 'Loading free times',
  args: { scenario: { services: [introCall], pending: 'availability' } },
};

export const ErrorState: Story = { name: 'Error', args: { scenario: { fail: 'services' } } };

export const ServicePicker: Story = { name: 'Service picker' };

export const CalendarWithSlots: Story = {
  name: 'Calendar with free times',
  args: { scenario: { services: [introCall] } },
};

export const NoSlots: Story = { name: 'No free times', args: { scenario: { services: [introCall], noSlots: true } } };

export const Form: Story = { name: 'Details form', args: { scenario: { services: [introCall] } }, play: openForm };

export const SlotTaken: Story = {
  name: 'Slot taken (409)',
  args: { scenario: { services: [introCall], book: 'slot_taken' } },
  play: fillAndBook('notice'),
};

export const Confirmation: Story = {
  name: 'Success / confirmation',
  args: { scenario: { services: [introCall] } },
  play: fillAndBook('confirmation'),
};

export const Manage: Story = { name: 'Manage view', args: { manage: true } };

export const Cancelled: Story = {
  args: {
    manage: true,
    scenario: { booking: { ...managedBooking, status: 'cancelled', cancelled_by: 'visitor' } },
  },
};

export const Light: Story = { args: { theme: 'light', scenario: { services: [introCall] } } };

export const Dark: Story = { args: { theme: 'dark', scenario: { services: [introCall] } } };

export const English: Story = { args: { lang: 'en' } };

export const German: Story = { name: 'Deutsch', args: { lang: 'de', settings: { locale: 'de' } } };

export const GermanConfirmation: Story = {
  name: 'Deutsch: Bestätigung',
  args: { lang: 'de', scenario: { services: [introCall] } },
  play: fillAndBook('confirmation'),
};

export const AccentAndSunday: Story = {
  name: 'Accent colour, weeks from Sunday',
  args: {
    scenario: { services: [introCall] },
    settings: { accent_color: '#0f766e', first_day_of_week: 'sunday', title: 'Talk to us' },
  },
};
