import { fixture, fixtureCleanup, html, oneEvent } from '@open-wc/testing';
import { nothing } from 'lit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { userEvent } from 'vitest/browser';
import '../src/index.js';
import type { DmBooking } from '../src/index.js';
import {
  bookingResponder,
  fixtureApiBase,
  fixtureKey,
  fixtureToken,
  introCall,
  managedBooking,
  staffIds,
  workshop,
  type BookingPublicService,
  type BookingScenario,
} from '../src/booking/fixtures.js';
import { bookingIcs, googleCalendarUrl } from '../src/booking/ics.js';
import * as stories from '../src/booking/booking.stories.js';
import { expectAccessible, fakeApi, part, parts, untilPart, itRendersEveryStory } from './support.js';

// Monday 11 January 2027, 09:00 UTC: free slots fall on Tuesdays and Thursdays at 09:00 and 15:00 UTC.
const NOW = new Date('2027-01-11T09:00:00Z');

interface Options {
  service?: string;
  staff?: string;
  timeZone?: string;
  settings?: Record<string, unknown>;
  lang?: string;
  theme?: 'light' | 'dark';
}

async function bookingOf(scenario: BookingScenario = {}, options: Options = {}) {
  const api = fakeApi(bookingResponder(scenario));
  const element = await fixture<DmBooking>(
    html`<dm-booking
      api-base=${fixtureApiBase}
      key=${fixtureKey}
      service=${options.service ?? nothing}
      staff=${options.staff ?? nothing}
      time-zone=${options.timeZone ?? 'UTC'}
      lang=${options.lang ?? nothing}
      theme=${options.theme ?? nothing}
      .settings=${options.settings}
      .fetch=${api.fetch}
    ></dm-booking>`,
  );
  return { element, api };
}

const oneService: BookingScenario = { services: [introCall] };

const text = (node: Element | null | undefined) => node?.textContent?.replace(/\s+/g, ' ').trim() ?? '';
const day = (element: DmBooking, date: string) =>
  element.shadowRoot!.querySelector<HTMLElement>(`[data-date="${date}"]`)!;
const focused = (element: DmBooking) => (element.shadowRoot!.activeElement as HTMLElement | null)?.dataset.date;
const requestsTo = (requests: Request[], path: string) =>
  requests.filter((request) => new URL(request.url).pathname === path);
const availabilityRequests = (requests: Request[]) =>
  requestsTo(requests, '/v1/booking/availability').map((request) => new URL(request.url).searchParams);

async function untilAvailable(element: DmBooking, date: string): Promise<HTMLElement> {
  await vi.waitFor(() => expect(day(element, date)?.getAttribute('aria-disabled')).toBe('false'));
  return day(element, date);
}

async function pickDayAndSlot(element: DmBooking, date: string, time: string): Promise<void> {
  (await untilAvailable(element, date)).click();
  await element.updateComplete;
  const slot = parts(element, 'slot').find((button) => text(button).includes(time));
  expect(slot, `a ${time} slot on ${date}`).toBeDefined();
  slot!.click();
  await untilPart(element, 'form');
}

function input(element: DmBooking, id: string) {
  return element.shadowRoot!.getElementById(id) as HTMLInputElement;
}

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(NOW);
});

afterEach(() => {
  fixtureCleanup();
  vi.useRealTimers();
  vi.restoreAllMocks();
  history.replaceState(null, '', location.pathname + location.search);
});

