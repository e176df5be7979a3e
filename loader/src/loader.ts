/**
 * The bootstrap behind the one-line snippet `<script async src="…/v1/embed/pk_….js"></script>`. The server
 * serves it with the site's configuration in place of `__DRAMAC_CONFIG__`, so nothing else is fetched
 * before the first module. It
 * - upgrades placeholders — an element's own tag (`<acme-faq>`) or `<div data-dramac="acme-faq">` for page
 *   builders that strip unknown tags — present now and added later (SPA route changes);
 * - imports a module's bundle (with its integrity hash) only when one of its placeholders nears the viewport;
 * - leaves the placeholder's own content as the fallback when a bundle fails, with one console warning;
 * - puts nothing on `window` but `dramac`, keeping calls queued before it loaded (`dramac('on', …)`), sets no
 *   cookie and stores nothing, and never runs twice on a page.
 * Budget: 1.5 KB gzipped (size-limit, in the tests). Keep it small: no Lit in here.
 */

interface ElementConfig {
  tag: string;
  url: string;
  integrity: string;
}
interface Config {
  api: string;
  key: string;
  /** The shared Lit runtime every bundle imports: fetched beside the first bundle, not after it. */
  runtime: { url: string; integrity: string };
  /** Where the iframe embed's pages come from (FRAME_URL), if the platform has them. */
  frame: string | null;
  theme: {
    tokens?: Record<string, string>;
    fonts?: { family: string; src: string; weight?: string; style?: string }[];
  };
  modules: { id: string; elements: ElementConfig[]; settings: Record<string, unknown> }[];
}
interface Dramac {
  (command: string, ...args: unknown[]): unknown;
  q?: IArguments[];
  loaded?: boolean;
}

declare const __DRAMAC_CONFIG__: Config;

