import { html, nothing, type PropertyDeclarations, type PropertyValues, type TemplateResult } from 'lit';
import type { components } from '@dramac/sdk';
import { DramacElement } from '../shared/dramac-element.js';
// `import '@dramac/components/booking'` alone is enough on a page: the provider comes along.
import '../shared/provider.js';
import { toLocale, type Locale } from '../shared/i18n.js';
import { applyAccent, stateStyles, themeStyles } from '../shared/theme.js';
import {
  addDays,
  addMonths,
  monthEnd,
  monthStart,
  monthWeeks,
  todayIn,
  weekBounds,
  weekdayDates,
  type FirstDayOfWeek,
} from './dates.js';
import { bookingIcs, googleCalendarUrl } from './ics.js';
import { bookingMessages, type BookingMessages } from './messages.js';
import { bookingStyles } from './styles.js';

export type BookingService = components['schemas']['BookingPublicService'];
export type BookingAvailability = components['schemas']['BookingAvailability'];
export type BookingSlot = components['schemas']['BookingSlot'];
export type Booking = components['schemas']['Booking'];
type BookingCreate = components['schemas']['BookingCreate'];
type Problem = components['schemas']['Problem'];

declare module '../shared/events.js' {
  interface DramacEventMap {
    /** A visitor booked a slot. */
    'dm-booking-created': { booking: Booking };
    /** A visitor cancelled their booking from the manage view. */
    'dm-booking-cancelled': { booking: Booking };
    /** A visitor moved their booking to another time from the manage view. */
    'dm-booking-rescheduled': { booking: Booking; previousStart: string };
  }
}

/** Zones offered in the time-zone switch, besides the visitor's own. */
export const COMMON_TIME_ZONES = [
  'UTC',
  'Europe/London',
  'Europe/Berlin',
  'Europe/Paris',
  'Europe/Madrid',
  'Europe/Athens',
  'America/New_York',
  'America/Chicago',
  'America/Denver',
  'America/Los_Angeles',
  'America/Sao_Paulo',
  'Asia/Dubai',
  'Asia/Kolkata',
  'Asia/Singapore',
  'Asia/Tokyo',
  'Australia/Sydney',
  'Pacific/Auckland',
] as const;

const MANAGE_FRAGMENT = /^#dm-booking=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/;
const WEEK_STARTS: readonly FirstDayOfWeek[] = ['monday', 'sunday', 'saturday'];

type View = 'book' | 'form' | 'done' | 'manage';
type ManageMode = 'details' | 'confirm-cancel' | 'reschedule';