describe('<dm-booking> states', () => {
  it('shows a loading state with reserved height while the services load', async () => {
    const { element } = await bookingOf({ pending: 'services' });
    const loading = await untilPart(element, 'loading');
    expect(loading.getAttribute('role')).toBe('status');
    expect(text(loading)).toBe('Loading…');
    expect(parseFloat(getComputedStyle(element).minHeight)).toBeGreaterThanOrEqual(300);
    await expectAccessible(element);
  });

  it('falls back quietly when the services cannot be loaded', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const { element } = await bookingOf({ fail: 'services' });
    const error = await untilPart(element, 'error');
    expect(text(error)).toBe('This content is not available right now.');
    expect(warn).toHaveBeenCalledTimes(1);
    await expectAccessible(element);
  });

  it('lets the visitor pick a service when there are several', async () => {
    const { element, api } = await bookingOf();
    await untilPart(element, 'services');
    const services = parts(element, 'service');
    expect(services.map((service) => service.querySelector('strong')?.textContent)).toEqual([
      'Intro call',
      'Strategy workshop',
    ]);
    expect(text(services[0])).toContain('30 min · Free');
    expect(text(services[1])).toContain('120 min · €490.00');
    expect(availabilityRequests(api.requests)).toHaveLength(0);
    expect(text(part(element, 'title'))).toBe('Book an appointment');
    await expectAccessible(element);

    services[1]!.click();
    await untilPart(element, 'grid');
    await vi.waitFor(() => expect(availabilityRequests(api.requests)).toHaveLength(1));
    expect(availabilityRequests(api.requests)[0]!.get('service_id')).toBe(workshop.id);
  });

  it('skips the picker for a single service and shows the month with its free days', async () => {
    const { element, api } = await bookingOf(oneService);
    const grid = await untilPart(element, 'grid');
    await untilAvailable(element, '2027-01-12');

    expect(part(element, 'services')).toBeNull();
    expect(grid.getAttribute('role')).toBe('grid');
    expect(text(element.shadowRoot!.getElementById(grid.getAttribute('aria-labelledby')!))).toBe('January 2027');
    const free = parts(element, 'available').map((cell) => cell.dataset.date);
    expect(free).toEqual(['2027-01-12', '2027-01-14', '2027-01-19', '2027-01-21', '2027-01-26', '2027-01-28']);
    expect(day(element, '2027-01-13').getAttribute('aria-disabled')).toBe('true');
    expect(day(element, '2027-01-13').getAttribute('aria-label')).toBe('Wednesday, January 13, no free times');
    expect(parts(element, 'day').filter((cell) => cell.tabIndex === 0)).toEqual([day(element, '2027-01-12')]);
    // Weeks start on Monday by default: 1 January 2027 was a Friday, the fifth column.
    expect(text(grid.querySelector('th'))).toContain('Monday');
    expect([...grid.querySelectorAll('tbody tr')[0]!.children].indexOf(day(element, '2027-01-01'))).toBe(4);

    const query = availabilityRequests(api.requests)[0]!;
    expect(Object.fromEntries(query)).toEqual({
      service_id: introCall.id,
      from: '2027-01-01',
      to: '2027-01-31',
      time_zone: 'UTC',
      key: fixtureKey,
    });
    await expectAccessible(element);
  });

  it('starts the weeks on the day the settings say', async () => {
    const { element } = await bookingOf(oneService, { settings: { first_day_of_week: 'sunday' } });
    const grid = await untilPart(element, 'grid');
    expect(text(grid.querySelector('th'))).toContain('Sunday');
    expect([...grid.querySelectorAll('tbody tr')[0]!.children].indexOf(day(element, '2027-01-01'))).toBe(5);
  });

  it('says so when a month has no free times', async () => {
    const { element, api } = await bookingOf({ ...oneService, noSlots: true });
    await untilPart(element, 'grid');
    await vi.waitFor(() => expect(text(element.shadowRoot!.querySelector('.layout'))).toContain('No free times'));
    expect(parts(element, 'available')).toHaveLength(0);
    expect(parts(element, 'day').every((cell) => cell.getAttribute('aria-disabled') === 'true')).toBe(true);
    await expectAccessible(element);

    part(element, 'next')!.click();
    await vi.waitFor(() => expect(availabilityRequests(api.requests).at(-1)!.get('from')).toBe('2027-02-01'));
    expect(part(element, 'previous')!.hasAttribute('disabled')).toBe(false);
  });

  it('takes the service and staff from attributes over the settings', async () => {
    const { element, api } = await bookingOf(
      {},
      { service: workshop.id, staff: staffIds.grace, settings: { service_id: introCall.id, staff_id: staffIds.ada } },
    );
    await untilPart(element, 'grid');
    await vi.waitFor(() => expect(availabilityRequests(api.requests)).toHaveLength(1));
    expect(availabilityRequests(api.requests)[0]!.get('service_id')).toBe(workshop.id);
    expect(availabilityRequests(api.requests)[0]!.get('staff_id')).toBe(staffIds.grace);
    expect(part(element, 'services')).toBeNull();
  });

  it('speaks German when the settings or the page say so', async () => {
    const { element } = await bookingOf(oneService, { settings: { locale: 'de' } });
    await untilPart(element, 'grid');
    expect(text(part(element, 'title'))).toBe('Termin buchen');
    expect(text(element.shadowRoot!.getElementById('month-label'))).toBe('Januar 2027');
    expect((part(element, 'time-zone') as HTMLSelectElement).labels[0]!.textContent).toContain('Zeitzone');
    await expectAccessible(element);

    const { element: byLang } = await bookingOf(oneService, { lang: 'de' });
    await untilPart(byLang, 'grid');
    expect(text(part(byLang, 'title'))).toBe('Termin buchen');
  });

  it('is themeable: dark mode passes the accessibility check and accent_color sets the primary colour', async () => {
    const { element } = await bookingOf(oneService, { theme: 'dark', settings: { accent_color: '#aa0000' } });
    (await untilAvailable(element, '2027-01-12')).click();
    await element.updateComplete;
    expect(getComputedStyle(day(element, '2027-01-12')).backgroundColor).toBe('rgb(170, 0, 0)');
    expect(getComputedStyle(element).backgroundColor).toBe('rgb(22, 24, 29)');

    element.settings = { accent_color: 'red; background: url(x)' };
    await element.updateComplete;
    expect(element.style.getPropertyValue('--_dm-primary')).toBe('');
    await expectAccessible(element);
  });

  it('hides the heading when the title setting is empty and shows a custom one as text', async () => {
    const { element } = await bookingOf(oneService, { settings: { title: '' } });
    await untilPart(element, 'grid');
    expect(part(element, 'title')).toBeNull();
    element.settings = { title: '<i>Book with us</i>' };
    await element.updateComplete;
    expect(part(element, 'title')!.textContent).toBe('<i>Book with us</i>');
  });
});