((config: Config) => {
  const w = window as unknown as { dramac?: Dramac };
  if (w.dramac?.loaded) return;
  const d = document;
  const nonce = (d.currentScript as HTMLScriptElement | null)?.nonce;
  const elements = new Map<string, { config: ElementConfig; settings: unknown; loading?: Promise<unknown> }>();
  for (const module of config.modules) {
    for (const element of module.elements) {
      elements.set(element.tag, { config: element, settings: module.settings[element.tag] });
    }
  }
  const listeners: [string, EventListener][] = [];
  let instances = 0;
  let warned = false;

  // Theme: tokens on :root (custom properties reach into shadow roots), and the fonts the tokens name
  // (`@font-face` does not apply inside a shadow root). A constructed sheet: no inline style for a CSP to refuse.
  const { tokens = {}, fonts = [] } = config.theme;
  const css =
    `:root{${Object.entries(tokens)
      .map(([name, value]) => `${name}:${value}`)
      .join(';')}}` +
    fonts
      .map(
        (font) =>
          `@font-face{font-family:${JSON.stringify(font.family)};src:url(${JSON.stringify(font.src)});` +
          `font-weight:${font.weight ?? 'normal'};font-style:${font.style ?? 'normal'};font-display:swap}`,
      )
      .join('');
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    d.adoptedStyleSheets = [...d.adoptedStyleSheets, sheet];
  } catch {
    // An old browser without constructed sheets keeps the elements' own defaults.
  }

  /** Adds a script or preload of ours: integrity-checked, fetched with CORS, carrying the snippet's nonce. */
  const add = <T extends HTMLScriptElement | HTMLLinkElement>(element: T, props: Partial<T>) => {
    Object.assign(element, props, { crossOrigin: 'anonymous' });
    if (nonce) element.nonce = nonce;
    d.head.appendChild(element);
  };

  let preloaded = false;
  const load = (tag: string) => {
    const element = elements.get(tag)!;
    if (!preloaded) {
      preloaded = true;
      add(d.createElement('link'), {
        rel: 'modulepreload',
        href: config.runtime.url,
        integrity: config.runtime.integrity,
      });
    }
    element.loading ??= new Promise((resolve, reject) => {
      add(d.createElement('script'), {
        type: 'module',
        src: element.config.url,
        integrity: element.config.integrity,
        onload: resolve,
        onerror: reject,
      });
    }).catch(() => {
      if (!warned) console.warn(`Dramac: <${tag}> failed to load`);
      warned = true;
    });
  };

  // Every browser the elements run in has it (custom elements came later).
  const nearViewport = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        if (!entry.isIntersecting) continue;
        nearViewport.unobserve(entry.target);
        load(entry.target.localName);
      }
    },
    { rootMargin: '200px' },
  );

  /** Gives a placeholder its connection and settings, and an instance id, then waits to load it. */
  const upgrade = (found: Element) => {
    let element = found;
    const name = element.getAttribute('data-dramac');
    if (name !== null) {
      if (!elements.has(name)) return;
      // A page builder's stand-in: becomes the element, keeping its fallback content and what configures a
      // widget (`data-lang`, `data-theme`, `data-settings`) — nothing else: a sanitizer lets any `data-*`
      // through, which must not become an event handler (`data-onfocus`) or another API (`data-api-base`).
      element = d.createElement(name);
      for (const { name: attribute, value } of Array.from(found.attributes)) {
        const setting = /^data-(lang|theme|settings)$/.exec(attribute);
        if (setting) element.setAttribute(setting[1]!, value);
      }
      element.append(...Array.from(found.childNodes));
      found.replaceWith(element);
    }
    if (element.hasAttribute('data-dramac-id')) return;
    element.setAttribute('data-dramac-id', `dm-${++instances}`);
    if (!element.hasAttribute('api-base')) element.setAttribute('api-base', config.api);
    if (!element.hasAttribute('key')) element.setAttribute('key', config.key);
    (element as unknown as { settings: unknown }).settings ??= elements.get(element.localName)!.settings;
    nearViewport.observe(element);
  };

  const selector = [...elements.keys(), '[data-dramac]'].join(',');
  const scan = (root: ParentNode) => {
    if (root instanceof Element && root.matches(selector)) upgrade(root);
    root.querySelectorAll(selector).forEach(upgrade);
  };
  const added = new MutationObserver((mutations) => {
    for (const mutation of mutations) mutation.addedNodes.forEach((node) => node instanceof Element && scan(node));
  });

  const api: Dramac = (command, ...args) => {
    if (command === 'on') {
      // `dramac('on', 'booking:created', fn)` hears the elements' `dm-booking-created` events.
      const listener: EventListener = (event) => (args[1] as (detail: unknown) => void)((event as CustomEvent).detail);
      const type = `dm-${String(args[0]).replace(':', '-')}`;
      d.addEventListener(type, listener);
      listeners.push([type, listener]);
    } else if (command === 'destroy') {
      // SPAs tearing down: stop watching the page and hearing its events; the elements stay the page's.
      added.disconnect();
      nearViewport.disconnect();
      for (const [type, listener] of listeners) d.removeEventListener(type, listener);
      listeners.length = 0;
    } else if (command === 'identify' || command === 'consent') {
      // Kept in memory for the elements to read (`dramac.identify`, `dramac.consent`); never stored.
      (api as unknown as Record<string, unknown>)[command] = args[0];
    }
    return undefined;
  };
  api.loaded = true;
  const queued = w.dramac?.q ?? [];
  w.dramac = api;
  for (const call of queued) api(...(Array.from(call) as [string, ...unknown[]]));

  // The iframe embed: a frame of ours says how tall it is; its iframe on this page takes that height.
  if (config.frame) {
    addEventListener('message', (event) => {
      if (event.origin !== config.frame || event.data?.type !== 'dramac:resize') return;
      d.querySelectorAll('iframe').forEach((frame) => {
        if (frame.contentWindow === event.source) frame.style.height = `${Number(event.data.height)}px`;
      });
    });
  }

  const start = () => {
    scan(d.body);
    added.observe(d.body, { childList: true, subtree: true });
  };
  if (d.body) start();
  else d.addEventListener('DOMContentLoaded', start);
})(__DRAMAC_CONFIG__);
