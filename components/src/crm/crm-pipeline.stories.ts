/**
 * Stories of `<dm-crm-pipeline>` in Component Story Format 3 (plain objects: no Storybook package needed).
 * Every story answers the element's requests with the canned data of `fixtures.ts` (the tests use the same),
 * so nothing needs a running API; the signed-in user is the fixture's session token.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { THEME_AND_LANGUAGE, until, type Story as BaseStory, type StoryContext } from '../shared/stories.js';
import './crm-pipeline.js';
import type { DmCrmPipeline } from './crm-pipeline.js';
import { crmFetch, fixtureApiBase, fixtureSiteId, fixtureToken, type CrmScenario } from './crm-fixtures.js';

interface PipelineStoryArgs {
  /** How the stand-in API answers. */
  scenario: CrmScenario;
  /** The module install's settings. */
  settings: Record<string, unknown>;
  /** Whether a user is signed in (the element gets their token). */
  signedIn: boolean;
  theme?: 'light' | 'dark';
  lang?: 'en' | 'de';
}

type Story = BaseStory<PipelineStoryArgs>;

function render(args: PipelineStoryArgs): TemplateResult {
  return html`<dm-crm-pipeline
    api-base=${fixtureApiBase}
    site-id=${fixtureSiteId}
    theme=${args.theme ?? nothing}
    lang=${args.lang ?? nothing}
    .token=${args.signedIn ? fixtureToken : undefined}
    .settings=${args.settings}
    .fetch=${crmFetch(args.scenario)}
  ></dm-crm-pipeline>`;
}

export default {
  title: 'Modules/CRM/dm-crm-pipeline',
  component: 'dm-crm-pipeline',
  render,
  args: { scenario: {}, settings: {}, signedIn: true } satisfies PipelineStoryArgs,
  argTypes: {
    ...THEME_AND_LANGUAGE,
    signedIn: { control: 'boolean' },
  },
};

const press = (target: HTMLElement, key: string) =>
  target.dispatchEvent(new KeyboardEvent('keydown', { key, bubbles: true, composed: true }));

/** Moves the first deal one stage to the right by keyboard, as a keyboard user would; waits for `part`. */
const moveFirstDealRight =
  (part: string) =>
  async ({ canvasElement }: StoryContext) => {
    const element = canvasElement.querySelector('dm-crm-pipeline') as DmCrmPipeline;
    const root = element.shadowRoot!;
    const card = await until(() => root.querySelector<HTMLElement>('[part~="card"]'), 'a deal');
    card.focus();
    press(card, ' ');
    press(card, 'ArrowRight');
    await element.updateComplete;
    press(root.activeElement as HTMLElement, 'Enter');
    await until(() => root.querySelector(`[part~="${part}"]`)?.textContent?.trim(), `the ${part}`);
  };

export const Loading: Story = { args: { scenario: { pending: 'board' } } };

export const SignedOut: Story = { name: 'Signed out', args: { signedIn: false } };

export const ErrorState: Story = { name: 'Error', args: { scenario: { fail: 'board' } } };

export const NoPipelines: Story = { name: 'No pipeline', args: { scenario: { pipelines: [] } } };

export const EmptyPipeline: Story = { name: 'Empty pipeline', args: { scenario: { deals: [] } } };

export const Board: Story = { name: 'Board' };

export const Moved: Story = { name: 'Success: a deal moved by keyboard', play: moveFirstDealRight('announcer') };

export const ReadOnly: Story = { name: 'Read-only (no crm:write)', args: { scenario: { scopes: ['crm:read'] } } };

export const MoveRefused: Story = {
  name: 'Move refused (403): back, and read-only',
  args: { scenario: { move: 'forbidden' } },
  play: moveFirstDealRight('read-only'),
};

export const MoveFailed: Story = {
  name: 'Move failed: back where it was',
  args: { scenario: { move: 'error' } },
  play: moveFirstDealRight('notice'),
};

export const MoreDeals: Story = { name: 'More deals in a stage', args: { scenario: { boardLimit: 1 } } };

export const Dark: Story = { args: { theme: 'dark' } };

export const German: Story = { name: 'Deutsch', args: { lang: 'de', settings: { locale: 'de' } } };

export const Accent: Story = { name: 'Accent colour', args: { settings: { accent_color: '#0f766e' } } };