describe('<dm-booking> booking', () => {
  it('sends exactly the chosen service, slot, details and answers, then confirms', async () => {
    const { element, api } = await bookingOf();
    await untilPart(element, 'services');
    parts(element, 'service')[0]!.click();
    await pickDayAndSlot(element, '2027-01-12', '3:00 PM');

    expect(element.shadowRoot!.activeElement).toBe(input(element, 'f-name'));
    expect(input(element, 'f-name').required).toBe(true);
    expect(input(element, 'q-company').required).toBe(true);
    expect(input(element, 'q-company').labels![0]!.textContent).toContain('Company');
    await expectAccessible(element);

    await userEvent.fill(input(element, 'f-name'), 'Margaret Hamilton');
    await userEvent.fill(input(element, 'f-email'), 'margaret@example.com');
    await userEvent.fill(input(element, 'f-phone'), '+49 30 1234567');
    await userEvent.fill(input(element, 'q-company'), 'Apollo');
    await userEvent.selectOptions(input(element, 'q-topic'), 'Shop');
    await userEvent.click(input(element, 'q-newsletter'));

    const created = oneEvent(element, 'dm-booking-created');
    await userEvent.click(part(element, 'submit')!);
    const event = await created;

    const posts = requestsTo(api.requests, '/v1/booking/bookings');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.method).toBe('POST');
    expect(new URL(posts[0]!.url).searchParams.get('key')).toBe(fixtureKey);
    expect(await posts[0]!.clone().json()).toEqual({
      service_id: introCall.id,
      start: '2027-01-12T15:00:00+00:00',
      time_zone: 'UTC',
      seats: 1,
      name: 'Margaret Hamilton',
      email: 'margaret@example.com',
      phone: '+49 30 1234567',
      answers: { company: 'Apollo', topic: 'Shop', newsletter: true },
      page_url: location.href.split('#')[0],
    });
    expect(event.detail.booking.service_name).toBe('Intro call');

    const confirmation = await untilPart(element, 'confirmation');
    expect(text(confirmation.querySelector('[data-field="service"]'))).toBe('Intro call');
    expect(text(confirmation.querySelector('[data-field="staff"]'))).toBe('Ada Lovelace');
    expect(text(confirmation.querySelector('[data-field="when"]'))).toMatch(/Tuesday, January 12, 2027.*3:00.*3:30/);
    const ics = await (await fetch(part(element, 'ics')!.getAttribute('href')!)).text();
    expect(ics).toMatch(/^BEGIN:VCALENDAR\r\n/);
    expect(ics).toContain('\r\nDTSTART:20270112T150000Z\r\nDTEND:20270112T153000Z\r\n');
    const google = new URL(part(element, 'google')!.getAttribute('href')!);
    expect(google.searchParams.get('dates')).toBe('20270112T150000Z/20270112T153000Z');
    await expectAccessible(element);
  });

  it('leaves out the empty optional fields', async () => {
    const { element, api } = await bookingOf(oneService, { settings: { staff_id: staffIds.ada } });
    await pickDayAndSlot(element, '2027-01-14', '9:00 AM');
    await userEvent.fill(input(element, 'f-name'), 'Ada');
    await userEvent.fill(input(element, 'f-email'), 'ada@example.com');
    await userEvent.fill(input(element, 'q-company'), 'Engines');
    await userEvent.click(part(element, 'submit')!);
    await untilPart(element, 'confirmation');
    const body = await requestsTo(api.requests, '/v1/booking/bookings')[0]!.clone().json();
    expect(body).toEqual({
      service_id: introCall.id,
      staff_id: staffIds.ada,
      start: '2027-01-14T09:00:00+00:00',
      time_zone: 'UTC',
      seats: 1,
      name: 'Ada',
      email: 'ada@example.com',
      answers: { company: 'Engines', newsletter: false },
      page_url: location.href.split('#')[0],
    });
  });

  it('does not send a form the browser finds invalid', async () => {
    const { element, api } = await bookingOf(oneService);
    await pickDayAndSlot(element, '2027-01-12', '9:00 AM');
    await userEvent.fill(input(element, 'f-name'), 'Ada');
    await userEvent.fill(input(element, 'f-email'), 'not-an-email');
    await userEvent.click(part(element, 'submit')!);
    expect(input(element, 'f-email').validity.typeMismatch).toBe(true);
    expect(input(element, 'q-company').validity.valueMissing).toBe(true);
    expect(requestsTo(api.requests, '/v1/booking/bookings')).toHaveLength(0);
  });

  it('shows a clear message and the refreshed times when someone took the slot first', async () => {
    const { element, api } = await bookingOf({ ...oneService, book: 'slot_taken' });
    await pickDayAndSlot(element, '2027-01-12', '3:00 PM');
    const before = availabilityRequests(api.requests).length;
    await userEvent.fill(input(element, 'f-name'), 'Ada');
    await userEvent.fill(input(element, 'f-email'), 'ada@example.com');
    await userEvent.fill(input(element, 'q-company'), 'Engines');
    await userEvent.click(part(element, 'submit')!);

    // Looked up on each try: the form's own (empty) notice is there until the answer comes.
    await vi.waitFor(() =>
      expect(text(part(element, 'notice')!)).toBe('Sorry, someone has just booked this time. Please pick another one.'),
    );
    const notice = part(element, 'notice')!;
    expect(notice.getAttribute('role')).toBe('alert');
    expect(element.shadowRoot!.activeElement).toBe(notice);
    expect(part(element, 'form')).toBeNull();
    await vi.waitFor(() => expect(availabilityRequests(api.requests).length).toBe(before + 1));
    await vi.waitFor(() => expect(parts(element, 'slot')).toHaveLength(2));
    expect(parts(element, 'slot').every((slot) => slot.getAttribute('aria-pressed') === 'false')).toBe(true);
    await expectAccessible(element);
  });

  it('lists the API’s validation errors', async () => {
    const { element } = await bookingOf({ ...oneService, book: 'validation_failed' });
    await pickDayAndSlot(element, '2027-01-12', '3:00 PM');
    await userEvent.fill(input(element, 'f-name'), 'Ada');
    await userEvent.fill(input(element, 'f-email'), 'ada@example.com');
    await userEvent.fill(input(element, 'q-company'), 'Engines');
    await userEvent.click(part(element, 'submit')!);
    const errors = await untilPart(element, 'errors');
    expect(text(errors)).toContain('must match format "email"');
    expect(part(element, 'form')).not.toBeNull();
  });
});

