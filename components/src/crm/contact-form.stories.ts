/**
 * Stories of `<dm-contact-form>` in Component Story Format 3 (a default export describing the component, one
 * named export per state). Plain objects, so they need none of Storybook's packages. Every story answers the
 * element's request with `fixtures.ts` (the tests use the same), so nothing needs a running API. The
 * agency's configurator edits `settings`, which are the CRM install's `dm-contact-form` settings.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { THEME_AND_LANGUAGE, until, type Story as BaseStory, type StoryContext } from '../shared/stories.js';
import './contact-form.js';
import type { DmContactForm } from './contact-form.js';
import { contactFormFetch, fixtureApiBase, fixtureKey, type ContactFormScenario } from './contact-form-fixtures.js';

interface ContactFormStoryArgs {
  /** How the stand-in API answers. */
  scenario: ContactFormScenario;
  /** The CRM install's `dm-contact-form` settings. */
  settings: Record<string, unknown>;
  theme?: 'light' | 'dark';
  lang?: 'en' | 'de';
}

type Story = BaseStory<ContactFormStoryArgs>;

function render(args: ContactFormStoryArgs): TemplateResult {
  return html`<dm-contact-form
    api-base=${fixtureApiBase}
    key=${fixtureKey}
    theme=${args.theme ?? nothing}
    lang=${args.lang ?? nothing}
    .settings=${args.settings}
    .fetch=${contactFormFetch(args.scenario)}
  ></dm-contact-form>`;
}

export default {
  title: 'Modules/CRM/dm-contact-form',
  component: 'dm-contact-form',
  render,
  args: { scenario: {}, settings: {} } satisfies ContactFormStoryArgs,
  argTypes: {
    ...THEME_AND_LANGUAGE,
  },
};

function shadowOf(canvas: HTMLElement): ShadowRoot {
  return (canvas.querySelector('dm-contact-form') as DmContactForm).shadowRoot!;
}

/** Fills in what the form asks for (consent ticked) and sends it; waits until it is sending or answered. */
const fillAndSend =
  (entries: Record<string, string> = {}) =>
  async ({ canvasElement }: StoryContext) => {
    const root = shadowOf(canvasElement);
    const form = await until(() => root.querySelector('form'), 'the form');
    const values: Record<string, string> = {
      email: 'margaret@example.com',
      first_name: 'Margaret',
      last_name: 'Hamilton',
      phone: '+1 617 555 0100',
      company: 'Apollo',
      message: 'Could we talk about a new website?',
      ...entries,
    };
    for (const [name, value] of Object.entries(values)) {
      const field = root.getElementById(`f-${name}`) as HTMLInputElement | null;
      if (field) field.value = value;
    }
    const consent = root.getElementById('f-consent') as HTMLInputElement | null;
    if (consent) consent.checked = true;
    form.requestSubmit();
    await until(
      () => root.querySelector('[part~="status"]')?.textContent?.trim() || root.querySelector('[aria-busy="true"]'),
      'the answer',
    );
  };

const ALL_FIELDS = [
  { name: 'first_name', required: true },
  { name: 'last_name' },
  { name: 'email', required: true },
  { name: 'phone' },
  { name: 'company' },
  { name: 'message', required: true },
];

export const Default: Story = { name: 'Default fields' };

export const AllFields: Story = {
  name: 'All fields, with consent',
  args: {
    settings: {
      title: 'Request a quote',
      intro: 'Tell us about your project; we answer within a day.',
      fields: ALL_FIELDS,
      consent: { enabled: true, text: 'I agree that Acme stores my details to answer me (see our privacy policy).' },
      submit_label: 'Request quote',
    },
  },
};

export const EmailOnly: Story = {
  name: 'Email only (newsletter)',
  args: {
    settings: {
      title: 'Stay in touch',
      fields: [{ name: 'email', label: 'Your email address' }],
      submit_label: 'Subscribe',
    },
  },
};

export const ValidationErrors: Story = {
  name: 'Validation errors',
  args: { settings: { fields: ALL_FIELDS, consent: { enabled: true } } },
  play: async ({ canvasElement }) => {
    const root = shadowOf(canvasElement);
    const form = await until(() => root.querySelector('form'), 'the form');
    (root.getElementById('f-email') as HTMLInputElement).value = 'not an address';
    form.requestSubmit();
    await until(() => root.querySelector('[part~="field-error"]'), 'an error');
  },
};

export const Sending: Story = { args: { scenario: { answer: 'pending' } }, play: fillAndSend() };

export const Success: Story = {
  name: 'Success',
  args: { settings: { success_message: 'Thanks! Ada will call you back today.' } },
  play: fillAndSend(),
};

export const RefusedField: Story = {
  name: 'Refused by the API (400)',
  args: {
    scenario: {
      answer: 'invalid',
      invalidField: { path: '/body/fields/email', message: 'must match format "email"' },
    },
  },
  play: fillAndSend(),
};

export const RateLimited: Story = {
  name: 'Too many attempts (429)',
  args: { scenario: { answer: 'rate_limited', retryAfter: 120 } },
  play: fillAndSend(),
};

export const Failed: Story = { name: 'Sending failed', args: { scenario: { answer: 'error' } }, play: fillAndSend() };

export const Light: Story = { args: { theme: 'light', settings: { fields: ALL_FIELDS } } };

export const Dark: Story = { args: { theme: 'dark', settings: { fields: ALL_FIELDS, consent: { enabled: true } } } };

export const German: Story = {
  name: 'Deutsch',
  args: { lang: 'de', settings: { locale: 'de', fields: ALL_FIELDS, consent: { enabled: true } } },
};

export const GermanSuccess: Story = {
  name: 'Deutsch: gesendet',
  args: { lang: 'de', settings: { locale: 'de' } },
  play: fillAndSend(),
};

export const Accent: Story = {
  name: 'Accent colour',
  args: { settings: { accent_color: '#0f766e', title: 'Talk to us', fields: ALL_FIELDS } },
};
