import { fixture, fixtureCleanup, html } from '@open-wc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { userEvent } from 'vitest/browser';
import { itRendersEveryStory, part, parts, untilPart } from '../../../../components/test/support.js';
import * as stories from '../src/starter-tasks.stories.js';
import type { Task } from '../src/starter-tasks.js';
import '../src/starter-tasks.js';

afterEach(() => fixtureCleanup());

/** A stand-in for the module's API that keeps its tasks, and what it was asked. */
function tasksApi(canWrite = true) {
  const tasks: Task[] = [];
  const requests: { method: string; url: string; authorization: string | null; body: unknown }[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    const body = request.method === 'GET' ? undefined : await request.json();
    requests.push({
      method: request.method,
      url: request.url,
      authorization: request.headers.get('authorization'),
      body,
    });
    if (request.method !== 'GET' && !canWrite) {
      return Response.json(
        { title: 'Forbidden', status: 403, detail: 'Your role does not hold starter.tasks.tasks.write.' },
        { status: 403 },
      );
    }
    if (request.method === 'POST')
      tasks.push({ id: String(tasks.length + 1), done: false, ...(body as { title: string }) });
    if (request.method === 'PATCH')
      Object.assign(
        tasks.find((task) => request.url.endsWith(`/tasks/${task.id}`))!,
        body,
      );
    return Response.json({ data: tasks, has_more: false, next_cursor: null });
  };
  return { fetch, requests, tasks };
}

describe('<starter-tasks>', () => {
  itRendersEveryStory('starter-tasks', stories, {
    Tasks: 'list',
    Empty: 'empty',
    Loading: 'status',
    SignedOut: 'status',
    Forbidden: 'error',
  });

  it('adds a task and ticks it off as the signed-in user', async () => {
    const api = tasksApi();
    const element = await fixture(
      html`<starter-tasks site-id="s1" .token=${'ses_user'} .fetch=${api.fetch}></starter-tasks>`,
    );
    await untilPart(element, 'empty');
    const input = element.shadowRoot!.querySelector<HTMLInputElement>('#title')!;
    await userEvent.type(input, 'Water the plants');
    await userEvent.click(element.shadowRoot!.querySelector('button[type="submit"]')!);
    await untilPart(element, 'list');
    expect(parts(element, 'task').map((task) => task.textContent!.trim())).toEqual(['Water the plants']);
    await userEvent.click(element.shadowRoot!.querySelector('input[type="checkbox"]')!);
    await expect.poll(() => api.tasks[0]?.done).toBe(true);
    await expect
      .poll(() => api.requests.map((request) => request.method))
      .toEqual(['GET', 'POST', 'GET', 'PATCH', 'GET']);
    expect(api.requests.every((request) => request.authorization === 'Bearer ses_user')).toBe(true);
    expect(api.requests[1]).toMatchObject({ body: { title: 'Water the plants' } });
    expect(new URL(api.requests[1]!.url).pathname + new URL(api.requests[1]!.url).search).toBe(
      '/v1/m/starter.tasks/tasks?site_id=s1',
    );
  });

  it('says why a change was refused, in the API’s words', async () => {
    const api = tasksApi(false);
    const element = await fixture(
      html`<starter-tasks site-id="s1" .token=${'ses_reader'} .fetch=${api.fetch}></starter-tasks>`,
    );
    await untilPart(element, 'empty');
    await userEvent.type(element.shadowRoot!.querySelector<HTMLInputElement>('#title')!, 'Anything');
    await userEvent.click(element.shadowRoot!.querySelector('button[type="submit"]')!);
    expect((await untilPart(element, 'refusal')).textContent).toContain('starter.tasks.tasks.write');
    expect(part(element, 'list')).toBeNull();
  });
});