describe('<dm-booking> calendar keyboard', () => {
  it('moves the focus with arrows, Home/End and PageUp/PageDown, and selects only free days', async () => {
    const { element, api } = await bookingOf(oneService);
    const stop = await untilAvailable(element, '2027-01-12');
    stop.focus();
    expect(focused(element)).toBe('2027-01-12');

    await userEvent.keyboard('{ArrowRight}');
    expect(focused(element)).toBe('2027-01-13');
    expect(parts(element, 'day').filter((cell) => cell.tabIndex === 0)).toEqual([day(element, '2027-01-13')]);
    await userEvent.keyboard('{Enter}');
    expect(part(element, 'slots')).toBeNull(); // a day without free times cannot be chosen
    expect(day(element, '2027-01-13').getAttribute('aria-selected')).toBe('false');

    await userEvent.keyboard('{Home}');
    expect(focused(element)).toBe('2027-01-11');
    await userEvent.keyboard('{End}');
    expect(focused(element)).toBe('2027-01-17');
    await userEvent.keyboard('{ArrowUp}{ArrowLeft}{ArrowLeft}');
    expect(focused(element)).toBe('2027-01-08');
    await userEvent.keyboard('{ArrowDown}{ArrowRight}{ArrowRight}{ArrowRight}{ArrowRight}{ArrowRight}');
    expect(focused(element)).toBe('2027-01-20');
    await userEvent.keyboard('{ArrowLeft}');
    await userEvent.keyboard(' ');
    expect(day(element, '2027-01-19').getAttribute('aria-selected')).toBe('true');
    expect(part(element, 'slots')).not.toBeNull();

    // Across weeks into the next month: the grid turns the page and loads its free days.
    await userEvent.keyboard('{ArrowDown}{ArrowDown}');
    expect(focused(element)).toBe('2027-02-02');
    expect(text(element.shadowRoot!.getElementById('month-label'))).toBe('February 2027');
    await vi.waitFor(() => expect(availabilityRequests(api.requests).at(-1)!.get('from')).toBe('2027-02-01'));
    await untilAvailable(element, '2027-02-04');

    await userEvent.keyboard('{PageDown}');
    expect(focused(element)).toBe('2027-03-02');
    await userEvent.keyboard('{PageUp}{PageUp}');
    expect(focused(element)).toBe('2027-01-02');
    await userEvent.keyboard('{ArrowUp}');
    expect(focused(element)).toBe('2027-01-01'); // never into the past
    await userEvent.keyboard('{ArrowDown}{ArrowDown}{ArrowRight}{ArrowRight}{ArrowRight}{ArrowRight}{Enter}');
    expect(focused(element)).toBe('2027-01-19');
    expect(day(element, '2027-01-19').getAttribute('aria-selected')).toBe('true');
  });

  it('puts the month’s name in a live region and the grid in the tab order once', async () => {
    const { element } = await bookingOf(oneService);
    await untilAvailable(element, '2027-01-12');
    const label = element.shadowRoot!.getElementById('month-label')!;
    expect(label.getAttribute('aria-live')).toBe('polite');
    part(element, 'next')!.click();
    await element.updateComplete;
    expect(text(label)).toBe('February 2027');
    expect(parts(element, 'day').filter((cell) => cell.tabIndex === 0)).toHaveLength(1);
  });
});

