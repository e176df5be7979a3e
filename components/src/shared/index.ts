export type { DramacConnection } from './connection.js';
export { connectionContext } from './connection.js';
export { DramacElement, SignInRequired, type Audience } from './dramac-element.js';
export { ApiError, DramacAppElement, apiError, appMessages } from './app-element.js';
export { DramacFormElement } from './form-element.js';
export { dispatchDramacEvent, type DramacEventMap } from './events.js';
export { localeOf, locales, sharedMessages, toLocale, type Locale, type MessageCatalogue } from './i18n.js';
export { stateStyles, themeStyles } from './theme.js';
export {
  THEME_TOKENS,
  defaultSettings,
  settingControls,
  storybookArgType,
  type SettingControl,
  type SettingsSchema,
  type ThemeToken,
} from './settings-controls.js';
