/** The locales every element ships; the first is the fallback. */
export const locales = ['en', 'de'] as const;
export type Locale = (typeof locales)[number];

/** One element's strings in every locale: a missing translation fails to compile. */
export type MessageCatalogue<Messages> = Readonly<Record<Locale, Messages>>;

/** `de-AT` → `de`; anything unknown → `en`. */
export function toLocale(tag: string | null | undefined): Locale {
  const language = (tag ?? '').toLowerCase().split('-')[0];
  return locales.find((locale) => locale === language) ?? 'en';
}

/** The `lang` of the element or its nearest ancestor, looking through shadow roots to their hosts. */
export function localeOf(element: Element): Locale {
  for (let node: Node | null = element; node; node = node instanceof ShadowRoot ? node.host : node.parentNode) {
    if (node instanceof Element && node.hasAttribute('lang')) return toLocale(node.getAttribute('lang'));
  }
  return 'en';
}

export const sharedMessages = {
  en: {
    loading: 'Loading…',
    error: 'This content is not available right now.',
    empty: 'Nothing here yet.',
    required: 'Please choose an entry.',
  },
  de: {
    loading: 'Wird geladen …',
    error: 'Dieser Inhalt ist gerade nicht verfügbar.',
    empty: 'Hier gibt es noch nichts.',
    required: 'Bitte wählen Sie einen Eintrag aus.',
  },
} satisfies MessageCatalogue<Record<string, string>>;

// Sites switch language by changing <html lang>; one observer re-renders every connected element.
const listeners = new Set<() => void>();
let documentLangObserver: MutationObserver | undefined;

export function onDocumentLangChange(listener: () => void): () => void {
  listeners.add(listener);
  if (!documentLangObserver) {
    documentLangObserver = new MutationObserver(() => listeners.forEach((notify) => notify()));
    documentLangObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['lang'] });
  }
  return () => listeners.delete(listener);
}