describe('<dm-booking> time zones', () => {
  it('asks again in the new zone and shows the times there', async () => {
    const { element, api } = await bookingOf(oneService);
    (await untilAvailable(element, '2027-01-12')).click();
    await element.updateComplete;
    expect(parts(element, 'slot').map(text)).toEqual(['9:00 AM', '3:00 PM']);

    await userEvent.selectOptions(part(element, 'time-zone')!, 'America/New_York');
    await vi.waitFor(() =>
      expect(availabilityRequests(api.requests).at(-1)!.get('time_zone')).toBe('America/New_York'),
    );
    await vi.waitFor(() => expect(parts(element, 'slot').map(text)).toEqual(['4:00 AM', '10:00 AM']));
    expect((part(element, 'time-zone') as HTMLSelectElement).value).toBe('America/New_York');
  });

  it('offers the visitor’s own zone among the common ones', async () => {
    const { element } = await bookingOf(oneService, { timeZone: 'Asia/Kathmandu' });
    const select = (await untilPart(element, 'time-zone')) as HTMLSelectElement;
    expect(select.value).toBe('Asia/Kathmandu');
    const options = [...select.options].map((option) => option.value);
    expect(options).toContain('Europe/Berlin');
    expect(options).toContain(Intl.DateTimeFormat().resolvedOptions().timeZone);
  });
});

