import { createElement, type ComponentProps } from 'react';
import { flushSync } from 'react-dom';
import { createRoot, type Root } from 'react-dom/client';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DmCollectionList, DmProvider } from '../src/react.js';
import type { CollectionRecord } from '../src/index.js';
import { apiBase, fakeApi, parts, recordList, untilPart } from './support.js';

type ListProps = ComponentProps<typeof DmCollectionList>;

// The event props carry each event's own detail: a wrong one fails to compile.
const typed: NonNullable<ListProps['onDmSelect']> = (event) => event.detail.record.id;
// @ts-expect-error dm-select carries a record, not a count
const mistyped: NonNullable<ListProps['onDmSelect']> = (event) => event.detail.count;
void [typed, mistyped];

let root: Root | undefined;
afterEach(() => {
  root?.unmount();
  document.body.replaceChildren();
});

function render(node: Parameters<Root['render']>[0]): HTMLElement {
  const container = document.body.appendChild(document.createElement('div'));
  root ??= createRoot(container);
  flushSync(() => root!.render(node));
  return container;
}

describe('React wrappers (@dramac/components/react)', () => {
  it('pass props to the elements as properties and call typed dm- event handlers', async () => {
    const api = fakeApi(() => recordList([{ question: 'One?' }, { question: 'Two?' }]));
    const onDmLoad = vi.fn<NonNullable<ListProps['onDmLoad']>>();
    const selected: CollectionRecord[] = [];
    const list = (fields: string) =>
      createElement(
        DmProvider,
        { apiBase, publishableKey: 'pk_react', fetch: api.fetch },
        createElement(DmCollectionList, {
          module: 'acme.faq',
          collection: 'questions',
          fields,
          className: 'faq',
          onDmLoad,
          onDmSelect: (event) => selected.push(event.detail.record),
        }),
      );

    const container = render(list('question'));
    const provider = container.querySelector('dm-provider')!;
    const element = container.querySelector('dm-collection-list')!;
    expect(provider.key).toBe('pk_react'); // `key` is React's own: `publishableKey` sets it
    expect(element.module).toBe('acme.faq');
    expect(element.getAttribute('class')).toBe('faq');

    await untilPart(element, 'list');
    expect(new URL(api.requests[0]!.url).searchParams.get('key')).toBe('pk_react');
    expect(onDmLoad).toHaveBeenCalledTimes(1);
    expect(onDmLoad.mock.calls[0]![0].detail).toEqual({ count: 2 });

    parts(element, 'item')[1]!.click();
    expect(selected.map((record) => record.question)).toEqual(['Two?']);

    render(list('id'));
    expect(element.fields).toBe('id');
  });
});
