/**
 * Storybook's args for an element's install settings and the site's theme tokens, and their way back into
 * the element: `setting_<name>` args merge into the story's `settings`, `token<--dm-…>` args become custom
 * properties. Kept apart from the stories, which the component tests render with plain args.
 */
import {
  THEME_TOKENS,
  settingControls,
  storybookArgType,
  type SettingsSchema,
} from '../components/src/shared/index.js';

const SETTING = 'setting_';
const TOKEN = 'token';

type Args = Record<string, unknown>;
/** Storybook's `argTypes` entry: its `name` is required, the rest is Storybook's to read. */
type ArgType = { name: string } & Args;

/** Storybook `argTypes` for each setting the schema describes, under the "settings" heading. */
export function settingArgTypes(schema: SettingsSchema | undefined): Record<string, ArgType> {
  return Object.fromEntries(settingControls(schema).map((one) => [`${SETTING}${one.name}`, storybookArgType(one)]));
}

/** Storybook `argTypes` for each theme token, under the "theme" heading. */
export function themeArgTypes(): Record<string, ArgType> {
  return Object.fromEntries(
    THEME_TOKENS.map(({ token, kind, label }) => [
      `${TOKEN}${token}`,
      {
        name: token,
        description: label,
        control: kind === 'color' ? { type: 'color', presetColors: [] } : 'text',
        table: { category: 'theme' },
      },
    ]),
  );
}

const chosen = (args: Args, prefix: string) =>
  Object.entries(args).flatMap(([key, value]) =>
    key.startsWith(prefix) && value !== undefined && value !== '' ? [[key.slice(prefix.length), value] as const] : [],
  );

/** The story's settings with the values set in the settings controls on top. */
export function settingsFromArgs(args: Args): Args {
  return { ...(args.settings as Args | undefined), ...Object.fromEntries(chosen(args, SETTING)) };
}

/** The theme tokens set in the controls, as custom properties. */
export function themeStyleFromArgs(args: Args): Record<string, string> {
  return Object.fromEntries(chosen(args, TOKEN).map(([token, value]) => [token, String(value)]));
}