/** The visitor's own time zone, as their browser reports it. */
function browserTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * `<dm-booking>` books an appointment: the visitor picks a service (unless one is preset or there is only
 * one), a day in a month calendar showing the days with free times, a time in their own time zone, fills in
 * their details and the service's questions, and gets a confirmation with an `.ics` file and a Google
 * Calendar link. Opened from the confirmation email's link (`#dm-booking=<token>` in the page's address), it
 * shows the booking and lets the visitor cancel it or move it to another free time.
 *
 * Settings (the module install's, or the `settings` property): `service_id`, `staff_id`, `accent_color`,
 * `first_day_of_week` (`monday` | `sunday` | `saturday`), `locale` (`auto` | `en` | `de`), `title`.
 *
 * @attr service - The id of the only service to offer (wins over the `service_id` setting).
 * @attr staff - The id of the only staff member to book with (wins over the `staff_id` setting).
 * @attr time-zone - The IANA time zone to show times in; the visitor's browser's by default.
 * @fires dm-load - The services arrived. `detail`: `{ count }`.
 * @fires dm-booking-created - The visitor booked. `detail`: `{ booking }`.
 * @fires dm-booking-cancelled - The visitor cancelled their booking. `detail`: `{ booking }`.
 * @fires dm-booking-rescheduled - The visitor moved their booking. `detail`: `{ booking, previousStart }`.
 * @csspart title - The heading (the `title` setting).
 * @csspart services - The list of services.
 * @csspart service - One service's button.
 * @csspart calendar - The month calendar with its navigation.
 * @csspart month-nav - The month's name and the previous / next buttons.
 * @csspart previous - The previous-month button.
 * @csspart next - The next-month button.
 * @csspart grid - The month grid (`role="grid"`).
 * @csspart day - One day of the month.
 * @csspart available - A day with free times (with `day`).
 * @csspart selected - The chosen day (with `day`).
 * @csspart today - Today (with `day`).
 * @csspart time-zone - The time-zone select.
 * @csspart staff - The staff select (services given by several people).
 * @csspart slots - The list of free times of the chosen day.
 * @csspart slot - One free time's button.
 * @csspart form - The visitor's details form, and the cancellation form.
 * @csspart field - One form field (label and input).
 * @csspart input - An input, select or textarea.
 * @csspart button - Every button.
 * @csspart primary - The main action's button (with `button`).
 * @csspart back - The buttons that go back a step.
 * @csspart submit - The button that books.
 * @csspart notice - A message about the last action (a taken slot, a failed request, a moved booking).
 * @csspart errors - The API's objections to the details form.
 * @csspart confirmation - The confirmation after booking.
 * @csspart link - A calendar link of the confirmation.
 * @csspart ics - The "Add to calendar" `.ics` download.
 * @csspart google - The Google Calendar link.
 * @csspart another - The button that starts another booking.
 * @csspart manage - The manage view of a booking.
 * @csspart cancelled - The note that the booking is cancelled.
 * @csspart reschedule - The button that starts moving the booking.
 * @csspart cancel - The button that starts cancelling the booking.
 * @csspart cancel-form - The cancellation confirmation (with `form`).
 * @csspart confirm-cancel - The button that cancels for good.
 * @csspart keep - The button that keeps the booking.
 * @csspart confirm-move - The button that moves the booking to the chosen time.
 * @cssprop --dm-booking-min-height - The height reserved while loading (default `26rem`).
 */
export class DmBooking extends DramacElement {
  static override properties: PropertyDeclarations = {
    service: {},
    staff: {},
    timeZone: { attribute: 'time-zone' },
    view: { state: true },
    chosenServiceId: { state: true },
    chosenStaffId: { state: true },
    month: { state: true },
    selectedDate: { state: true },
    focusDate: { state: true },
    selectedSlot: { state: true },
    notice: { state: true },
    formErrors: { state: true },
    submitting: { state: true },
    confirmation: { state: true },
    manageToken: { state: true },
    manageMode: { state: true },
    managed: { state: true },
    refresh: { state: true },
  };

  static override styles = [themeStyles, stateStyles, bookingStyles];

  /** The id of the only service to offer; wins over the `service_id` setting. */
  declare service: string | undefined;
  /** The id of the only staff member to book with; wins over the `staff_id` setting. */
  declare staff: string | undefined;
  /** The IANA time zone to show times in; the visitor's browser's by default. */
  declare timeZone: string | undefined;

  declare private view: View;
  declare private chosenServiceId: string | undefined;
  declare private chosenStaffId: string;
  declare private month: string | undefined;
  declare private selectedDate: string | undefined;
  declare private focusDate: string | undefined;
  declare private selectedSlot: BookingSlot | undefined;
  declare private notice: string;
  declare private formErrors: string[];
  declare private submitting: boolean;
  declare private confirmation: { booking: Booking; icsUrl: string } | undefined;
  declare private manageToken: string | undefined;
  declare private manageMode: ManageMode;
  declare private managed: Booking | undefined;
  declare private refresh: number;

  constructor() {
    super();
    this.view = 'book';
    this.chosenStaffId = '';
    this.notice = '';
    this.formErrors = [];
    this.submitting = false;
    this.manageMode = 'details';
    this.refresh = 0;
  }

  // ---- settings ----

  private setting(name: string): string | undefined {
    const value = this.connection.settings?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  /** The `locale` setting when it names one; the page's language otherwise. */
  override get locale(): Locale {
    const chosen = this.setting('locale');
    return chosen && chosen !== 'auto' ? toLocale(chosen) : super.locale;
  }

  private get text(): BookingMessages {
    return this.messages(bookingMessages);
  }

  private get zone(): string {
    const asked = this.timeZone;
    return asked && isValidTimeZone(asked) ? asked : browserTimeZone();
  }

  private get firstDay(): FirstDayOfWeek {
    const value = this.setting('first_day_of_week');
    return WEEK_STARTS.find((day) => day === value) ?? 'monday';
  }

  private get presetService(): string | undefined {
    return this.service || this.setting('service_id');
  }

  private get staffId(): string | undefined {
    if (this.view === 'manage') return this.managed?.staff_id ?? this.managedTask.value?.staff_id;
    return this.staff || this.setting('staff_id') || this.chosenStaffId || undefined;
  }

  // ---- data ----

  private readonly servicesTask = this.loadData(
    () => [this.view === 'manage'] as const,
    async ([managing], client, signal) => {
      if (managing) return [];
      const { data, error, response } = await client.GET('/v1/booking/services', { signal });
      if (!data) throw new Error(`HTTP ${response.status}${error?.code ? ` ${error.code}` : ''}`);
      this.emit('dm-load', { count: data.data.length });
      return data.data;
    },
  );

  private readonly availabilityTask = this.loadData(
    () => [this.activeServiceId(), this.staffId, this.month, this.zone, this.refresh] as const,
    async ([serviceId, staffId, month, timeZone], client, signal) => {
      if (!serviceId || !month) return undefined;
      const { data, error, response } = await client.GET('/v1/booking/availability', {
        params: {
          query: {
            service_id: serviceId,
            ...(staffId && { staff_id: staffId }),
            from: month,
            to: monthEnd(month),
            time_zone: timeZone,
          },
        },
        signal,
      });
      if (!data) throw new Error(`HTTP ${response.status}${error?.code ? ` ${error.code}` : ''}`);
      return { month, timeZone, data };
    },
  );

  private readonly managedTask = this.loadData(
    () => [this.manageToken] as const,
    async ([token], client, signal) => {
      if (!token) return undefined;
      const { data, error, response } = await client.GET('/v1/booking/manage', {
        params: { query: { token } },
        signal,
      });
      if (!data) throw new Error(`HTTP ${response.status}${error?.code ? ` ${error.code}` : ''}`);
      return data;
    },
  );

  /** The service being booked: the one being rescheduled, the preset one, the chosen one, or the only one. */
  private activeServiceId(): string | undefined {
    if (this.view === 'manage') {
      return this.manageMode === 'reschedule' ? (this.managed ?? this.managedTask.value)?.service_id : undefined;
    }
    const services = this.servicesTask.value;
    if (this.presetService) return this.presetService;
    if (this.chosenServiceId) return this.chosenServiceId;
    return services?.length === 1 ? services[0]!.id : undefined;
  }

  private activeService(): BookingService | undefined {
    const id = this.activeServiceId();
    return this.servicesTask.value?.find((service) => service.id === id);
  }

  /** The month's availability, once it is loaded for the month and zone shown. */
  private currentAvailability(): BookingAvailability | undefined {
    const value = this.availabilityTask.value;
    return value && value.month === this.month && value.timeZone === this.zone ? value.data : undefined;
  }

  private slotsOn(date: string | undefined): BookingSlot[] {
    if (!date) return [];
    return this.currentAvailability()?.days.find((day) => day.date === date)?.slots ?? [];
  }

  // ---- lifecycle ----

  private readonly onHashChange = () => this.readFragment();

  override connectedCallback(): void {
    super.connectedCallback();
    this.readFragment();
    window.addEventListener('hashchange', this.onHashChange);
  }

  override disconnectedCallback(): void {
    super.disconnectedCallback();
    window.removeEventListener('hashchange', this.onHashChange);
    this.releaseIcs();
  }

  /** `#dm-booking=<token>` in the page's address (the confirmation email's link) opens the manage view. */
  private readFragment(): void {
    const token = MANAGE_FRAGMENT.exec(window.location.hash)?.[1];
    if (!token || token === this.manageToken) return;
    // Out of the address bar once read: a copied or shared address must not carry the booking with it.
    history.replaceState(history.state, '', `${location.pathname}${location.search}`);
    this.manageToken = token;
    this.managed = undefined;
    this.manageMode = 'details';
    this.notice = '';
    this.view = 'manage';
  }

  protected override willUpdate(changed: PropertyValues<this>): void {
    if (!this.month) this.month = monthStart(todayIn(this.zone));
    if (changed.has('timeZone')) this.selectedSlot = undefined;
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    // The accent colour setting overrides the theme's primary colour.
    applyAccent(this, this.setting('accent_color'));
  }

  // ---- rendering ----

  protected override render() {
    const title = this.connection.settings?.title;
    const heading = typeof title === 'string' ? title : this.text.title;
    return html`${heading ? html`<h2 part="title">${heading}</h2>` : nothing}${this.renderView()}`;
  }

  private renderView() {
    switch (this.view) {
      case 'manage':
        return this.renderData(this.managedTask, (booking) =>
          booking ? this.renderManage(this.managed ?? booking) : nothing,
        );
      case 'done':
        return this.renderConfirmation();
      case 'form':
        return this.renderForm();
      default:
        return this.renderData(
          this.servicesTask,
          (services) => this.renderBooking(services),
          (services) => services.length === 0,
        );
    }
  }

  private renderNotice() {
    return html`<div part="notice" role="alert" tabindex="-1">${this.notice}</div>`;
  }

  private renderBooking(services: BookingService[]) {
    const serviceId = this.activeServiceId();
    if (!serviceId) return this.renderServices(services);
    const service = services.find((candidate) => candidate.id === serviceId);
    if (!service) return html`<div part="error" role="status">${this.text.serviceUnavailable}</div>`;
    const canGoBack = !this.presetService && services.length > 1;
    return html`${this.renderNotice()}
      <div class="row">
        ${
          canGoBack
            ? html`<button part="button back" type="button" @click=${this.backToServices}>${this.text.back}</button>`
            : nothing
        }
        <strong>${service.name}</strong>
        <span class="muted">${this.serviceFacts(service)}</span>
      </div>
      ${this.renderPicker(service.staff)}`;
  }

  private serviceFacts(service: BookingService): string {
    const price = service.price ? this.formatPrice(service.price) : this.text.free;
    return `${this.text.minutes(service.duration_minutes)} · ${price}`;
  }

  private renderServices(services: BookingService[]) {
    return html`<h3 id="services-heading">${this.text.chooseService}</h3>
      <ul part="services" aria-labelledby="services-heading">
        ${services.map(
          (service) =>
            html`<li>
              <button part="button service" type="button" @click=${() => this.chooseService(service.id)}>
                <strong>${service.name}</strong>
                <span class="muted">${this.serviceFacts(service)}</span>
                ${service.description ? html`<span>${service.description}</span>` : nothing}
              </button>
            </li>`,
        )}
      </ul>`;
  }

  /** The calendar, the zone (and staff) switch, and the chosen day's free times. */
  private renderPicker(staff: readonly { id: string; name: string }[] | undefined) {
    const loading = this.availabilityTask.status === 1 && !this.currentAvailability();
    const failed = this.availabilityTask.status === 3;
    return html`<div class="layout">
      <div>
        ${this.renderCalendar()}
        <p class="muted" role="status">
          ${
            loading
              ? this.text.loadingTimes
              : failed
                ? this.text.timesUnavailable
                : this.monthHasSlots()
                  ? nothing
                  : this.text.noSlotsInMonth
          }
        </p>
      </div>
      <div>
        <div class="row">${this.renderZoneSelect()} ${staff ? this.renderStaffSelect(staff) : nothing}</div>
        ${this.renderSlots()}
      </div>
    </div>`;
  }

  private monthHasSlots(): boolean {
    return this.currentAvailability()?.days.some((day) => day.slots.length > 0) ?? false;
  }

  private renderZoneSelect() {
    const zones = [...new Set([...COMMON_TIME_ZONES, browserTimeZone(), this.zone])];
    return html`<label part="field" for="time-zone"
      >${this.text.timeZone}
      <select id="time-zone" part="input time-zone" @change=${this.onZoneChange}>
        ${zones.map(
          (zone) => html`<option value=${zone} .selected=${zone === this.zone}>${this.zoneLabel(zone)}</option>`,
        )}
      </select></label
    >`;
  }

  private renderStaffSelect(staff: readonly { id: string; name: string }[]) {
    if (this.view === 'manage' || this.staff || this.setting('staff_id') || staff.length < 2) return nothing;
    return html`<label part="field" for="staff"
      >${this.text.staff}
      <select id="staff" part="input staff" @change=${this.onStaffChange}>
        <option value="" .selected=${!this.chosenStaffId}>${this.text.anyone}</option>
        ${staff.map(
          (member) =>
            html`<option value=${member.id} .selected=${member.id === this.chosenStaffId}>${member.name}</option>`,
        )}
      </select></label
    >`;
  }

  private renderCalendar() {
    const month = this.month!;
    const today = todayIn(this.zone);
    const stop = this.tabStop();
    const weekdays = weekdayDates(this.firstDay);
    const canGoBack = month > monthStart(today);
    return html`<div part="calendar">
      <div part="month-nav">
        <button
          part="button previous"
          type="button"
          aria-label=${this.text.previousMonth}
          ?disabled=${!canGoBack}
          @click=${() => this.showMonth(addMonths(month, -1))}
        >
          ‹
        </button>
        <h3 id="month-label" aria-live="polite">${this.formatMonth(month)}</h3>
        <button
          part="button next"
          type="button"
          aria-label=${this.text.nextMonth}
          @click=${() => this.showMonth(addMonths(month, 1))}
        >
          ›
        </button>
      </div>
      <table part="grid" role="grid" aria-labelledby="month-label" @keydown=${this.onGridKeydown}>
        <thead>
          <tr>
            ${weekdays.map(
              (date) =>
                html`<th scope="col">
                  <span aria-hidden="true">${this.formatDate(date, { weekday: 'short', timeZone: 'UTC' })}</span>
                  <span class="sr-only">${this.formatDate(date, { weekday: 'long', timeZone: 'UTC' })}</span>
                </th>`,
            )}
          </tr>
        </thead>
        <tbody>
          ${monthWeeks(month, this.firstDay).map(
            (week) =>
              html`<tr>
                ${week.map((date) => (date ? this.renderDay(date, today, stop) : html`<td></td>`))}
              </tr>`,
          )}
        </tbody>
      </table>
    </div>`;
  }

  private renderDay(date: string, today: string, stop: string) {
    const available = this.slotsOn(date).length > 0;
    const selected = date === this.selectedDate;
    const partNames = ['day', available && 'available', selected && 'selected', date === today && 'today'];
    const label = this.formatDate(date, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
    return html`<td
      part=${partNames.filter(Boolean).join(' ')}
      data-date=${date}
      tabindex=${date === stop ? '0' : '-1'}
      aria-selected=${selected ? 'true' : 'false'}
      aria-disabled=${available ? 'false' : 'true'}
      aria-label=${available ? label : `${label}, ${this.text.noFreeTimes}`}
      aria-current=${date === today ? 'date' : nothing}
      @click=${() => this.selectDay(date)}
    >
      ${Number(date.slice(8))}
    </td>`;
  }

  /** The one day of the grid in the tab order (roving tabindex). */
  private tabStop(): string {
    const month = this.month!;
    const inMonth = (date: string | undefined): date is string => !!date && monthStart(date) === month;
    if (inMonth(this.focusDate)) return this.focusDate;
    if (inMonth(this.selectedDate)) return this.selectedDate;
    const firstFree = this.currentAvailability()?.days.find((day) => day.slots.length > 0)?.date;
    if (inMonth(firstFree)) return firstFree;
    const today = todayIn(this.zone);
    return inMonth(today) ? today : month;
  }

  private renderSlots() {
    const date = this.selectedDate;
    const slots = this.slotsOn(date);
    if (!date || slots.length === 0) return html`<p class="muted">${this.text.pickDay}</p>`;
    const dayName = this.formatDate(date, { weekday: 'long', day: 'numeric', month: 'long', timeZone: 'UTC' });
    const group = this.view === 'manage' ? 1 : (this.activeService()?.capacity ?? 1);
    return html`<h3 id="slots-heading">${this.text.freeTimesOn(dayName)}</h3>
      <ul part="slots" aria-labelledby="slots-heading">
        ${slots.map(
          (slot) =>
            html`<li>
              <button
                part="button slot"
                type="button"
                aria-pressed=${slot.start === this.selectedSlot?.start ? 'true' : 'false'}
                @click=${() => this.chooseSlot(slot)}
              >
                ${this.formatTime(slot.start)}
                ${group > 1 ? html`<small>${this.text.seatsLeft(slot.seats_left)}</small>` : nothing}
              </button>
            </li>`,
        )}
      </ul>
      ${this.view === 'manage' && this.selectedSlot ? this.renderMoveConfirmation(this.selectedSlot) : nothing}`;
  }

  private renderForm() {
    const service = this.activeService();
    const slot = this.selectedSlot;
    if (!service || !slot) return nothing;
    const text = this.text;
    const required = html`<span class="required" aria-hidden="true"> *</span>`;
    return html`<div class="row">
        <button part="button back" type="button" @click=${this.backToSlots}>${text.change}</button>
        <span><strong>${service.name}</strong> · <span data-when>${this.formatRange(slot.start, slot.end)}</span></span>
      </div>
      ${this.renderNotice()}
      ${
        this.formErrors.length
          ? html`<div part="notice errors" role="alert">
              ${text.invalid}
              <ul>
                ${this.formErrors.map((message) => html`<li>${message}</li>`)}
              </ul>
            </div>`
          : nothing
      }
      <form part="form" aria-labelledby="form-heading" @submit=${this.onSubmit}>
        <h3 id="form-heading">${text.yourDetails}</h3>
        <label part="field" for="f-name"
          ><span>${text.name}${required}</span>
          <input part="input" id="f-name" name="name" autocomplete="name" required maxlength="120"
        /></label>
        <label part="field" for="f-email"
          ><span>${text.email}${required}</span>
          <input part="input" id="f-email" name="email" type="email" autocomplete="email" required
        /></label>
        <label part="field" for="f-phone"
          ><span>${text.phone}</span>
          <input
            part="input"
            id="f-phone"
            name="phone"
            type="tel"
            autocomplete="tel"
            minlength="3"
            maxlength="40"
            pattern="[+0-9 ()./\\-]+"
        /></label>
        ${service.questions.map((question) => this.renderQuestion(question, required))}
        <div>
          <button part="button primary submit" type="submit" ?disabled=${this.submitting}>
            ${this.submitting ? text.booking : text.book}
          </button>
        </div>
      </form>`;
  }

  private renderQuestion(question: BookingService['questions'][number], requiredMark: TemplateResult) {
    const id = `q-${question.id}`;
    const name = `answer.${question.id}`;
    const required = question.required ?? false;
    const label = html`<span>${question.label}${required ? requiredMark : nothing}</span>`;
    switch (question.type) {
      case 'checkbox':
        return html`<label part="field" class="checkbox" for=${id}
          ><input part="input" id=${id} name=${name} type="checkbox" ?required=${required} />${label}</label
        >`;
      case 'select':
        return html`<label part="field" for=${id}
          >${label}
          <select part="input" id=${id} name=${name} ?required=${required}>
            <option value="">${this.text.choose}</option>
            ${(question.options ?? []).map((option) => html`<option value=${option}>${option}</option>`)}
          </select></label
        >`;
      case 'textarea':
        return html`<label part="field" for=${id}
          >${label}<textarea
            part="input"
            id=${id}
            name=${name}
            rows="3"
            maxlength="2000"
            ?required=${required}
          ></textarea>
        </label>`;
      default: {
        const type = question.type === 'phone' ? 'tel' : question.type === 'email' ? 'email' : 'text';
        return html`<label part="field" for=${id}
          >${label}<input part="input" id=${id} name=${name} type=${type} maxlength="2000" ?required=${required}
        /></label>`;
      }
    }
  }

  private renderConfirmation() {
    const confirmation = this.confirmation;
    if (!confirmation) return nothing;
    const { booking, icsUrl } = confirmation;
    const text = this.text;
    return html`<section part="confirmation" aria-labelledby="done-heading">
      <h3 id="done-heading" tabindex="-1">${text.confirmed}</h3>
      <p>${text.confirmedText}</p>
      ${this.renderDetails(booking)}
      <div class="row">
        <a part="link ics" href=${icsUrl} download="booking.ics">${text.addToCalendar}</a>
        <a part="link google" href=${googleCalendarUrl(booking)} target="_blank" rel="noopener noreferrer"
          >${text.googleCalendar}</a
        >
      </div>
      <button part="button another" type="button" @click=${this.reset}>${text.bookAnother}</button>
    </section>`;
  }

  private renderDetails(booking: Booking) {
    const text = this.text;
    return html`<dl>
      <dt>${text.what}</dt>
      <dd data-field="service">${booking.service_name}</dd>
      <dt>${text.when}</dt>
      <dd data-field="when">${this.formatRange(booking.start, booking.end)} (${this.zoneLabel(this.zone)})</dd>
      <dt>${text.withWhom}</dt>
      <dd data-field="staff">${booking.staff_name}</dd>
    </dl>`;
  }

  private renderManage(booking: Booking) {
    const text = this.text;
    const cancelled = booking.status === 'cancelled';
    return html`<section part="manage" aria-labelledby="manage-heading">
      <h3 id="manage-heading" tabindex="-1">${text.manageTitle}</h3>
      ${this.renderNotice()} ${this.renderDetails(booking)}
      ${
        cancelled
          ? html`<p part="cancelled" data-status="cancelled">
              <strong>${text.cancelled}</strong> — ${text.cancelledText}
            </p>`
          : this.renderManageActions()
      }
    </section>`;
  }

  private renderManageActions() {
    const text = this.text;
    switch (this.manageMode) {
      case 'confirm-cancel':
        return html`<form part="form cancel-form" aria-labelledby="cancel-heading" @submit=${this.onCancel}>
          <p id="cancel-heading"><strong>${text.cancelQuestion}</strong></p>
          <label part="field" for="cancel-reason"
            >${text.cancelReason}
            <textarea part="input" id="cancel-reason" name="reason" rows="2" maxlength="500"></textarea>
          </label>
          <div class="row">
            <button part="button primary confirm-cancel" type="submit" ?disabled=${this.submitting}>
              ${text.confirmCancel}
            </button>
            <button part="button keep" type="button" @click=${() => this.setManageMode('details')}>${text.keep}</button>
          </div>
        </form>`;
      case 'reschedule':
        return html`<h3>${text.rescheduleTitle}</h3>
          <div class="row">
            <button part="button back" type="button" @click=${() => this.setManageMode('details')}>${text.back}</button>
          </div>
          ${this.renderPicker(undefined)}`;
      default:
        return html`<div class="row">
          <button part="button reschedule" type="button" @click=${() => this.setManageMode('reschedule')}>
            ${text.reschedule}
          </button>
          <button part="button cancel" type="button" @click=${() => this.setManageMode('confirm-cancel')}>
            ${text.cancel}
          </button>
        </div>`;
    }
  }

  private renderMoveConfirmation(slot: BookingSlot) {
    return html`<div class="row">
      <span>${this.text.moveTo(this.formatRange(slot.start, slot.end))}</span>
      <button part="button primary confirm-move" type="button" ?disabled=${this.submitting} @click=${this.onReschedule}>
        ${this.text.confirmMove}
      </button>
    </div>`;
  }

  // ---- formatting ----

  private formatDate(date: string, options: Intl.DateTimeFormatOptions): string {
    return new Intl.DateTimeFormat(this.locale, options).format(new Date(`${date}T12:00:00Z`));
  }

  private formatMonth(month: string): string {
    return this.formatDate(month, { month: 'long', year: 'numeric', timeZone: 'UTC' });
  }

  private formatTime(instant: string): string {
    return new Intl.DateTimeFormat(this.locale, { hour: 'numeric', minute: '2-digit', timeZone: this.zone }).format(
      new Date(instant),
    );
  }

  /** `Tuesday, 12 January 2027, 10:00 – 10:30` in the visitor's zone. */
  private formatRange(start: string, end: string): string {
    const format = new Intl.DateTimeFormat(this.locale, {
      dateStyle: 'full',
      timeStyle: 'short',
      timeZone: this.zone,
    });
    return format.formatRange(new Date(start), new Date(end));
  }

  private formatPrice(price: { amount: number; currency: string }): string {
    const format = new Intl.NumberFormat(this.locale, { style: 'currency', currency: price.currency });
    const digits = format.resolvedOptions().maximumFractionDigits ?? 2;
    return format.format(price.amount / 10 ** digits);
  }

  private zoneLabel(zone: string): string {
    const offset =
      new Intl.DateTimeFormat('en', { timeZone: zone, timeZoneName: 'shortOffset' })
        .formatToParts(new Date())
        .find((part) => part.type === 'timeZoneName')?.value ?? '';
    return `${zone.replace(/_/g, ' ')} (${offset})`;
  }

  // ---- interaction ----

  private chooseService(id: string): void {
    this.chosenServiceId = id;
    this.chosenStaffId = '';
    this.selectedDate = undefined;
    this.selectedSlot = undefined;
    this.notice = '';
  }

  private readonly backToServices = () => {
    this.chosenServiceId = undefined;
    this.selectedDate = undefined;
    this.selectedSlot = undefined;
    this.notice = '';
  };

  private readonly backToSlots = () => {
    this.view = 'book';
    this.formErrors = [];
    void this.focusAfterUpdate('[part~="slot"][aria-pressed="true"], [part~="day"][tabindex="0"]');
  };

  private showMonth(month: string): void {
    this.month = monthStart(month);
    this.focusDate = undefined;
  }

  private readonly onZoneChange = (event: Event) => {
    this.timeZone = (event.target as HTMLSelectElement).value;
    this.selectedSlot = undefined;
  };

  private readonly onStaffChange = (event: Event) => {
    this.chosenStaffId = (event.target as HTMLSelectElement).value;
    this.selectedSlot = undefined;
  };

  private selectDay(date: string): void {
    this.focusDate = date;
    if (this.slotsOn(date).length === 0) return;
    this.selectedDate = date;
    this.selectedSlot = undefined;
  }

  private readonly onGridKeydown = (event: KeyboardEvent) => {
    const from = this.tabStop();
    const [weekStart, weekEnd] = weekBounds(from, this.firstDay);
    const moves: Record<string, () => string> = {
      ArrowLeft: () => addDays(from, -1),
      ArrowRight: () => addDays(from, 1),
      ArrowUp: () => addDays(from, -7),
      ArrowDown: () => addDays(from, 7),
      Home: () => weekStart,
      End: () => weekEnd,
      PageUp: () => addMonths(from, event.shiftKey ? -12 : -1),
      PageDown: () => addMonths(from, event.shiftKey ? 12 : 1),
    };
    const move = moves[event.key];
    if (move) {
      event.preventDefault();
      let next = move();
      const first = monthStart(todayIn(this.zone));
      if (next < first) next = first; // nothing to book in the past
      this.focusDate = next;
      if (monthStart(next) !== this.month) this.month = monthStart(next);
      void this.focusAfterUpdate(`[part~="day"][data-date="${next}"]`);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.selectDay(from);
    }
  };

  private chooseSlot(slot: BookingSlot): void {
    this.selectedSlot = slot;
    this.notice = '';
    if (this.view === 'manage') return;
    this.view = 'form';
    this.formErrors = [];
    void this.focusAfterUpdate('#f-name');
  }

  private setManageMode(mode: ManageMode): void {
    this.manageMode = mode;
    this.notice = '';
    this.selectedDate = undefined;
    this.selectedSlot = undefined;
    if (mode === 'reschedule') this.showMonth(monthStart(todayIn(this.zone)));
  }

  private async focusAfterUpdate(selector: string): Promise<void> {
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(selector)?.focus();
  }

  /** After a slot was taken: back to the day's free times, freshly loaded, with a message. */
  private slotGone(message: string): void {
    this.notice = message;
    this.selectedSlot = undefined;
    this.refresh++;
    if (this.view === 'form') this.view = 'book';
    void this.focusAfterUpdate('[part~="notice"]');
  }

  private readonly onSubmit = async (event: SubmitEvent) => {
    event.preventDefault();
    const form = event.currentTarget as HTMLFormElement;
    const service = this.activeService();
    const slot = this.selectedSlot;
    const client = this.client;
    if (!service || !slot || !client || this.submitting) return;
    const values = new FormData(form);
    const field = (name: string) => String(values.get(name) ?? '').trim();
    const answers: Record<string, string | boolean> = {};
    for (const question of service.questions) {
      const name = `answer.${question.id}`;
      if (question.type === 'checkbox') answers[question.id] = values.has(name);
      else if (field(name)) answers[question.id] = field(name);
    }
    const staffId = this.staffId;
    const body: BookingCreate = {
      service_id: service.id,
      ...(staffId && { staff_id: staffId }),
      start: slot.start,
      time_zone: this.zone,
      seats: 1,
      name: field('name'),
      email: field('email'),
      ...(field('phone') && { phone: field('phone') }),
      answers,
      page_url: window.location.href.split('#')[0]!,
    };
    this.submitting = true;
    this.notice = '';
    this.formErrors = [];
    try {
      const { data, error, response } = await client.POST('/v1/booking/bookings', { body });
      if (data) {
        this.releaseIcs();
        const ics = bookingIcs(data.booking);
        const icsUrl = URL.createObjectURL(new Blob([ics], { type: 'text/calendar;charset=utf-8' }));
        this.confirmation = { booking: data.booking, icsUrl };
        this.view = 'done';
        this.emit('dm-booking-created', { booking: data.booking });
        void this.focusAfterUpdate('#done-heading');
      } else {
        this.handleProblem(response.status, error);
      }
    } catch {
      this.notice = this.text.failed;
    } finally {
      this.submitting = false;
    }
  };

  private handleProblem(status: number, problem: Problem | undefined): void {
    if (problem?.code === 'slot_taken' || status === 409) this.slotGone(this.text.slotTaken);
    else if (problem?.code === 'slot_unavailable') this.slotGone(this.text.slotUnavailable);
    else if (problem?.errors?.length) this.formErrors = problem.errors.map((entry) => entry.message);
    else this.notice = this.text.failed;
  }

  private readonly onCancel = async (event: SubmitEvent) => {
    event.preventDefault();
    const token = this.manageToken;
    const client = this.client;
    if (!token || !client || this.submitting) return;
    const reason = String(new FormData(event.currentTarget as HTMLFormElement).get('reason') ?? '').trim();
    await this.manageAction(async () => {
      const { data } = await client.POST('/v1/booking/manage/cancel', {
        params: { query: { token } },
        body: reason ? { reason } : {},
      });
      if (!data) return false;
      this.managed = data;
      this.manageMode = 'details';
      this.emit('dm-booking-cancelled', { booking: data });
      return true;
    });
  };

  private readonly onReschedule = async () => {
    const token = this.manageToken;
    const client = this.client;
    const slot = this.selectedSlot;
    const previous = this.managed ?? this.managedTask.value;
    if (!token || !client || !slot || !previous || this.submitting) return;
    await this.manageAction(async () => {
      const { data, error } = await client.POST('/v1/booking/manage/reschedule', {
        params: { query: { token } },
        body: { start: slot.start },
      });
      if (!data) {
        if (error?.code === 'slot_taken' || error?.code === 'slot_unavailable') {
          this.slotGone(error.code === 'slot_taken' ? this.text.slotTaken : this.text.slotUnavailable);
          return true;
        }
        return false;
      }
      this.managed = data;
      this.manageMode = 'details';
      this.selectedSlot = undefined;
      this.notice = this.text.rescheduled;
      this.emit('dm-booking-rescheduled', { booking: data, previousStart: previous.start });
      return true;
    });
  };

  private async manageAction(action: () => Promise<boolean>): Promise<void> {
    this.submitting = true;
    this.notice = '';
    try {
      if (!(await action())) this.notice = this.text.actionFailed;
    } catch {
      this.notice = this.text.actionFailed;
    } finally {
      this.submitting = false;
    }
    void this.focusAfterUpdate('#manage-heading');
  }

  private readonly reset = () => {
    this.releaseIcs();
    this.confirmation = undefined;
    this.selectedDate = undefined;
    this.selectedSlot = undefined;
    this.chosenServiceId = undefined;
    this.notice = '';
    this.view = 'book';
    this.refresh++;
  };

  private releaseIcs(): void {
    if (this.confirmation) URL.revokeObjectURL(this.confirmation.icsUrl);
  }
}

// Safe to import twice, and under a server runtime without a registry (see provider.ts).
if (globalThis.customElements && !customElements.get('dm-booking')) {
  customElements.define('dm-booking', DmBooking);
}

declare global {
  interface HTMLElementTagNameMap {
    'dm-booking': DmBooking;
  }
}