describe('<dm-booking> manage view', () => {
  beforeEach(() => history.replaceState(null, '', `#dm-booking=${fixtureToken}`));

  it('opens from the #dm-booking= fragment and cancels after a confirmation', async () => {
    const { element, api } = await bookingOf({}, { timeZone: 'Europe/Berlin' });
    const manage = await untilPart(element, 'manage');
    const get = requestsTo(api.requests, '/v1/booking/manage')[0]!;
    expect(new URL(get.url).searchParams.get('token')).toBe(fixtureToken);
    expect(text(manage.querySelector('[data-field="service"]'))).toBe('Intro call');
    expect(text(manage.querySelector('[data-field="staff"]'))).toBe('Ada Lovelace');
    expect(text(manage.querySelector('[data-field="when"]'))).toMatch(/January 14, 2027.*4:00.*4:30 PM/);
    expect(requestsTo(api.requests, '/v1/booking/services')).toHaveLength(0);
    await expectAccessible(element);

    part(element, 'cancel')!.click();
    await untilPart(element, 'cancel-form');
    expect(requestsTo(api.requests, '/v1/booking/manage/cancel')).toHaveLength(0);
    await userEvent.fill(element.shadowRoot!.getElementById('cancel-reason')!, 'Ill');
    const cancelled = oneEvent(element, 'dm-booking-cancelled');
    await userEvent.click(part(element, 'confirm-cancel')!);
    expect((await cancelled).detail.booking.status).toBe('cancelled');

    const [post] = requestsTo(api.requests, '/v1/booking/manage/cancel');
    expect(post!.method).toBe('POST');
    expect(new URL(post!.url).searchParams.get('token')).toBe(fixtureToken);
    expect(await post!.clone().json()).toEqual({ reason: 'Ill' });
    expect(text(await untilPart(element, 'cancelled'))).toContain('Cancelled');
    expect(part(element, 'cancel')).toBeNull();
    await expectAccessible(element);
  });

  it('keeps the booking when the visitor changes their mind', async () => {
    const { element, api } = await bookingOf();
    await untilPart(element, 'manage');
    part(element, 'cancel')!.click();
    await untilPart(element, 'keep');
    part(element, 'keep')!.click();
    await element.updateComplete;
    expect(part(element, 'cancel-form')).toBeNull();
    expect(requestsTo(api.requests, '/v1/booking/manage/cancel')).toHaveLength(0);
  });

  it('reschedules to another free time of the same service', async () => {
    const { element, api } = await bookingOf();
    await untilPart(element, 'manage');
    part(element, 'reschedule')!.click();
    (await untilAvailable(element, '2027-01-19')).click();
    await element.updateComplete;
    parts(element, 'slot')[1]!.click();
    await untilPart(element, 'confirm-move');
    const query = availabilityRequests(api.requests).at(-1)!;
    expect(query.get('service_id')).toBe(managedBooking.service_id);
    expect(query.get('staff_id')).toBe(managedBooking.staff_id);

    const moved = oneEvent(element, 'dm-booking-rescheduled');
    part(element, 'confirm-move')!.click();
    const event = await moved;
    expect(event.detail.previousStart).toBe(managedBooking.start);
    const [post] = requestsTo(api.requests, '/v1/booking/manage/reschedule');
    expect(await post!.clone().json()).toEqual({ start: '2027-01-19T15:00:00+00:00' });
    await vi.waitFor(() => expect(text(part(element, 'notice'))).toBe('Your booking has been moved.'));
    expect(text(part(element, 'manage')!.querySelector('[data-field="when"]'))).toContain('January 19, 2027');
  });

  it('ignores a fragment that is not a token', async () => {
    history.replaceState(null, '', '#dm-booking=<script>');
    const { element, api } = await bookingOf(oneService);
    await untilPart(element, 'grid');
    expect(part(element, 'manage')).toBeNull();
    expect(requestsTo(api.requests, '/v1/booking/manage')).toHaveLength(0);
  });
});

