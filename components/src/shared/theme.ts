import { css } from 'lit';

/**
 * Design tokens. A site themes every element with the public `--dm-*` custom properties (they inherit into
 * shadow roots); the private `--_dm-*` ones hold each token's value with its light or dark fallback, so a
 * site's own value always wins over the defaults.
 *
 * Dark mode follows `prefers-color-scheme` unless the element says `theme="light"` or `theme="dark"`.
 */
/** The dark defaults: chosen by `theme="dark"`, or by the visitor's system unless `theme="light"`. */
const dark = css`
  --_dm-primary: var(--dm-color-primary, #8fb0ff);
  --_dm-text: var(--dm-color-text, #eceef2);
  --_dm-muted: var(--dm-color-muted, #a9afbc);
  --_dm-surface: var(--dm-color-surface, #16181d);
  --_dm-border: var(--dm-color-border, #3a3f4b);
  color-scheme: dark;
`;

/**
 * Applies an install's `accent_color` (`#rrggbb`; anything else, or none, leaves the theme's) as the element's primary colour,
 * with the text on it black or white, whichever contrasts more (WCAG relative luminance): an accent chosen
 * for a light page stays readable in the dark theme. Through the CSSOM, so it is fine under a strict CSP.
 */
export function applyAccent(host: HTMLElement, accent: string | undefined): void {
  if (!accent || !/^#[0-9a-fA-F]{6}$/.test(accent)) {
    host.style.removeProperty('--_dm-primary');
    host.style.removeProperty('--_dm-on-primary');
    return;
  }
  const [r, g, b] = [1, 3, 5].map((at) => {
    const channel = parseInt(accent.slice(at, at + 2), 16) / 255;
    return channel <= 0.04045 ? channel / 12.92 : ((channel + 0.055) / 1.055) ** 2.4;
  }) as [number, number, number];
  const luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  // Contrast with white is 1.05 / (L + 0.05), with black (L + 0.05) / 0.05: white wins below L ≈ 0.179.
  host.style.setProperty('--_dm-primary', accent);
  host.style.setProperty('--_dm-on-primary', luminance < 0.179 ? '#ffffff' : '#000000');
}

export const themeStyles = css`
  :host {
    --_dm-primary: var(--dm-color-primary, #2454d6);
    /* The text on the primary colour (applyAccent sets one that contrasts with an install's accent). */
    --_dm-on-primary: var(--_dm-surface);
    --_dm-text: var(--dm-color-text, #1c1e23);
    --_dm-muted: var(--dm-color-muted, #5b6170);
    --_dm-surface: var(--dm-color-surface, #ffffff);
    --_dm-border: var(--dm-color-border, #d5d8de);
    --_dm-radius: var(--dm-radius, 8px);
    --_dm-space: var(--dm-space, 12px);
    display: block;
    box-sizing: border-box;
    color-scheme: light;
    color: var(--_dm-text);
    background: var(--_dm-surface);
    font-family: var(--dm-font-family, system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif);
    font-size: var(--dm-font-size, 1rem);
    line-height: 1.5;
  }
  :host([hidden]) {
    display: none;
  }
  :host([theme='dark']) {
    ${dark}
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      ${dark}
    }
  }
  *,
  *::before,
  *::after {
    box-sizing: inherit;
  }
  :focus-visible {
    outline: 2px solid var(--_dm-primary);
    outline-offset: 2px;
  }
  @media (prefers-reduced-motion: reduce) {
    *,
    *::before,
    *::after {
      animation: none !important;
      transition: none !important;
    }
  }
`;

/** The loading, empty, error and sign-in states every data element shows: calm, and the same everywhere. */
export const stateStyles = css`
  [part~='loading'],
  [part~='empty'],
  [part~='error'],
  [part~='sign-in'] {
    padding: var(--_dm-space);
    color: var(--_dm-muted);
    border-radius: var(--_dm-radius);
  }
  [part~='loading'] {
    animation: dm-pulse 1.4s ease-in-out infinite;
  }
  @keyframes dm-pulse {
    50% {
      opacity: 0.55;
    }
  }
`;
