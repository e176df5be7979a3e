import { describe, expect, it } from 'vitest';
import { longWhen, shortWhen } from '../src/modules/booking/emails.js';

describe('when a booking email says it is', () => {
  it('names the day once for a booking within one day, and both days for one past midnight', () => {
    const zone = 'Europe/Paris';
    expect(longWhen(new Date('2026-03-03T09:00:00Z'), new Date('2026-03-03T09:30:00Z'), zone)).toMatch(
      /^Tuesday(,)? 3 March 2026, 10:00\s?–\s?10:30 \(Europe\/Paris\)$/,
    );
    expect(longWhen(new Date('2026-03-02T22:00:00Z'), new Date('2026-03-02T23:30:00Z'), zone)).toMatch(
      /^Monday(,)? 2 March 2026, 23:00 – Tuesday(,)? 3 March 2026, 00:30 \(Europe\/Paris\)$/,
    );
    expect(shortWhen(new Date('2026-03-02T22:00:00Z'), 'America/New_York')).toMatch(/^Mon(,)? 2 Mar(,)? 17:00$/);
  });
});
