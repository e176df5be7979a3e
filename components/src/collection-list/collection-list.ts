import { css, html, type PropertyDeclarations } from 'lit';
import { repeat } from 'lit/directives/repeat.js';
import type { components } from '@dramac/sdk';
import { DramacFormElement } from '../shared/form-element.js';
// `import '@dramac/components/collection-list'` alone is enough on a page: the provider comes along.
import '../shared/provider.js';
import type { MessageCatalogue } from '../shared/i18n.js';
import { stateStyles, themeStyles } from '../shared/theme.js';

export type CollectionRecord = components['schemas']['CollectionItem'];

declare module '../shared/events.js' {
  interface DramacEventMap {
    /** A record was chosen (click, Enter or Space). */
    'dm-select': { record: CollectionRecord };
  }
}

const messages = {
  en: { listLabel: 'Entries' },
  de: { listLabel: 'Einträge' },
} satisfies MessageCatalogue<{ listLabel: string }>;

// The platform's own fields; shown only when asked for by name.
const platformFields = new Set(['id', 'site_id', 'created_at', 'updated_at']);
const fieldName = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

/**
 * `<dm-collection-list module="acme.faq" collection="questions" fields="question answer">` lists the
 * records of a module's declarative collection, one option per record, and lets a visitor pick one.
 * Inside a `<form>` with a `name` it submits the chosen record's id (and honours `required`).
 *
 * @fires dm-load - The records arrived and are shown. `detail`: `{ count }`.
 * @fires dm-select - A record was chosen (click, Enter or Space). `detail`: `{ record }`.
 * @csspart list - The list of records (`role="listbox"`).
 * @csspart item - One record (`role="option"`).
 * @csspart selected - The chosen record (with `item`).
 * @csspart field - One field of a record.
 * @csspart field-<name> - The field called `<name>`, e.g. `field-question`.
 */
export class DmCollectionList extends DramacFormElement {
  static override properties: PropertyDeclarations = {
    module: {},
    collection: {},
    fields: {},
    label: {},
    activeIndex: { state: true },
  };

  static override styles = [
    themeStyles,
    stateStyles,
    css`
      [part~='list'] {
        list-style: none;
        margin: 0;
        padding: 0;
        display: grid;
        gap: calc(var(--_dm-space) / 2);
      }
      [part~='item'] {
        display: flex;
        flex-wrap: wrap;
        gap: calc(var(--_dm-space) / 2) var(--_dm-space);
        padding: var(--_dm-space);
        border: 1px solid var(--_dm-border);
        border-radius: var(--_dm-radius);
        cursor: pointer;
        transition: border-color 0.15s ease;
      }
      [part~='item']:hover,
      [part~='selected'] {
        border-color: var(--_dm-primary);
      }
      [part~='selected'] {
        box-shadow: inset 0 0 0 1px var(--_dm-primary);
      }
      [aria-disabled='true'] [part~='item'] {
        cursor: default;
        opacity: 0.6;
      }
    `,
  ];

  /** The installed module's id, e.g. `acme.faq`. */
  declare module: string | undefined;
  /** The module's collection to list, e.g. `questions`. */
  declare collection: string | undefined;
  /** Field names to show, space or comma separated; default: the first record's own fields. */
  declare fields: string | undefined;
  /** The list's accessible name; a localised "Entries" otherwise. */
  declare label: string | undefined;
  declare private activeIndex: number;

  constructor() {
    super();
    this.activeIndex = -1; // not moved yet: the chosen record (or the first) takes the focus
  }

  private readonly records = this.loadData(
    () => [this.module, this.collection] as const,
    async ([module, collection], client, signal) => {
      if (!module || !collection) throw new Error('the module and collection attributes are required');
      const { data, error, response } = await client.GET('/v1/m/{moduleId}/{collection}', {
        params: { path: { moduleId: module, collection } },
        signal,
      });
      if (!data) throw new Error(`HTTP ${response.status}${error?.code ? ` ${error.code}` : ''}`);
      this.emit('dm-load', { count: data.data.length });
      return data.data;
    },
  );

  protected override render() {
    return this.renderData(
      this.records,
      (records) => this.renderList(records),
      (records) => records.length === 0,
    );
  }

  private renderList(records: CollectionRecord[]) {
    const fields = this.shownFields(records);
    const active = this.currentIndex(records);
    return html`<ul
      part="list"
      role="listbox"
      aria-label=${this.label ?? this.messages(messages).listLabel}
      aria-required=${this.required ? 'true' : 'false'}
      aria-disabled=${this.formDisabled ? 'true' : 'false'}
      @keydown=${(event: KeyboardEvent) => this.onKeydown(event, records)}
    >
      ${repeat(
        records,
        (record) => record.id,
        (record, index) => {
          const selected = record.id === this.value;
          return html`<li
            part=${selected ? 'item selected' : 'item'}
            role="option"
            aria-selected=${selected ? 'true' : 'false'}
            tabindex=${index === active ? '0' : '-1'}
            @click=${() => this.choose(records, index)}
          >
            ${fields.map(
              // The trailing space keeps screen readers from running the fields' words together.
              (field) => html`<span part="field field-${field}">${display(record[field])}</span> `,
            )}
          </li>`;
        },
      )}
    </ul>`;
  }

  private shownFields(records: CollectionRecord[]): string[] {
    const named = (this.fields ?? '').split(/[\s,]+/).filter((field) => fieldName.test(field));
    if (named.length > 0) return named;
    return Object.keys(records[0] ?? {}).filter((field) => !platformFields.has(field) && fieldName.test(field));
  }

  private onKeydown(event: KeyboardEvent, records: CollectionRecord[]): void {
    const last = records.length - 1;
    const current = this.currentIndex(records);
    const moves: Record<string, number> = {
      ArrowDown: Math.min(current + 1, last),
      ArrowUp: Math.max(current - 1, 0),
      Home: 0,
      End: last,
    };
    const next = moves[event.key];
    if (next !== undefined) {
      event.preventDefault();
      void this.focusOption(next);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.choose(records, current);
    }
  }

  /** The option that holds the focus stop (roving tabindex): the last one moved to, else the chosen one. */
  private currentIndex(records: CollectionRecord[]): number {
    if (this.activeIndex >= 0) return Math.min(this.activeIndex, records.length - 1);
    return Math.max(
      records.findIndex((record) => record.id === this.value),
      0,
    );
  }

  private async focusOption(index: number): Promise<void> {
    this.activeIndex = index;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>('[role="option"][tabindex="0"]')?.focus();
  }

  private choose(records: CollectionRecord[], index: number): void {
    const record = records[index];
    if (!record || this.formDisabled) return;
    this.activeIndex = index;
    this.value = record.id;
    this.emit('dm-select', { record });
  }

  protected override validationAnchor(): HTMLElement | undefined {
    return this.renderRoot.querySelector<HTMLElement>('[role="listbox"]') ?? undefined;
  }
}

/** A field's value as text; Lit escapes it, so markup in data stays text. */
function display(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

// Safe to import twice, and under a server runtime without a registry (see provider.ts).
if (globalThis.customElements && !customElements.get('dm-collection-list')) {
  customElements.define('dm-collection-list', DmCollectionList);
}

declare global {
  interface HTMLElementTagNameMap {
    'dm-collection-list': DmCollectionList;
  }
}
