import { LitElement, type PropertyDeclarations, type PropertyValues } from 'lit';
import { DramacElement } from './dramac-element.js';
import { sharedMessages } from './i18n.js';

/**
 * The base of elements that post data in a `<form>`: form-associated through `ElementInternals`, so the
 * form submits `name=value`, resets it, and validates it natively (`required` → `valueMissing`, with a
 * localised message and the browser's own bubble on `reportValidity()`).
 */
export class DramacFormElement extends DramacElement {
  static formAssociated = true;

  // Focus lands inside the shadow root (e.g. when the form reports the element invalid).
  static override shadowRootOptions: ShadowRootInit = { ...LitElement.shadowRootOptions, delegatesFocus: true };

  static override properties: PropertyDeclarations = {
    name: { reflect: true },
    required: { type: Boolean, reflect: true },
    // `value` has its own accessor below so the form sees a change at once, not after the next render.
    value: { noAccessor: true },
    formDisabled: { state: true },
  };

  /** The form field name the chosen value is submitted under. */
  declare name: string | undefined;
  /** The form is invalid until a value is chosen. */
  declare required: boolean;
  declare protected formDisabled: boolean;

  protected readonly internals: ElementInternals = this.attachInternals();
  private currentValue = '';

  constructor() {
    super();
    this.required = false;
    this.formDisabled = false;
  }

  /** The chosen value (e.g. a record id), submitted with the form. */
  get value(): string {
    return this.currentValue;
  }

  set value(next: string) {
    const old = this.currentValue;
    this.currentValue = next ?? '';
    this.internals.setFormValue(this.currentValue || null);
    this.updateValidity();
    this.requestUpdate('value', old);
  }

  get form(): HTMLFormElement | null {
    return this.internals.form;
  }
  get validity(): ValidityState {
    return this.internals.validity;
  }
  get validationMessage(): string {
    return this.internals.validationMessage;
  }
  get willValidate(): boolean {
    return this.internals.willValidate;
  }
  checkValidity(): boolean {
    return this.internals.checkValidity();
  }
  reportValidity(): boolean {
    return this.internals.reportValidity();
  }

  formResetCallback(): void {
    this.value = this.getAttribute('value') ?? '';
  }
  formStateRestoreCallback(state: string | File | FormData | null): void {
    if (typeof state === 'string') this.value = state;
  }
  formDisabledCallback(disabled: boolean): void {
    this.formDisabled = disabled;
  }

  /** Where the browser points its validation bubble: an element in the shadow root, once rendered. */
  protected validationAnchor(): HTMLElement | undefined {
    return undefined;
  }

  protected override updated(changed: PropertyValues): void {
    super.updated(changed);
    // Re-run after each render: `required`, the locale (the message) or the anchor may have changed.
    this.updateValidity();
  }

  private updateValidity(): void {
    if (this.required && !this.currentValue) {
      const { required } = this.messages(sharedMessages);
      this.internals.setValidity({ valueMissing: true }, required, this.validationAnchor());
    } else {
      this.internals.setValidity({});
    }
  }
}
