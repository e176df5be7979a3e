import type { MessageCatalogue } from '../shared/i18n.js';

/** Where a deal is on the board, for announcements: its name, stage, and place in the stage. */
export interface Place {
  deal: string;
  stage: string;
  position: number;
  of: number;
}

export interface PipelineMessages {
  board: (pipeline: string) => string;
  deals: (count: number) => string;
  noPipelines: string;
  pipelineEmpty: string;
  columnEmpty: string;
  won: string;
  lost: string;
  probability: (percent: number) => string;
  expectedClose: (date: string) => string;
  owner: (name: string) => string;
  showMore: string;
  loadingMore: string;
  moreFailed: string;
  readOnly: string;
  readOnlyKey: string;
  roleDescription: string;
  instructions: string;
  instructionsReadOnly: string;
  pickedUp: (place: Place) => string;
  movedTo: (place: Place) => string;
  dropped: (place: Place) => string;
  unchanged: (place: Place) => string;
  cancelled: (place: Place) => string;
  saved: (place: Place) => string;
  failed: (place: Place) => string;
  forbidden: (place: Place) => string;
}

export const pipelineMessages = {
  en: {
    board: (pipeline) => `Pipeline ${pipeline}`,
    deals: (count) => (count === 1 ? '1 deal' : `${count} deals`),
    noPipelines: 'There is no pipeline yet.',
    pipelineEmpty: 'No deals in this pipeline yet.',
    columnEmpty: 'No deals',
    won: 'Won',
    lost: 'Lost',
    probability: (percent) => `${percent}% probability`,
    expectedClose: (date) => `Expected close ${date}`,
    owner: (name) => `Owner: ${name}`,
    showMore: 'Show more deals',
    loadingMore: 'Loading more deals…',
    moreFailed: 'More deals could not be loaded. Please try again.',
    readOnly: 'Read-only: you can look at these deals but not move them.',
    readOnlyKey: 'This board is read-only for you.',
    roleDescription: 'movable deal',
    instructions:
      'Arrow keys go from deal to deal. Space or Enter picks a deal up; then the arrow keys move it, Space or Enter drops it and Escape cancels.',
    instructionsReadOnly: 'Arrow keys go from deal to deal.',
    pickedUp: ({ deal, stage, position, of }) =>
      `Picked up ${deal} in ${stage}, position ${position} of ${of}. Move it with the arrow keys, drop it with Space or Enter, cancel with Escape.`,
    movedTo: ({ deal, stage, position, of }) => `${deal}: ${stage}, position ${position} of ${of}.`,
    dropped: ({ deal, stage, position, of }) => `Dropped ${deal} in ${stage}, position ${position} of ${of}.`,
    unchanged: ({ deal, stage }) => `Dropped ${deal} where it was, in ${stage}.`,
    cancelled: ({ deal, stage, position, of }) =>
      `Move cancelled. ${deal} is back in ${stage}, position ${position} of ${of}.`,
    saved: ({ deal, stage }) => `${deal} is now in ${stage}.`,
    failed: ({ deal, stage }) => `${deal} could not be moved and is back in ${stage}. Please try again.`,
    forbidden: ({ deal, stage }) =>
      `You may not move deals, so this board is now read-only. ${deal} is back in ${stage}.`,
  },
  de: {
    board: (pipeline) => `Pipeline ${pipeline}`,
    deals: (count) => (count === 1 ? '1 Deal' : `${count} Deals`),
    noPipelines: 'Es gibt noch keine Pipeline.',
    pipelineEmpty: 'In dieser Pipeline gibt es noch keine Deals.',
    columnEmpty: 'Keine Deals',
    won: 'Gewonnen',
    lost: 'Verloren',
    probability: (percent) => `${percent} % Wahrscheinlichkeit`,
    expectedClose: (date) => `Voraussichtlicher Abschluss ${date}`,
    owner: (name) => `Verantwortlich: ${name}`,
    showMore: 'Weitere Deals anzeigen',
    loadingMore: 'Weitere Deals werden geladen …',
    moreFailed: 'Weitere Deals konnten nicht geladen werden. Bitte versuchen Sie es noch einmal.',
    readOnly: 'Nur Ansicht: Sie können diese Deals ansehen, aber nicht verschieben.',
    readOnlyKey: 'Dieses Board können Sie nur ansehen.',
    roleDescription: 'verschiebbarer Deal',
    instructions:
      'Die Pfeiltasten gehen von Deal zu Deal. Leertaste oder Eingabe nimmt einen Deal auf; dann verschieben ihn die Pfeiltasten, Leertaste oder Eingabe legt ihn ab und Escape bricht ab.',
    instructionsReadOnly: 'Die Pfeiltasten gehen von Deal zu Deal.',
    pickedUp: ({ deal, stage, position, of }) =>
      `${deal} aufgenommen, in ${stage}, Position ${position} von ${of}. Mit den Pfeiltasten verschieben, mit Leertaste oder Eingabe ablegen, mit Escape abbrechen.`,
    movedTo: ({ deal, stage, position, of }) => `${deal}: ${stage}, Position ${position} von ${of}.`,
    dropped: ({ deal, stage, position, of }) => `${deal} abgelegt in ${stage}, Position ${position} von ${of}.`,
    unchanged: ({ deal, stage }) => `${deal} an derselben Stelle abgelegt, in ${stage}.`,
    cancelled: ({ deal, stage, position, of }) =>
      `Verschieben abgebrochen. ${deal} ist wieder in ${stage}, Position ${position} von ${of}.`,
    saved: ({ deal, stage }) => `${deal} ist jetzt in ${stage}.`,
    failed: ({ deal, stage }) =>
      `${deal} konnte nicht verschoben werden und ist wieder in ${stage}. Bitte versuchen Sie es noch einmal.`,
    forbidden: ({ deal, stage }) =>
      `Sie dürfen keine Deals verschieben, daher ist dieses Board jetzt nur zur Ansicht. ${deal} ist wieder in ${stage}.`,
  },
} satisfies MessageCatalogue<PipelineMessages>;

