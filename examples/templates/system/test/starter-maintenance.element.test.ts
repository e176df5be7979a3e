import { fixture, fixtureCleanup, html } from '@open-wc/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { expectAccessible, itRendersEveryStory, parts, untilPart } from '../../../../components/test/support.js';
import * as stories from '../src/starter-maintenance.stories.js';
import type { MaintenanceWindow } from '../src/starter-maintenance.js';
import '../src/starter-maintenance.js';

afterEach(() => fixtureCleanup());

const NOW = Date.parse('2027-03-01T09:00:00Z');
const window = (id: string, title: string, starts_at: string, ends_at: string): MaintenanceWindow => ({
  id,
  title,
  starts_at,
  ends_at,
});

describe('<starter-maintenance>', () => {
  itRendersEveryStory('starter-maintenance', stories, {
    Planned: 'list',
    None: 'empty',
    Loading: 'status',
    SignedOut: 'status',
    Forbidden: 'error',
  });

  it('asks for the windows as the signed-in user, soonest first, and leaves out those that ended', async () => {
    const requests: { url: string; authorization: string | null }[] = [];
    const fetch: typeof globalThis.fetch = async (input, init) => {
      const request = new Request(input, init);
      requests.push({ url: request.url, authorization: request.headers.get('authorization') });
      const data = [
        window('1', 'Last week’s upgrade', '2027-02-22T22:00:00Z', '2027-02-22T23:00:00Z'),
        window('2', 'Under way', '2027-03-01T08:30:00Z', '2027-03-01T09:30:00Z'),
        window('3', 'Database upgrade', '2027-03-02T22:00:00Z', '2027-03-02T23:00:00Z'),
      ];
      return Response.json({ data, has_more: false, next_cursor: null });
    };
    const element = await fixture(
      html`<starter-maintenance
        api-base="https://api.example.com"
        site-id="s1"
        .token=${'ses_staff'}
        .now=${() => NOW}
        .fetch=${fetch}
      ></starter-maintenance>`,
    );
    await untilPart(element, 'list');
    expect(parts(element, 'window-title').map((title) => title.textContent)).toEqual(['Under way', 'Database upgrade']);
    expect(element.shadowRoot!.querySelector('time')!.getAttribute('datetime')).toBe('2027-03-01T08:30:00Z');
    expect(requests).toEqual([
      {
        url: 'https://api.example.com/v1/m/starter.maintenance/windows?site_id=s1&sort=starts_at&limit=100',
        authorization: 'Bearer ses_staff',
      },
    ]);
    await expectAccessible(element);
  });

  it('says why it cannot show them, in the API’s words, and shows a title with markup as text', async () => {
    const refused = await fixture(
      html`<starter-maintenance
        .token=${'ses_client'}
        .fetch=${async () => Response.json({ detail: 'Your role does not hold it.' }, { status: 403 })}
      ></starter-maintenance>`,
    );
    expect((await untilPart(refused, 'error')).textContent).toBe('Your role does not hold it.');

    const payload = '<img src=x onerror="window.__pwned=1">';
    const shown = await fixture(
      html`<starter-maintenance
        .token=${'ses_staff'}
        .now=${() => NOW}
        .fetch=${async () =>
          Response.json({ data: [window('1', payload, '2027-03-02T22:00:00Z', '2027-03-02T23:00:00Z')] })}
      ></starter-maintenance>`,
    );
    await untilPart(shown, 'list');
    expect(parts(shown, 'window-title')[0]!.textContent).toBe(payload);
    expect(shown.shadowRoot!.querySelector('img')).toBeNull();
  });
});
