/**
 * The controls an agency edits for an element, derived from the element's settings JSON Schema in its module
 * manifest — the same schema the API validates installs with — plus the site's theme tokens. Storybook's
 * controls and the studio's settings form are both drawn from here, so there is no second list to keep in
 * step with the manifests.
 */

/** The part of a settings JSON Schema this reads: a flat object of strings, numbers, integers and booleans. */
export interface SettingsSchema {
  type?: string;
  properties?: Record<string, SettingSchema>;
  required?: string[];
}

export interface SettingSchema {
  type?: string | string[];
  title?: string;
  description?: string;
  default?: unknown;
  enum?: unknown[];
  pattern?: string;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
}

interface ControlBase {
  /** The setting's name in the install's settings (`accent_color`). */
  name: string;
  /** A label for people (`Accent color`): the schema's title, or the name in words. */
  label: string;
  description: string;
}

export type SettingControl =
  | (ControlBase & { kind: 'text'; default: string; maxLength?: number; pattern?: string })
  /** A `#RRGGBB` string (a pattern that names that form); an empty one, where the pattern allows it, means unset. */
  | (ControlBase & { kind: 'color'; default: string; optional: boolean })
  | (ControlBase & { kind: 'select'; default: string; options: string[] })
  | (ControlBase & {
      kind: 'number';
      default: number | undefined;
      integer: boolean;
      minimum?: number;
      maximum?: number;
    })
  | (ControlBase & { kind: 'boolean'; default: boolean });

const COLOR_PATTERN = /#\[0-9a-fA-F\]\{6\}/;

function words(name: string): string {
  const spaced = name.replace(/[_-]+/g, ' ').trim();
  return spaced.charAt(0).toUpperCase() + spaced.slice(1);
}

function typeOf(schema: SettingSchema): string | undefined {
  return Array.isArray(schema.type) ? schema.type.find((type) => type !== 'null') : schema.type;
}

function control(name: string, schema: SettingSchema): SettingControl | null {
  const base = { name, label: schema.title ?? words(name), description: schema.description ?? '' };
  const type = typeOf(schema);
  if (schema.enum?.every((value) => typeof value === 'string')) {
    const options = schema.enum as string[];
    return { ...base, kind: 'select', options, default: (schema.default as string | undefined) ?? options[0] ?? '' };
  }
  if (type === 'string') {
    const fallback = typeof schema.default === 'string' ? schema.default : '';
    if (schema.pattern && COLOR_PATTERN.test(schema.pattern)) {
      return { ...base, kind: 'color', default: fallback, optional: new RegExp(schema.pattern).test('') };
    }
    return { ...base, kind: 'text', default: fallback, maxLength: schema.maxLength, pattern: schema.pattern };
  }
  if (type === 'number' || type === 'integer') {
    return {
      ...base,
      kind: 'number',
      integer: type === 'integer',
      default: typeof schema.default === 'number' ? schema.default : undefined,
      minimum: schema.minimum,
      maximum: schema.maximum,
    };
  }
  if (type === 'boolean') return { ...base, kind: 'boolean', default: schema.default === true };
  // Arrays and objects have no control of their own: they are edited as JSON, outside these forms.
  return null;
}

/** One control per setting the schema describes, in the schema's order. */
export function settingControls(schema: SettingsSchema | undefined): SettingControl[] {
  return Object.entries(schema?.properties ?? {}).flatMap(([name, setting]) => control(name, setting) ?? []);
}

/** The settings an install starts with: each control's default. */
export function defaultSettings(controls: SettingControl[]): Record<string, unknown> {
  return Object.fromEntries(
    controls.filter((one) => one.default !== undefined).map((one) => [one.name, one.default] as const),
  );
}

/** The site theme's tokens an agency edits (`PUT /v1/sites/{id}/theme`); every element reads them. */
export const THEME_TOKENS = [
  { token: '--dm-color-primary', kind: 'color', label: 'Primary colour' },
  { token: '--dm-color-text', kind: 'color', label: 'Text colour' },
  { token: '--dm-color-muted', kind: 'color', label: 'Muted text colour' },
  { token: '--dm-color-surface', kind: 'color', label: 'Surface colour' },
  { token: '--dm-color-border', kind: 'color', label: 'Border colour' },
  { token: '--dm-color-error', kind: 'color', label: 'Error colour' },
  { token: '--dm-radius', kind: 'text', label: 'Corner radius' },
  { token: '--dm-space', kind: 'text', label: 'Spacing' },
  { token: '--dm-font-family', kind: 'text', label: 'Font family' },
  { token: '--dm-font-size', kind: 'text', label: 'Font size' },
] as const satisfies readonly { token: `--dm-${string}`; kind: 'color' | 'text'; label: string }[];

export type ThemeToken = (typeof THEME_TOKENS)[number]['token'];

/** Storybook's `argTypes` entry for a control (Storybook's own control names). */
export function storybookArgType(one: SettingControl): { name: string } & Record<string, unknown> {
  const table = { category: 'settings', defaultValue: { summary: JSON.stringify(one.default) } };
  const common = { name: one.name, description: one.description, table };
  switch (one.kind) {
    case 'color':
      return { ...common, control: { type: 'color', presetColors: [] } };
    case 'select':
      return { ...common, control: 'select', options: one.options };
    case 'number':
      return {
        ...common,
        control: { type: 'number', min: one.minimum, max: one.maximum, step: one.integer ? 1 : undefined },
      };
    case 'boolean':
      return { ...common, control: 'boolean' };
    case 'text':
      return { ...common, control: 'text' };
  }
}
