import { css } from 'lit';

/** What both CRM app elements share, on top of the shared theme tokens. */
const common = css`
  h2,
  h3 {
    margin: 0;
    line-height: 1.25;
  }
  h2 {
    font-size: 1.25em;
  }
  h3 {
    font-size: 1em;
  }
  p {
    margin: 0;
  }
  button {
    font: inherit;
    color: inherit;
    cursor: pointer;
    padding: calc(var(--_dm-space) / 3) calc(var(--_dm-space) * 0.75);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
    background: var(--_dm-surface);
  }
  button:hover:not([disabled]) {
    border-color: var(--_dm-primary);
  }
  button[disabled] {
    cursor: default;
    opacity: 0.6;
  }
  .sr-only {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
  .muted {
    color: var(--_dm-muted);
  }
  [part~='notice'],
  [part~='read-only'] {
    padding: calc(var(--_dm-space) / 2) var(--_dm-space);
    margin-bottom: var(--_dm-space);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
  }
  [part~='notice'] {
    border-color: var(--_dm-primary);
  }
  [part~='notice']:empty {
    display: none;
  }
`;

/** `<dm-crm-pipeline>`'s own styles. */
export const pipelineStyles = [
  common,
  css`
    :host {
      min-height: var(--dm-crm-pipeline-min-height, 20rem);
      padding: var(--_dm-space);
    }
    [part~='title'] {
      margin-bottom: var(--_dm-space);
    }
    [part~='board'] {
      display: grid;
      grid-auto-flow: column;
      grid-auto-columns: minmax(var(--dm-crm-column-width, 15rem), 1fr);
      gap: var(--_dm-space);
      overflow-x: auto;
      padding-bottom: calc(var(--_dm-space) / 2);
      align-items: start;
    }
    [part~='column'] {
      display: flex;
      flex-direction: column;
      gap: calc(var(--_dm-space) / 2);
      padding: calc(var(--_dm-space) / 2);
      border: 1px solid var(--_dm-border);
      border-radius: var(--_dm-radius);
      min-height: 8rem;
    }
    [part~='drop-target'] {
      border-color: var(--_dm-primary);
      box-shadow: inset 0 0 0 1px var(--_dm-primary);
    }
    [part~='column-header'] {
      display: grid;
      gap: 2px;
    }
    [part~='stage-kind'] {
      font-size: 0.8em;
      font-weight: 600;
      color: var(--_dm-muted);
      text-transform: uppercase;
      letter-spacing: 0.04em;
    }
    [part~='summary'] {
      font-size: 0.9em;
      color: var(--_dm-muted);
    }
    [part~='totals'] {
      font-weight: 600;
      color: var(--_dm-text);
    }
    [part~='deals'] {
      list-style: none;
      margin: 0;
      padding: 0;
      display: grid;
      gap: calc(var(--_dm-space) / 2);
      min-height: 2rem;
      flex: 1;
    }
    [part~='deals'].drop-end {
      box-shadow: 0 3px 0 -1px var(--_dm-primary);
    }
    [part~='card'] {
      display: grid;
      gap: 2px;
      padding: calc(var(--_dm-space) / 2) calc(var(--_dm-space) * 0.75);
      border: 1px solid var(--_dm-border);
      border-radius: var(--_dm-radius);
      background: var(--_dm-surface);
      transition:
        border-color 0.15s ease,
        box-shadow 0.15s ease;
    }
    [part~='card'][draggable='true'] {
      cursor: grab;
    }
    [part~='card']:hover {
      border-color: var(--_dm-primary);
    }
    [part~='card'].drop-before {
      box-shadow: 0 -3px 0 -1px var(--_dm-primary);
    }
    [part~='card'].dragging {
      opacity: 0.5;
    }
    [part~='grabbed'] {
      border-color: var(--_dm-primary);
      box-shadow: 0 4px 12px rgb(0 0 0 / 0.18);
      transform: rotate(-1deg);
    }
    [part~='card'][aria-busy='true'] {
      border-style: dashed;
      cursor: progress;
    }
    [part~='deal-name'] {
      font-weight: 600;
      overflow-wrap: anywhere;
    }
    [part~='amount'] {
      font-variant-numeric: tabular-nums;
    }
    [part~='contact'],
    [part~='owner'],
    [part~='close-date'] {
      font-size: 0.875em;
      color: var(--_dm-muted);
      overflow-wrap: anywhere;
    }
    [part~='column-empty'] {
      font-size: 0.9em;
      color: var(--_dm-muted);
    }
  `,
];

/** `<dm-crm-contact>`'s own styles. */
export const contactStyles = [
  common,
  css`
    :host {
      min-height: var(--dm-crm-contact-min-height, 12rem);
      padding: var(--_dm-space);
      border: 1px solid var(--_dm-border);
      border-radius: var(--_dm-radius);
    }
    [part~='card'] {
      display: grid;
      gap: var(--_dm-space);
      margin-bottom: calc(var(--_dm-space) * 1.5);
    }
    [part~='name'] {
      overflow-wrap: anywhere;
    }
    dl {
      display: grid;
      grid-template-columns: max-content 1fr;
      gap: 4px var(--_dm-space);
      margin: 0;
    }
    dt {
      font-weight: 600;
    }
    dd {
      margin: 0;
      overflow-wrap: anywhere;
    }
    ul {
      list-style: none;
      margin: 0;
      padding: 0;
    }
    [part~='link'] {
      color: var(--_dm-primary);
    }
    [part~='tags'] {
      display: flex;
      flex-wrap: wrap;
      gap: 4px;
    }
    [part~='tag'] {
      padding: 0 0.5em;
      border: 1px solid var(--_dm-border);
      border-radius: 999px;
      font-size: 0.875em;
    }
    [part~='timeline-title'] {
      margin-bottom: calc(var(--_dm-space) / 2);
    }
    [part~='timeline'] {
      list-style: none;
      margin: 0 0 var(--_dm-space);
      padding: 0;
      display: grid;
      gap: calc(var(--_dm-space) / 2);
    }
    [part~='entry'] {
      display: grid;
      gap: 2px;
      padding-left: var(--_dm-space);
      border-left: 2px solid var(--_dm-border);
    }
    [part~='summary'] {
      overflow-wrap: anywhere;
    }
    [part~='time'] {
      font-size: 0.875em;
      color: var(--_dm-muted);
    }
  `,
];
