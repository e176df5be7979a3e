import { css } from 'lit';

/** `<dm-booking>`'s own styles, on top of the shared theme tokens. */
export const bookingStyles = css`
  :host {
    /* Reserved, so the page does not jump while services and free times load. */
    min-height: var(--dm-booking-min-height, 26rem);
    padding: var(--_dm-space);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
  }
  h2,
  h3 {
    margin: 0 0 var(--_dm-space);
    line-height: 1.25;
  }
  h2 {
    font-size: 1.25em;
  }
  h3 {
    font-size: 1.05em;
  }
  p {
    margin: 0 0 var(--_dm-space);
  }
  button,
  input,
  select,
  textarea {
    font: inherit;
    color: inherit;
  }
  button,
  [part~='link'] {
    cursor: pointer;
    padding: calc(var(--_dm-space) / 2) var(--_dm-space);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
    background: var(--_dm-surface);
    text-decoration: none;
    display: inline-block;
  }
  button:hover:not([disabled]) {
    border-color: var(--_dm-primary);
  }
  button[disabled] {
    cursor: default;
    opacity: 0.6;
  }
  [part~='primary'] {
    background: var(--_dm-primary);
    border-color: var(--_dm-primary);
    color: var(--_dm-on-primary);
    font-weight: 600;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .row {
    display: flex;
    flex-wrap: wrap;
    align-items: center;
    gap: calc(var(--_dm-space) / 2) var(--_dm-space);
    margin-bottom: var(--_dm-space);
  }
  .muted {
    color: var(--_dm-muted);
  }
  [part~='notice'] {
    padding: var(--_dm-space);
    margin-bottom: var(--_dm-space);
    border: 1px solid var(--_dm-primary);
    border-radius: var(--_dm-radius);
  }
  [part~='notice']:empty {
    display: none;
  }

  /* Services */
  [part~='services'] {
    list-style: none;
    margin: 0;
    padding: 0;
    display: grid;
    gap: calc(var(--_dm-space) / 2);
  }
  [part~='service'] {
    width: 100%;
    text-align: start;
    display: grid;
    gap: 2px;
  }
  [part~='service'] strong {
    font-size: 1.05em;
  }

  /* Calendar */
  .layout {
    display: grid;
    gap: var(--_dm-space);
    grid-template-columns: repeat(auto-fit, minmax(16rem, 1fr));
  }
  [part~='month-nav'] {
    display: flex;
    align-items: center;
    justify-content: space-between;
    gap: var(--_dm-space);
    margin-bottom: calc(var(--_dm-space) / 2);
  }
  [part~='month-nav'] h3 {
    margin: 0;
  }
  [part~='grid'] {
    width: 100%;
    border-collapse: separate;
    border-spacing: 2px;
    table-layout: fixed;
  }
  [part~='grid'] th {
    font-size: 0.8em;
    font-weight: 600;
    color: var(--_dm-muted);
    padding: 2px 0;
  }
  [part~='day'] {
    text-align: center;
    padding: 0.4em 0;
    border-radius: var(--_dm-radius);
    border: 1px solid transparent;
    color: var(--_dm-muted);
  }
  [part~='day'][aria-disabled='false'] {
    cursor: pointer;
    color: var(--_dm-text);
    font-weight: 600;
    border-color: var(--_dm-border);
  }
  [part~='day'][aria-disabled='false']:hover {
    border-color: var(--_dm-primary);
  }
  [part~='day'][aria-selected='true'] {
    background: var(--_dm-primary);
    border-color: var(--_dm-primary);
    color: var(--_dm-on-primary);
  }
  [part~='today'] {
    text-decoration: underline;
  }

  /* Times */
  [part~='slots'] {
    list-style: none;
    margin: 0 0 var(--_dm-space);
    padding: 0;
    display: grid;
    grid-template-columns: repeat(auto-fill, minmax(6.5rem, 1fr));
    gap: calc(var(--_dm-space) / 2);
  }
  [part~='slot'] {
    width: 100%;
  }
  [part~='slot'] small {
    display: block;
    color: var(--_dm-muted);
  }
  [part~='slot'][aria-pressed='true'] {
    border-color: var(--_dm-primary);
    box-shadow: inset 0 0 0 1px var(--_dm-primary);
  }

  /* Form */
  [part~='form'] {
    display: grid;
    gap: var(--_dm-space);
    max-width: 32rem;
  }
  [part~='field'] {
    display: grid;
    gap: 4px;
  }
  [part~='field'].checkbox {
    grid-template-columns: auto 1fr;
    align-items: center;
  }
  [part~='input'] {
    padding: calc(var(--_dm-space) / 2);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
    background: var(--_dm-surface);
  }
  [part~='input']:focus-visible {
    border-color: var(--_dm-primary);
  }
  .required {
    color: var(--_dm-primary);
  }

  /* Confirmation and manage */
  dl {
    display: grid;
    grid-template-columns: max-content 1fr;
    gap: 4px var(--_dm-space);
    margin: 0 0 var(--_dm-space);
  }
  dt {
    font-weight: 600;
  }
  dd {
    margin: 0;
  }
`;
