import ICAL from 'ical.js';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemoBooking } from '../src/demo-module.js';
import { launchChromium } from './support/browser.js';
import { startTestPlatform, type TestPlatform } from './support/platform.js';
import { startSmtpServer, type TestSmtpServer } from './support/smtp.js';

let smtp: TestSmtpServer;
let platform: TestPlatform;
let browser: Browser;

beforeAll(async () => {
  smtp = await startSmtpServer();
  platform = await startTestPlatform({ demo: true, env: { SMTP_URL: smtp.url } });
  // As `npm start` does: the demo agency (the operator here) publishes the module and installs it on its site.
  await seedDemoBooking(platform.url, platform.demo!);
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await platform?.close();
  await smtp?.close();
});

describe('booking through the one-line embed on the plain HTML example page', () => {
  it('books a free slot, the confirmation with a valid invitation arrives by email, and its link cancels', async () => {
    const page = await browser.newPage({ timezoneId: 'America/New_York' });
    const complaints: string[] = [];
    page.on('pageerror', (error) => complaints.push(error.message));
    await page.goto(`${platform.url}/`);
    const booking = page.locator('dm-booking');
    // The loader upgraded the placeholder; the one service is preset, so the month calendar comes first. The
    // consultation needs two hours' notice: the next month always has free days.
    await booking.locator('[part~="grid"]').waitFor({ timeout: 15_000 });
    await booking.locator('[part~="next"]').click();
    await booking.locator('[part~="day"][part~="available"]').first().click();
    const slot = booking.locator('[part~="slot"]').first();
    const time = await slot.innerText();
    await slot.click();
    await booking.getByLabel('Name').fill('Ada <b>Lovelace</b>');
    await booking.getByLabel('Email').fill('ada@example.com');
    await booking.getByLabel('What is the occasion?').selectOption('Wedding');
    await booking.locator('[part~="submit"]').click();
    const confirmation = booking.locator('[part~="confirmation"]');
    await confirmation.waitFor({ timeout: 10_000 });
    // "9:00 AM" in the list, "9:00 – 9:30 AM (Eastern …)" in the confirmation: the visitor's own zone.
    expect(await confirmation.innerText()).toContain(time.trim().split(' ')[0]);
    expect(await confirmation.innerText()).toContain('Cake consultation');

    const mails = await smtp.waitFor(
      (received) => received.some((mail) => mail.to.includes('ada@example.com')),
      15_000,
    );
    const mail = mails.find((received) => received.to.includes('ada@example.com'))!;
    expect(mail.parsed.subject).toMatch(/Cake consultation/);
    // The visitor's name is text in the HTML, never markup.
    expect(mail.parsed.html).toContain('Ada &lt;b&gt;Lovelace&lt;/b&gt;');
    const invite = mail.parsed.attachments.find((attachment) => attachment.contentType.startsWith('text/calendar'));
    expect(invite, 'an .ics attachment').toBeDefined();
    const text = invite!.content.toString('utf8');
    expect(text.split('\r\n')[0]).toBe('BEGIN:VCALENDAR');
    const calendar = new ICAL.Component(ICAL.parse(text));
    expect(calendar.getFirstPropertyValue('method')).toBe('REQUEST');
    const event = new ICAL.Event(calendar.getFirstSubcomponent('vevent')!);
    expect(event.summary).toContain('Cake consultation');
    expect(event.endDate.toJSDate().getTime() - event.startDate.toJSDate().getTime()).toBe(30 * 60_000);

    // The booking the page made is the one the API knows, at the time the invitation says.
    const token = await platform.signIn(platform.demo!.email, platform.demo!.password);
    const sites = await platform.request('GET', '/v1/sites', { token });
    const listed = await platform.request('GET', `/v1/sites/${sites.body.data[0].id}/booking/bookings`, { token });
    expect(listed.body.data).toHaveLength(1);
    expect(new Date(listed.body.data[0].start).getTime()).toBe(event.startDate.toJSDate().getTime());
    expect(listed.body.data[0]).toMatchObject({ answers: { occasion: 'Wedding' }, time_zone: 'America/New_York' });

    // The email's link opens the booking on the page it was made on; the visitor cancels it there.
    const link = /https?:\/\/\S+#dm-booking=[\w.-]+/.exec(mail.parsed.text ?? '')?.[0];
    expect(link, 'a manage link in the email').toBeDefined();
    await page.goto(link!);
    await booking.locator('[part~="manage"]').waitFor({ timeout: 15_000 });
    await booking.locator('[part~="cancel"]').first().click();
    await booking.locator('[part~="confirm-cancel"]').click();
    await booking.locator('[part~="cancelled"]').waitFor({ timeout: 10_000 });
    const isCancellation = (m: (typeof mails)[number]) =>
      m.to.includes('ada@example.com') && (m.parsed.subject ?? '').startsWith('Cancelled');
    const cancellation = (await smtp.waitFor((received) => received.some(isCancellation), 15_000)).find(
      isCancellation,
    )!;
    const cancelInvite = cancellation.parsed.attachments.find((a) => a.contentType.startsWith('text/calendar'))!;
    const cancelled = new ICAL.Component(ICAL.parse(cancelInvite.content.toString('utf8')));
    expect(cancelled.getFirstPropertyValue('method')).toBe('CANCEL');
    expect(cancelled.getFirstSubcomponent('vevent')!.getFirstPropertyValue('uid')).toBe(event.uid);
    const after = await platform.request('GET', `/v1/sites/${sites.body.data[0].id}/booking/bookings`, { token });
    expect(after.body.data[0]).toMatchObject({ status: 'cancelled', cancelled_by: 'visitor' });
    expect(complaints).toEqual([]);
    await page.close();
  });
});