export type LifecycleStage =
  | 'subscriber'
  | 'lead'
  | 'marketing_qualified'
  | 'sales_qualified'
  | 'opportunity'
  | 'customer'
  | 'evangelist'
  | 'other';

export interface ContactMessages {
  unnamed: string;
  emails: string;
  phones: string;
  tags: string;
  lifecycleStage: string;
  company: string;
  lifecycle: Record<LifecycleStage, string>;
  timeline: string;
  timelineEmpty: string;
  showMore: string;
  loadingMore: string;
  moreFailed: string;
}

export const contactMessages = {
  en: {
    unnamed: 'Unnamed contact',
    emails: 'Email',
    phones: 'Phone',
    tags: 'Tags',
    lifecycleStage: 'Lifecycle stage',
    company: 'Company',
    lifecycle: {
      subscriber: 'Subscriber',
      lead: 'Lead',
      marketing_qualified: 'Marketing qualified lead',
      sales_qualified: 'Sales qualified lead',
      opportunity: 'Opportunity',
      customer: 'Customer',
      evangelist: 'Evangelist',
      other: 'Other',
    },
    timeline: 'Timeline',
    timelineEmpty: 'Nothing has happened yet.',
    showMore: 'Show more',
    loadingMore: 'Loading…',
    moreFailed: 'More entries could not be loaded. Please try again.',
  },
  de: {
    unnamed: 'Kontakt ohne Namen',
    emails: 'E-Mail',
    phones: 'Telefon',
    tags: 'Schlagwörter',
    lifecycleStage: 'Lebenszyklus-Phase',
    company: 'Firma',
    lifecycle: {
      subscriber: 'Abonnent',
      lead: 'Lead',
      marketing_qualified: 'Marketing-qualifizierter Lead',
      sales_qualified: 'Vertriebsqualifizierter Lead',
      opportunity: 'Verkaufschance',
      customer: 'Kunde',
      evangelist: 'Fürsprecher',
      other: 'Sonstige',
    },
    timeline: 'Verlauf',
    timelineEmpty: 'Bisher ist nichts passiert.',
    showMore: 'Mehr anzeigen',
    loadingMore: 'Wird geladen …',
    moreFailed: 'Weitere Einträge konnten nicht geladen werden. Bitte versuchen Sie es noch einmal.',
  },
} satisfies MessageCatalogue<ContactMessages>;