describe('<dm-booking> safety', () => {
  it('shows markup from the API as text, never as elements', async () => {
    const attack = '<img src=x onerror="window.__dmPwned = true">';
    const hostile: BookingPublicService = {
      ...introCall,
      name: attack,
      description: '<b>bold</b>',
      questions: [{ id: 'company', label: '<script>window.__dmPwned = true</script>', type: 'text', required: true }],
    };
    const { element } = await bookingOf({ services: [hostile, workshop] });
    await untilPart(element, 'services');
    const service = parts(element, 'service')[0]!;
    expect(service.querySelector('img, b')).toBeNull();
    expect(service.textContent).toContain(attack);
    expect(service.textContent).toContain('<b>bold</b>');

    service.click();
    await pickDayAndSlot(element, '2027-01-12', '9:00 AM');
    const label = input(element, 'q-company').labels![0]!;
    expect(label.querySelector('script')).toBeNull();
    expect(label.textContent).toContain('<script>window.__dmPwned = true</script>');
    expect(element.shadowRoot!.querySelector('img, script')).toBeNull();
    expect((window as { __dmPwned?: boolean }).__dmPwned).toBeUndefined();
  });
});

describe('booking calendar files', () => {
  it('builds a valid iCalendar event in UTC with CRLF line endings', () => {
    const ics = bookingIcs(
      { ...managedBooking, service_name: 'Intro call; with, commas\nand lines' },
      { now: new Date('2026-12-01T10:00:00Z') },
    );
    const lines = ics.split('\r\n');
    expect(ics.endsWith('\r\n')).toBe(true);
    expect(ics.replace(/\r\n/g, '')).not.toMatch(/[\r\n]/);
    expect(lines.slice(0, 2)).toEqual(['BEGIN:VCALENDAR', 'VERSION:2.0']);
    expect(lines).toEqual(
      expect.arrayContaining([
        'BEGIN:VEVENT',
        `UID:${managedBooking.id}@booking.dramac`,
        'DTSTAMP:20261201T100000Z',
        'DTSTART:20270114T150000Z',
        'DTEND:20270114T153000Z',
        'SUMMARY:Intro call\\; with\\, commas\\nand lines',
        'END:VEVENT',
      ]),
    );
    expect(lines.at(-2)).toBe('END:VCALENDAR');
    expect(lines.every((line) => new TextEncoder().encode(line).length <= 75)).toBe(true);
  });

  it('folds long lines at 75 octets', () => {
    const ics = bookingIcs({ ...managedBooking, service_name: 'Ä'.repeat(60) });
    const summary = ics.split('\r\n').findIndex((line) => line.startsWith('SUMMARY:'));
    const lines = ics.split('\r\n');
    expect(lines[summary + 1]!.startsWith(' ')).toBe(true);
    expect(lines.every((line) => new TextEncoder().encode(line).length <= 75)).toBe(true);
    const unfolded = ics.replace(/\r\n /g, '');
    expect(unfolded).toContain(`SUMMARY:${'Ä'.repeat(60)}\r\n`);
  });

  it('links Google Calendar with the times in UTC', () => {
    const url = new URL(googleCalendarUrl(managedBooking));
    expect(url.origin + url.pathname).toBe('https://calendar.google.com/calendar/render');
    expect(url.searchParams.get('action')).toBe('TEMPLATE');
    expect(url.searchParams.get('text')).toBe('Intro call');
    expect(url.searchParams.get('dates')).toBe('20270114T150000Z/20270114T153000Z');
  });
});

describe('<dm-booking> stories', () => {
  // What each story shows once rendered (and played).
  itRendersEveryStory('dm-booking', stories, {
    Loading: 'loading',
    LoadingFreeTimes: 'grid',
    ErrorState: 'error',
    ServicePicker: 'services',
    CalendarWithSlots: 'available',
    NoSlots: 'grid',
    Form: 'form',
    SlotTaken: 'notice',
    Confirmation: 'confirmation',
    Manage: 'manage',
    Cancelled: 'cancelled',
    Light: 'available',
    Dark: 'available',
    English: 'services',
    German: 'services',
    GermanConfirmation: 'confirmation',
    AccentAndSunday: 'available',
  });

  it('shows the stories in their language and theme', async () => {
    const { default: meta, German, Dark } = stories;
    const german = await fixture<HTMLDivElement>(html`<div>${meta.render({ ...meta.args, ...German.args })}</div>`);
    const element = german.querySelector('dm-booking')!;
    await untilPart(element, 'services');
    expect(text(part(element, 'title'))).toBe('Termin buchen');
    const dark = await fixture<HTMLDivElement>(html`<div>${meta.render({ ...meta.args, ...Dark.args })}</div>`);
    expect(getComputedStyle(dark.querySelector('dm-booking')!).backgroundColor).toBe('rgb(22, 24, 29)');
  });
});
