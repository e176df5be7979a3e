import { describe, expect, it } from 'vitest';
import booking from '../../api/src/modules/booking/dramac.module.json' with { type: 'json' };
import crm from '../../api/src/modules/crm/dramac.module.json' with { type: 'json' };
import { defaultSettings, settingControls, storybookArgType, type SettingsSchema } from '../src/shared/index.js';

describe('settingControls', () => {
  it('draws a control for every scalar setting of every first-party element, in the schema’s order', () => {
    for (const element of [...booking.elements, ...crm.elements]) {
      const schema = element.settings as SettingsSchema;
      const scalar = Object.entries(schema.properties ?? {})
        .filter(([, setting]) => ['string', 'number', 'integer', 'boolean'].includes(String(setting.type)))
        .map(([name]) => name);
      expect(
        settingControls(schema).map((one) => one.name),
        element.tag,
      ).toEqual(scalar);
    }
  });

  it('reads the booking widget’s schema as an agency sees it', () => {
    const controls = settingControls(booking.elements[0]!.settings as SettingsSchema);
    const byName = Object.fromEntries(controls.map((one) => [one.name, one]));
    expect(byName.accent_color).toMatchObject({ kind: 'color', label: 'Accent color', optional: true, default: '' });
    expect(byName.first_day_of_week).toMatchObject({
      kind: 'select',
      options: ['monday', 'sunday', 'saturday'],
      default: 'monday',
    });
    expect(byName.title).toMatchObject({ kind: 'text', maxLength: 120, default: 'Book an appointment' });
    expect(defaultSettings(controls)).toMatchObject({ first_day_of_week: 'monday', locale: 'auto' });
    expect(storybookArgType(byName.first_day_of_week!)).toMatchObject({
      control: 'select',
      options: ['monday', 'sunday', 'saturday'],
    });
  });

  it('gives numbers their bounds and leaves arrays and objects to a JSON editor', () => {
    const controls = settingControls({
      properties: {
        limit: { type: 'integer', minimum: 1, maximum: 50, default: 10 },
        ratio: { type: ['number', 'null'] },
        fields: { type: 'array' },
        shown: { type: 'boolean', default: true },
      },
    });
    expect(controls).toEqual([
      expect.objectContaining({ name: 'limit', kind: 'number', integer: true, minimum: 1, maximum: 50, default: 10 }),
      expect.objectContaining({ name: 'ratio', kind: 'number', integer: false, default: undefined }),
      expect.objectContaining({ name: 'shown', kind: 'boolean', default: true }),
    ]);
  });
});
