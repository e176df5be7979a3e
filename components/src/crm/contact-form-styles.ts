import { css } from 'lit';

/** `<dm-contact-form>`'s own styles, on top of the shared theme tokens. */
export const contactFormStyles = css`
  :host {
    /* Reserved, so the page does not jump when the form appears or turns into its thank-you note. */
    min-height: var(--dm-contact-form-min-height, 22rem);
    padding: var(--_dm-space);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
    --_dm-error: var(--dm-color-error, #b3261e);
  }
  :host([theme='dark']) {
    --_dm-error: var(--dm-color-error, #ffb4ab);
  }
  @media (prefers-color-scheme: dark) {
    :host(:not([theme='light'])) {
      --_dm-error: var(--dm-color-error, #ffb4ab);
    }
  }
  h2 {
    margin: 0 0 var(--_dm-space);
    font-size: 1.25em;
    line-height: 1.25;
  }
  p {
    margin: 0 0 var(--_dm-space);
  }
  button,
  input,
  textarea {
    font: inherit;
    color: inherit;
  }
  button {
    cursor: pointer;
    padding: calc(var(--_dm-space) / 2) var(--_dm-space);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
    background: var(--_dm-surface);
  }
  button:hover:not([disabled]) {
    border-color: var(--_dm-primary);
  }
  button[disabled] {
    cursor: progress;
    opacity: 0.7;
  }
  [part~='submit'] {
    background: var(--_dm-primary);
    border-color: var(--_dm-primary);
    color: var(--_dm-on-primary);
    font-weight: 600;
  }
  [part~='form'] {
    display: grid;
    gap: var(--_dm-space);
    max-width: 36rem;
  }
  [part~='field'] {
    display: grid;
    gap: 4px;
  }
  [part~='input'] {
    width: 100%;
    padding: calc(var(--_dm-space) / 2);
    border: 1px solid var(--_dm-border);
    border-radius: var(--_dm-radius);
    background: var(--_dm-surface);
  }
  textarea[part~='input'] {
    resize: vertical;
    min-height: 6rem;
  }
  [part~='input']:focus-visible {
    border-color: var(--_dm-primary);
  }
  [part~='input'][aria-invalid='true'] {
    border-color: var(--_dm-error);
  }
  [part~='consent'] {
    display: grid;
    grid-template-columns: auto 1fr;
    gap: calc(var(--_dm-space) / 2);
    align-items: start;
  }
  [part~='consent'] input {
    margin: 0.3em 0 0;
    accent-color: var(--_dm-primary);
  }
  [part~='field-error'] {
    color: var(--_dm-error);
    font-size: 0.9em;
  }
  [part~='consent'] [part~='field-error'] {
    grid-column: 2;
  }
  .required {
    color: var(--_dm-error);
  }
  [part~='required-note'] {
    color: var(--_dm-muted);
    font-size: 0.9em;
    margin: 0;
  }
  /* The live region stays in place (a region added later is not announced); it takes room only when it speaks. */
  [part~='status'][data-kind] {
    padding: var(--_dm-space);
    margin-bottom: var(--_dm-space);
    border: 1px solid var(--_dm-primary);
    border-radius: var(--_dm-radius);
  }
  [part~='status'][data-kind='error'] {
    border-color: var(--_dm-error);
  }
  [part~='status']:focus {
    outline: none;
  }
  /* The honeypot: off screen, out of the tab order and hidden from assistive technology; only bots fill it. */
  .trap {
    position: absolute;
    width: 1px;
    height: 1px;
    overflow: hidden;
    clip-path: inset(50%);
    white-space: nowrap;
  }
`;
