/**
 * Stories of `<dm-collection-list>` in Component Story Format 3 (plain objects: no Storybook package needed).
 * Every story answers the element's one request with canned records, so nothing needs a running API.
 */
import { html, nothing, type TemplateResult } from 'lit';
import { THEME_AND_LANGUAGE, until, type Story as BaseStory, type StoryContext } from '../shared/stories.js';
import './collection-list.js';
import type { DmCollectionList } from './collection-list.js';

interface ListStoryArgs {
  /** What the stand-in API answers: records, an empty list, a failure, or nothing yet. */
  answer: 'records' | 'empty' | 'error' | 'pending';
  fields: string;
  theme?: 'light' | 'dark';
  lang?: 'en' | 'de';
}

type Story = BaseStory<ListStoryArgs>;

const questions = [
  { question: 'Do you deliver cakes?', answer: 'Within 20 km, on weekdays.' },
  { question: 'Can I order gluten-free?', answer: 'Yes, two days ahead.' },
  { question: 'Is there parking?', answer: 'Behind the shop, free for an hour.' },
];

/** The API as the element sees it, at the fetch level (its real client builds the request). */
function answering(answer: ListStoryArgs['answer']): typeof fetch {
  return async (input, init) => {
    const request = new Request(input, init);
    if (answer === 'pending') {
      return new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason)));
    }
    if (answer === 'error') {
      const problem = { type: 'urn:dramac:problem:internal', title: 'Internal', status: 500, code: 'internal' };
      return Response.json(problem, { status: 500, headers: { 'content-type': 'application/problem+json' } });
    }
    const data = (answer === 'empty' ? [] : questions).map((record, index) => ({
      id: `00000000-0000-4000-8000-00000000000${index}`,
      created_at: '2026-11-01T10:00:00Z',
      updated_at: '2026-11-01T10:00:00Z',
      ...record,
    }));
    return Response.json({ data, has_more: false, next_cursor: null });
  };
}

function render(args: ListStoryArgs): TemplateResult {
  return html`<dm-collection-list
    api-base="https://api.dramac.test"
    key="pk_story"
    module="acme.faq"
    collection="questions"
    fields=${args.fields}
    theme=${args.theme ?? nothing}
    lang=${args.lang ?? nothing}
    .fetch=${answering(args.answer)}
  ></dm-collection-list>`;
}

export default {
  title: 'Modules/Collections/dm-collection-list',
  component: 'dm-collection-list',
  render,
  args: { answer: 'records', fields: 'question answer' } satisfies ListStoryArgs,
  argTypes: {
    ...THEME_AND_LANGUAGE,
    answer: { control: 'inline-radio', options: ['records', 'empty', 'error', 'pending'] },
    fields: { control: 'text' },
  },
};

/** Chooses the second record, as a visitor's click does. */
async function chooseSecond({ canvasElement }: StoryContext): Promise<void> {
  const root = (canvasElement.querySelector('dm-collection-list') as DmCollectionList).shadowRoot!;
  const items = await until(() => {
    const found = root.querySelectorAll<HTMLElement>('[part~="item"]');
    return found.length > 1 ? found : null;
  }, 'the records');
  items[1]!.click();
  await until(() => root.querySelector('[part~="selected"]'), 'the chosen record');
}

export const Loading: Story = { args: { answer: 'pending' } };

export const Empty: Story = { args: { answer: 'empty' } };

export const ErrorState: Story = { name: 'Error', args: { answer: 'error' } };

export const Records: Story = {};

export const QuestionsOnly: Story = { name: 'One field', args: { fields: 'question' } };

export const Chosen: Story = { name: 'A record chosen', play: chooseSecond };

export const German: Story = { name: 'Deutsch', args: { lang: 'de' } };
