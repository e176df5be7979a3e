/**
 * Stories of `<starter-maintenance>` (CSF 3, plain objects): Storybook shows them, the template's element test
 * renders each in Chromium with an accessibility check. A stand-in `fetch` answers as the module's API would,
 * and a fixed clock keeps the windows in the future.
 */
import { html, nothing, type TemplateResult } from 'lit';
import './starter-maintenance.js';
import type { MaintenanceWindow } from './starter-maintenance.js';

interface MaintenanceStoryArgs {
  signedIn: boolean;
  answer: 'windows' | 'pending' | 'forbidden';
  windows: MaintenanceWindow[];
  settings: { title?: string };
  theme?: 'light' | 'dark';
}

const NOW = Date.parse('2027-03-01T09:00:00Z');
const SAMPLE: MaintenanceWindow[] = [
  { id: '1', title: 'Database upgrade', starts_at: '2027-03-02T22:00:00Z', ends_at: '2027-03-02T23:00:00Z' },
  { id: '2', title: 'New mail provider', starts_at: '2027-03-09T06:00:00Z', ends_at: '2027-03-09T06:30:00Z' },
];

function answering(args: MaintenanceStoryArgs): typeof fetch {
  return async () => {
    if (args.answer === 'pending') return new Promise<Response>(() => {});
    if (args.answer === 'forbidden') {
      return Response.json(
        { title: 'Forbidden', status: 403, detail: 'Your role does not hold starter.maintenance.windows.read.' },
        { status: 403, headers: { 'content-type': 'application/problem+json' } },
      );
    }
    return Response.json({ data: args.windows, has_more: false, next_cursor: null });
  };
}

function render(args: MaintenanceStoryArgs): TemplateResult {
  return html`<starter-maintenance
    api-base="https://api.example.com"
    site-id="0190a000-0000-7000-8000-000000000001"
    theme=${args.theme ?? nothing}
    .token=${args.signedIn ? 'ses_story' : undefined}
    .settings=${args.settings}
    .now=${() => NOW}
    .fetch=${answering(args)}
  ></starter-maintenance>`;
}

export default {
  title: 'Templates/System/starter-maintenance',
  component: 'starter-maintenance',
  render,
  args: { signedIn: true, answer: 'windows', windows: SAMPLE, settings: {} } satisfies MaintenanceStoryArgs,
  argTypes: { theme: { control: 'inline-radio', options: ['light', 'dark'] } },
};

type Story = { name?: string; args?: Partial<MaintenanceStoryArgs> };

export const Planned: Story = {};
export const None: Story = { name: 'Nothing planned', args: { windows: [] } };
export const Loading: Story = { args: { answer: 'pending' } };
export const SignedOut: Story = { name: 'Signed out', args: { signedIn: false } };
export const Forbidden: Story = { name: 'Not permitted', args: { answer: 'forbidden' } };
