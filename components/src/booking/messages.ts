import type { MessageCatalogue } from '../shared/i18n.js';

export interface BookingMessages {
  title: string;
  services: string;
  minutes: (count: number) => string;
  free: string;
  chooseService: string;
  serviceUnavailable: string;
  back: string;
  previousMonth: string;
  nextMonth: string;
  calendar: string;
  noSlotsInMonth: string;
  noFreeTimes: string;
  freeTimesOn: (day: string) => string;
  pickDay: string;
  seatsLeft: (count: number) => string;
  timeZone: string;
  staff: string;
  anyone: string;
  loadingTimes: string;
  timesUnavailable: string;
  yourDetails: string;
  name: string;
  email: string;
  phone: string;
  requiredMark: string;
  choose: string;
  book: string;
  booking: string;
  change: string;
  slotTaken: string;
  slotUnavailable: string;
  invalid: string;
  failed: string;
  confirmed: string;
  confirmedText: string;
  what: string;
  when: string;
  withWhom: string;
  addToCalendar: string;
  googleCalendar: string;
  bookAnother: string;
  manageTitle: string;
  cancelled: string;
  cancelledText: string;
  cancel: string;
  cancelQuestion: string;
  cancelReason: string;
  confirmCancel: string;
  keep: string;
  reschedule: string;
  rescheduleTitle: string;
  moveTo: (when: string) => string;
  confirmMove: string;
  rescheduled: string;
  status: string;
  actionFailed: string;
}

export const bookingMessages = {
  en: {
    title: 'Book an appointment',
    services: 'Services',
    minutes: (count) => `${count} min`,
    free: 'Free',
    chooseService: 'Choose a service',
    serviceUnavailable: 'This service cannot be booked right now.',
    back: 'Back',
    previousMonth: 'Previous month',
    nextMonth: 'Next month',
    calendar: 'Choose a day',
    noSlotsInMonth: 'No free times this month. Try the next month.',
    noFreeTimes: 'no free times',
    freeTimesOn: (day) => `Free times on ${day}`,
    pickDay: 'Pick a highlighted day to see its free times.',
    seatsLeft: (count) => (count === 1 ? '1 seat left' : `${count} seats left`),
    timeZone: 'Time zone',
    staff: 'With',
    anyone: 'Anyone available',
    loadingTimes: 'Loading free times…',
    timesUnavailable: 'Free times cannot be loaded right now.',
    yourDetails: 'Your details',
    name: 'Name',
    email: 'Email',
    phone: 'Phone',
    requiredMark: 'required',
    choose: 'Please choose',
    book: 'Book',
    booking: 'Booking…',
    change: 'Change time',
    slotTaken: 'Sorry, someone has just booked this time. Please pick another one.',
    slotUnavailable: 'This time is no longer available. Please pick another one.',
    invalid: 'Please check your entries:',
    failed: 'The booking could not be made. Please try again.',
    confirmed: 'Your booking is confirmed',
    confirmedText: 'We have sent a confirmation to your email, with a link to cancel or change the booking.',
    what: 'What',
    when: 'When',
    withWhom: 'With',
    addToCalendar: 'Add to calendar (.ics)',
    googleCalendar: 'Add to Google Calendar',
    bookAnother: 'Book another appointment',
    manageTitle: 'Your booking',
    cancelled: 'Cancelled',
    cancelledText: 'This booking is cancelled.',
    cancel: 'Cancel booking',
    cancelQuestion: 'Do you really want to cancel this booking?',
    cancelReason: 'Reason (optional)',
    confirmCancel: 'Yes, cancel it',
    keep: 'No, keep it',
    reschedule: 'Change time',
    rescheduleTitle: 'Choose a new time',
    moveTo: (when) => `Move the booking to ${when}?`,
    confirmMove: 'Move booking',
    rescheduled: 'Your booking has been moved.',
    status: 'Status',
    actionFailed: 'That did not work. Please try again.',
  },
  de: {
    title: 'Termin buchen',
    services: 'Leistungen',
    minutes: (count) => `${count} Min.`,
    free: 'Kostenlos',
    chooseService: 'Leistung wählen',
    serviceUnavailable: 'Diese Leistung kann gerade nicht gebucht werden.',
    back: 'Zurück',
    previousMonth: 'Vorheriger Monat',
    nextMonth: 'Nächster Monat',
    calendar: 'Tag wählen',
    noSlotsInMonth: 'In diesem Monat sind keine Termine frei. Versuchen Sie den nächsten Monat.',
    noFreeTimes: 'keine freien Termine',
    freeTimesOn: (day) => `Freie Termine am ${day}`,
    pickDay: 'Wählen Sie einen hervorgehobenen Tag, um seine freien Termine zu sehen.',
    seatsLeft: (count) => (count === 1 ? 'noch 1 Platz frei' : `noch ${count} Plätze frei`),
    timeZone: 'Zeitzone',
    staff: 'Bei',
    anyone: 'Beliebige Person',
    loadingTimes: 'Freie Termine werden geladen …',
    timesUnavailable: 'Freie Termine können gerade nicht geladen werden.',
    yourDetails: 'Ihre Angaben',
    name: 'Name',
    email: 'E-Mail',
    phone: 'Telefon',
    requiredMark: 'Pflichtfeld',
    choose: 'Bitte wählen',
    book: 'Buchen',
    booking: 'Wird gebucht …',
    change: 'Zeit ändern',
    slotTaken: 'Dieser Termin wurde gerade vergeben. Bitte wählen Sie einen anderen.',
    slotUnavailable: 'Dieser Termin ist nicht mehr verfügbar. Bitte wählen Sie einen anderen.',
    invalid: 'Bitte prüfen Sie Ihre Angaben:',
    failed: 'Die Buchung ist fehlgeschlagen. Bitte versuchen Sie es noch einmal.',
    confirmed: 'Ihre Buchung ist bestätigt',
    confirmedText: 'Sie erhalten eine Bestätigung per E-Mail, mit einem Link zum Stornieren oder Verschieben.',
    what: 'Was',
    when: 'Wann',
    withWhom: 'Bei',
    addToCalendar: 'Zum Kalender hinzufügen (.ics)',
    googleCalendar: 'Zu Google Kalender hinzufügen',
    bookAnother: 'Weiteren Termin buchen',
    manageTitle: 'Ihre Buchung',
    cancelled: 'Storniert',
    cancelledText: 'Diese Buchung ist storniert.',
    cancel: 'Buchung stornieren',
    cancelQuestion: 'Möchten Sie diese Buchung wirklich stornieren?',
    cancelReason: 'Grund (optional)',
    confirmCancel: 'Ja, stornieren',
    keep: 'Nein, behalten',
    reschedule: 'Termin verschieben',
    rescheduleTitle: 'Neuen Termin wählen',
    moveTo: (when) => `Die Buchung auf ${when} verschieben?`,
    confirmMove: 'Verschieben',
    rescheduled: 'Ihre Buchung wurde verschoben.',
    status: 'Status',
    actionFailed: 'Das hat nicht geklappt. Bitte versuchen Sie es noch einmal.',
  },
} satisfies MessageCatalogue<BookingMessages>;
