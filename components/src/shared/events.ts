/**
 * Every `dm-` event an element dispatches, by name, with its `detail`. Elements add theirs by augmenting
 * this interface, which also types `addEventListener('dm-…', e => e.detail)` on any element.
 */
export interface DramacEventMap {
  /** Data arrived and is shown. */
  'dm-load': { count: number };
  /** Data could not be loaded; the element shows its fallback. */
  'dm-error': { message: string };
}

type DramacEvents = { [K in keyof DramacEventMap]: CustomEvent<DramacEventMap[K]> };

// The events bubble out of shadow roots up to `document` and `window`, so all three maps know them.
/* eslint-disable @typescript-eslint/no-empty-object-type -- interfaces merged into the DOM's event maps */
declare global {
  interface HTMLElementEventMap extends DramacEvents {}
  interface DocumentEventMap extends DramacEvents {}
  interface WindowEventMap extends DramacEvents {}
}
/* eslint-enable @typescript-eslint/no-empty-object-type */

/**
 * Dispatches a `dm-` event that bubbles and crosses shadow roots, so a page (or the loader) can listen on
 * `document`. Returns false when a listener called `preventDefault()`.
 */
export function dispatchDramacEvent<K extends keyof DramacEventMap>(
  target: EventTarget,
  type: K,
  detail: DramacEventMap[K],
): boolean {
  return target.dispatchEvent(new CustomEvent(type, { detail, bubbles: true, composed: true, cancelable: true }));
}
