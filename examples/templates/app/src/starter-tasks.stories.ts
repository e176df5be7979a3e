/**
 * Stories of `<starter-tasks>` (CSF 3, plain objects): Storybook shows them, the template's element test renders
 * each in Chromium with an accessibility check. A stand-in `fetch` answers as the module's API would.
 */
import { html, nothing, type TemplateResult } from 'lit';
import './starter-tasks.js';
import type { Task } from './starter-tasks.js';

interface TasksStoryArgs {
  signedIn: boolean;
  answer: 'tasks' | 'pending' | 'forbidden';
  tasks: Task[];
  settings: { title?: string };
  theme?: 'light' | 'dark';
}

const SAMPLE: Task[] = [
  { id: '1', title: 'Send the spring menu to the printer', done: true },
  { id: '2', title: 'Book the window cleaner', done: false },
];

function answering(args: TasksStoryArgs): typeof fetch {
  return async () => {
    if (args.answer === 'pending') return new Promise<Response>(() => {});
    if (args.answer === 'forbidden') {
      return Response.json(
        { title: 'Forbidden', status: 403, detail: 'Your role does not hold starter.tasks.tasks.read.' },
        { status: 403, headers: { 'content-type': 'application/problem+json' } },
      );
    }
    return Response.json({ data: args.tasks, has_more: false, next_cursor: null });
  };
}

function render(args: TasksStoryArgs): TemplateResult {
  return html`<starter-tasks
    api-base="https://api.example.com"
    site-id="0190a000-0000-7000-8000-000000000001"
    theme=${args.theme ?? nothing}
    .token=${args.signedIn ? 'ses_story' : undefined}
    .settings=${args.settings}
    .fetch=${answering(args)}
  ></starter-tasks>`;
}

export default {
  title: 'Templates/App/starter-tasks',
  component: 'starter-tasks',
  render,
  args: { signedIn: true, answer: 'tasks', tasks: SAMPLE, settings: {} } satisfies TasksStoryArgs,
  argTypes: { theme: { control: 'inline-radio', options: ['light', 'dark'] } },
};

type Story = { name?: string; args?: Partial<TasksStoryArgs> };

export const Tasks: Story = {};
export const Empty: Story = { name: 'No tasks', args: { tasks: [] } };
export const Loading: Story = { args: { answer: 'pending' } };
export const SignedOut: Story = { name: 'Signed out', args: { signedIn: false } };
export const Forbidden: Story = { name: 'Not permitted', args: { answer: 'forbidden' } };
