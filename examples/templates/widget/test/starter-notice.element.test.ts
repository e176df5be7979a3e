import { fixture, fixtureCleanup, html } from '@open-wc/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { expectAccessible, itRendersEveryStory, part, untilPart } from '../../../../components/test/support.js';
import * as stories from '../src/starter-notice.stories.js';
import '../src/starter-notice.js';

const answer = (data: { message: string }[]) => async () => Response.json({ data, has_more: false, next_cursor: null });

afterEach(() => {
  fixtureCleanup();
  vi.restoreAllMocks();
});

describe('<starter-notice>', () => {
  itRendersEveryStory('starter-notice', stories, {
    Notice: 'notice',
    Warning: 'notice',
    Loading: 'status',
    ErrorState: 'status',
    German: 'notice',
  });

  it('asks for the newest active notice with the key, and closes when the visitor closes it', async () => {
    const requests: string[] = [];
    const fetch = async (input: RequestInfo | URL) => {
      requests.push(String(input));
      return answer([{ message: 'Closed on Monday.' }])();
    };
    const element = await fixture(
      html`<starter-notice api-base="https://api.example.com" key="pk_test" .fetch=${fetch}></starter-notice>`,
    );
    expect((await untilPart(element, 'message')).textContent).toBe('Closed on Monday.');
    expect(requests).toEqual([
      'https://api.example.com/v1/m/starter.notice/notices?key=pk_test&sort=-created_at&limit=1',
    ]);
    await expectAccessible(element);
    part(element, 'close')!.click();
    await (element as HTMLElement & { updateComplete: Promise<boolean> }).updateComplete;
    expect(part(element, 'notice')).toBeNull();
  });

  it('shows nothing without a notice, and no close button when the settings say so', async () => {
    const none = await fixture(html`<starter-notice .fetch=${answer([])}></starter-notice>`);
    await vi.waitFor(() => expect(part(none, 'status')).toBeNull());
    expect(none.shadowRoot!.textContent!.trim()).toBe('');
    const fixed = await fixture(
      html`<starter-notice .settings=${{ dismissible: false }} .fetch=${answer([{ message: 'Hi' }])}></starter-notice>`,
    );
    await untilPart(fixed, 'notice');
    expect(part(fixed, 'close')).toBeNull();
  });

  it('shows a message with markup as text', async () => {
    const payload = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=1</script>';
    const element = await fixture(html`<starter-notice .fetch=${answer([{ message: payload }])}></starter-notice>`);
    expect((await untilPart(element, 'message')).textContent).toBe(payload);
    expect(element.shadowRoot!.querySelector('img, script')).toBeNull();
    expect((window as { __pwned?: number }).__pwned).toBeUndefined();
  });
});
