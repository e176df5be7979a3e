/**
 * The three ways to put a widget on a site, as the studio shows them: the one-line loader (every widget the
 * site has installed, configured from the API), an iframe (one widget, isolated from the page), and the npm
 * package (a site built with a bundler). Plain functions, so the panel and its tests share them.
 */

export interface SnippetInput {
  /** Where the API is (`https://api.dramac.example`). */
  apiBase: string;
  /** The site's publishable key, or null until the agency creates one for the embed. */
  key: string | null;
  /** The widget's tag (`dm-booking`). */
  tag: string;
  /** The origin of this site's iframe pages (FRAME_URL with the site's id), or null where none is set. */
  frameOrigin: string | null;
  /** The npm entry point of first-party elements (`@dramac/components/booking`), or null for others. */
  npmEntry: string | null;
}

export interface Snippet {
  kind: 'loader' | 'iframe' | 'npm';
  label: string;
  /** Null where this way is not available, with `note` saying why. */
  code: string | null;
  note: string;
}

/** A stand-in for the key until one is created: it reads as a placeholder and never as a real key. */
export const KEY_PLACEHOLDER = 'pk_YOUR_PUBLISHABLE_KEY';

export function snippets(input: SnippetInput): Snippet[] {
  const key = input.key ?? KEY_PLACEHOLDER;
  const loader = `<script async src="${input.apiBase}/v1/embed/${key}.js"></script>\n<${input.tag}></${input.tag}>`;
  const iframe = input.frameOrigin
    ? `<iframe src="${input.frameOrigin}/v1/frame/${key}.html?element=${input.tag}" title="${input.tag}" width="100%" loading="lazy"></iframe>`
    : null;
  const npm = input.npmEntry
    ? `npm install @dramac/components\n\nimport '${input.npmEntry}';\n\n<${input.tag} api-base="${input.apiBase}" key="${key}"></${input.tag}>`
    : null;
  return [
    {
      kind: 'loader',
      label: 'One-line loader',
      code: loader,
      note: 'Paste the script into the page’s <head>; the element goes where the widget should appear.',
    },
    {
      kind: 'iframe',
      label: 'Iframe',
      code: iframe,
      note: iframe
        ? 'The widget in a frame of its own: nothing on the page can reach into it.'
        : 'Not available: this platform serves no iframe pages (FRAME_URL is not set).',
    },
    {
      kind: 'npm',
      label: 'npm import',
      code: npm,
      note: npm
        ? 'For sites built with a bundler: the element comes from the package, its settings from the API.'
        : 'Not available: this module’s elements are served by the platform only; use the loader.',
    },
  ];
}

/**
 * The npm entry point of each first-party element, read off `@dramac/components`' own `exports` and its
 * Custom Elements Manifest (which module defines which tag), so the list cannot drift from the package.
 */
export function npmEntries(
  exportsMap: Record<string, string | { default?: string }>,
  manifest: { modules: { path: string; declarations?: Record<string, unknown>[] }[] },
): Record<string, string> {
  const entryOf = new Map(
    Object.entries(exportsMap).map(([subpath, target]) => [
      (typeof target === 'string' ? target : (target.default ?? '')).replace(/^\.\//, ''),
      `@dramac/components${subpath.slice(1)}`,
    ]),
  );
  return Object.fromEntries(
    manifest.modules.flatMap((module) => {
      const entry = entryOf.get(module.path);
      return entry
        ? (module.declarations ?? []).flatMap((one) => (typeof one.tagName === 'string' ? [[one.tagName, entry]] : []))
        : [];
    }),
  );
}

/**
 * Whether a page address (or an origin) the agency typed is among the site's allowed origins: the origin it
 * normalises to, and the answer; an error message for something that is not a web address.
 */
export function originCheck(
  address: string,
  allowed: string[],
): { origin: string; allowed: boolean } | { error: string } {
  let url: URL;
  try {
    url = new URL(address.trim());
  } catch {
    return { error: 'Type the address of the page, like https://www.example.com/contact' };
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return { error: 'The address must start with https://' };
  return { origin: url.origin, allowed: allowed.includes(url.origin) };
}
