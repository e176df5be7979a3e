import type { MessageCatalogue } from '../shared/i18n.js';

/** The fields a contact form may have (the CRM's `dm-contact-form` settings name them). */
export type ContactFieldName = 'email' | 'first_name' | 'last_name' | 'phone' | 'company' | 'message';

export interface ContactFormMessages {
  title: string;
  fields: Record<ContactFieldName, string>;
  /**
   * What the consent checkbox says when the settings give no text. The server records these very words as
   * what the visitor agreed to (api/src/modules/crm/form.ts, DEFAULT_CONSENT_TEXT; a test checks they agree).
   */
  consent: string;
  requiredNote: string;
  send: string;
  sending: string;
  success: string;
  redirecting: string;
  sendAnother: string;
  invalid: (count: number) => string;
  tooMany: (seconds: number) => string;
  failed: string;
  markup: string;
  honeypot: string;
}

/** "in 45 seconds", "in 3 minutes": how long to wait, roughly, in words. */
const wait = (locale: 'en' | 'de', seconds: number) => {
  const minutes = Math.ceil(seconds / 60);
  const [value, unit] = seconds < 60 ? [seconds, 'second'] : [minutes, 'minute'];
  return new Intl.NumberFormat(locale, { style: 'unit', unit, unitDisplay: 'long' }).format(value);
};

export const contactFormMessages: MessageCatalogue<ContactFormMessages> = {
  en: {
    title: 'Contact us',
    fields: {
      email: 'Email',
      first_name: 'First name',
      last_name: 'Last name',
      phone: 'Phone',
      company: 'Company',
      message: 'Message',
    },
    consent: 'I agree that my details are stored and used to answer my request.',
    requiredNote: 'Fields marked * are required.',
    send: 'Send',
    sending: 'Sending…',
    success: 'Thank you! We will get back to you soon.',
    redirecting: 'Thank you! One moment…',
    sendAnother: 'Send another message',
    invalid: (count) => (count === 1 ? 'Please check the marked field.' : 'Please check the marked fields.'),
    tooMany: (seconds) => `Too many attempts. Please try again in ${wait('en', seconds)}.`,
    failed: 'Your message could not be sent. Please try again.',
    markup: 'Please write plain text, without HTML tags (such as <b>).',
    honeypot: 'Leave this field empty',
  },
  de: {
    title: 'Kontakt',
    fields: {
      email: 'E-Mail',
      first_name: 'Vorname',
      last_name: 'Nachname',
      phone: 'Telefon',
      company: 'Firma',
      message: 'Nachricht',
    },
    consent:
      'Ich bin damit einverstanden, dass meine Angaben gespeichert und zur Beantwortung meiner Anfrage verwendet werden.',
    requiredNote: 'Mit * markierte Felder sind Pflichtfelder.',
    send: 'Senden',
    sending: 'Wird gesendet …',
    success: 'Vielen Dank! Wir melden uns bald bei Ihnen.',
    redirecting: 'Vielen Dank! Einen Moment …',
    sendAnother: 'Weitere Nachricht senden',
    invalid: (count) =>
      count === 1 ? 'Bitte prüfen Sie das markierte Feld.' : 'Bitte prüfen Sie die markierten Felder.',
    tooMany: (seconds) => `Zu viele Versuche. Bitte versuchen Sie es in ${wait('de', seconds)} erneut.`,
    failed: 'Ihre Nachricht konnte nicht gesendet werden. Bitte versuchen Sie es erneut.',
    markup: 'Bitte nur Text eingeben, ohne HTML-Tags (wie <b>).',
    honeypot: 'Dieses Feld leer lassen',
  },
};
