/// <reference types="vite/client" />
/**
 * What every story gets in Storybook: docs pages built from the Custom Elements Manifest, and controls for
 * the element's install settings and the site's theme. The settings controls come from the element's settings
 * JSON Schema in its module manifest — the schema the API validates installs with — so there is no second list
 * of settings to keep in step. The stories themselves stay plain CSF objects, which the component tests render.
 */
import { setCustomElementsManifest, type Decorator, type Preview } from '@storybook/web-components-vite';
import { html } from 'lit';
import { styleMap } from 'lit/directives/style-map.js';
import booking from '../api/src/modules/booking/dramac.module.json' with { type: 'json' };
import crm from '../api/src/modules/crm/dramac.module.json' with { type: 'json' };
import elements from '../components/custom-elements.json' with { type: 'json' };
import templateElements from '../examples/templates/dist/custom-elements.json' with { type: 'json' };
import type { SettingsSchema } from '../components/src/shared/index.js';
import { settingArgTypes, settingsFromArgs, themeArgTypes, themeStyleFromArgs } from './controls.js';

// The templates' elements are documented like ours: their manifest is made by `npm run analyze:templates`.
setCustomElementsManifest({ ...elements, modules: [...elements.modules, ...templateElements.modules] });

interface ModuleManifest {
  elements?: { tag: string; settings?: unknown }[];
}
/** The module templates' manifests: each new template's controls come with it. */
const templateManifests = Object.values(
  import.meta.glob<ModuleManifest>('../examples/templates/*/dramac.module.json', { eager: true, import: 'default' }),
);

/** Each element's settings schema, by tag: the first-party modules' and the templates'. */
const settingsSchemas = new Map<string, SettingsSchema>(
  [booking, crm, ...templateManifests].flatMap((manifest: ModuleManifest) =>
    (manifest.elements ?? []).map((element) => [element.tag, element.settings as SettingsSchema] as const),
  ),
);

/**
 * Edits made in the settings and theme controls reach the story: the settings on top of the story's own, the
 * tokens as custom properties around it (every element reads them, as on a client's page).
 */
const withSettingsAndTheme: Decorator = (story, context) => {
  const style = themeStyleFromArgs(context.args);
  const args = { ...context.args, settings: settingsFromArgs(context.args) };
  return html`<div style=${styleMap(style)}>${story({ args })}</div>`;
};

const preview: Preview = {
  tags: ['autodocs'],
  decorators: [withSettingsAndTheme],
  argTypesEnhancers: [
    (context) => ({
      ...context.argTypes,
      ...settingArgTypes(settingsSchemas.get(String(context.component))),
      ...themeArgTypes(),
    }),
  ],
  parameters: {
    controls: { expanded: true, sort: 'none' },
    docs: { toc: true },
  },
};

export default preview;
