/**
 * Stories of `<starter-notice>` in Component Story Format 3, as plain objects: Storybook shows them, and the
 * template's element test renders each one in Chromium with an accessibility check. A stand-in `fetch` gives
 * each story its answer, so none needs a running API.
 */
import { html, nothing, type TemplateResult } from 'lit';
import './starter-notice.js';
import type { NoticeSettings } from './starter-notice.js';

type Answer = 'notice' | 'none' | 'pending' | 'error';

interface NoticeStoryArgs {
  answer: Answer;
  message: string;
  settings: Partial<NoticeSettings>;
  theme?: 'light' | 'dark';
  lang?: 'en' | 'de';
}

/** Answers `GET /v1/m/starter.notice/notices` as the platform would. */
function answering(args: NoticeStoryArgs): typeof fetch {
  return async () => {
    if (args.answer === 'pending') return new Promise<Response>(() => {});
    if (args.answer === 'error') return new Response('{}', { status: 503 });
    const data = args.answer === 'notice' ? [{ id: '1', message: args.message }] : [];
    return Response.json({ data, has_more: false, next_cursor: null });
  };
}

function render(args: NoticeStoryArgs): TemplateResult {
  return html`<div lang=${args.lang ?? nothing}>
    <starter-notice
      api-base="https://api.example.com"
      key="pk_story"
      theme=${args.theme ?? nothing}
      .settings=${args.settings}
      .fetch=${answering(args)}
    ></starter-notice>
  </div>`;
}

export default {
  title: 'Templates/Widget/starter-notice',
  component: 'starter-notice',
  render,
  args: {
    answer: 'notice',
    message: 'We are closed on Monday for the holiday.',
    settings: {},
  } satisfies NoticeStoryArgs,
  argTypes: {
    answer: { control: 'inline-radio', options: ['notice', 'none', 'pending', 'error'] },
    theme: { control: 'inline-radio', options: ['light', 'dark'] },
    lang: { control: 'inline-radio', options: ['en', 'de'] },
  },
};

type Story = { name?: string; args?: Partial<NoticeStoryArgs> };

export const Notice: Story = {};
export const Warning: Story = { args: { settings: { tone: 'warning', dismissible: false } } };
export const Loading: Story = { args: { answer: 'pending' } };
export const ErrorState: Story = { name: 'Error', args: { answer: 'error' } };
export const German: Story = { name: 'Deutsch', args: { lang: 'de', message: 'Am Montag geschlossen.' } };
