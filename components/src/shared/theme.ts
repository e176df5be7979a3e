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

export const themeStyles = css`
  :host {
    --_dm-primary: var(--dm-color-primary, #2454d6);
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
