import axe from 'axe-core';
import { fixture, waitUntil } from '@open-wc/testing';
import { html, type TemplateResult } from 'lit';
import { expect, it, vi } from 'vitest';
import type { Story } from '../src/shared/stories.js';
import type { components } from '@dramac/sdk';

type CollectionItem = components['schemas']['CollectionItem'];
type Problem = components['schemas']['Problem'];

export const apiBase = 'https://api.dramac.test';

/**
 * A stand-in for the API at the fetch level: the element's real client (openapi-fetch through
 * @dramac/sdk) builds real requests, and the test answers them.
 */
export function fakeApi(respond: (request: Request) => Response | Promise<Response>) {
  const requests: Request[] = [];
  const fetch: typeof globalThis.fetch = async (input, init) => {
    const request = new Request(input, init);
    requests.push(request);
    return respond(request);
  };
  return { fetch, requests };
}

export function recordList(data: Partial<CollectionItem>[]): Response {
  const records = data.map((record, index) => ({
    id: `00000000-0000-4000-8000-00000000000${index}`,
    created_at: '2026-11-01T10:00:00Z',
    updated_at: '2026-11-01T10:00:00Z',
    ...record,
  }));
  return Response.json({ data: records, has_more: false, next_cursor: null });
}

export function problem(status: number, code: string): Response {
  const body: Problem = { type: `urn:dramac:problem:${code}`, title: code, status, code };
  return Response.json(body, { status, headers: { 'content-type': 'application/problem+json' } });
}

/** A response that never comes (until the request is aborted), to hold an element in its loading state. */
export function never(request: Request): Promise<Response> {
  return new Promise((_, reject) => request.signal.addEventListener('abort', () => reject(request.signal.reason)));
}

export function part(element: Element, name: string): HTMLElement | null {
  return element.shadowRoot!.querySelector<HTMLElement>(`[part~="${name}"]`);
}

export function parts(element: Element, name: string): HTMLElement[] {
  return [...element.shadowRoot!.querySelectorAll<HTMLElement>(`[part~="${name}"]`)];
}

export async function untilPart(element: Element, name: string): Promise<HTMLElement> {
  await waitUntil(() => part(element, name), `the ${name} part never appeared`, { timeout: 3000 });
  return part(element, name)!;
}

/** axe-core over the element, its shadow root included; failures list each rule and where. */
export async function expectAccessible(element: Element): Promise<void> {
  const { violations } = await axe.run(element, { resultTypes: ['violations'] });
  const found = violations.map(
    (violation) => `${violation.id}: ${violation.nodes.map((node) => node.html).join(' | ')}`,
  );
  expect(found).toEqual([]);
}

type Theme = 'light' | 'dark';
const THEMES: Theme[] = ['light', 'dark'];

/**
 * Tests per story of a stories module, in the light and the dark theme (a story that sets its theme, in that
 * one): rendered (and played), it shows the part `shows` names for it, and passes the accessibility check.
 * `shows` must name every story, so a new story without one fails to compile.
 */
export function itRendersEveryStory<
  Args,
  Module extends { default: { render(args: Args): TemplateResult; args: Args } },
>(tag: string, stories: Module, shows: Record<Exclude<keyof Module, 'default'>, string>): void {
  const { default: meta, ...named } = stories;
  for (const [exportName, story] of Object.entries(named) as [
    Exclude<keyof Module, 'default'> & string,
    Story<Args>,
  ][]) {
    const set = (story.args as { theme?: Theme } | undefined)?.theme;
    for (const theme of set ? [set] : THEMES) {
      it(`renders the ${story.name ?? exportName} story (${theme})`, async () => {
        // Lit's dev-mode notices, not the element's.
        vi.spyOn(console, 'warn').mockImplementation(() => {});
        const args = { ...meta.args, ...story.args, theme };
        const canvas = await fixture<HTMLDivElement>(html`<div>${meta.render(args)}</div>`);
        const element = canvas.querySelector(tag)!;
        await story.play?.({ canvasElement: canvas });
        await untilPart(element, shows[exportName]);
        await expectAccessible(element);
      });
    }
  }
}
