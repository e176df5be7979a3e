/**
 * Storybook for every element in components/ and in the module templates (examples/templates/): `npm run storybook` serves it, `npm run build:storybook` writes
 * the static build (storybook/dist) that the API serves at /studio/storybook/.
 */
import type { StorybookConfig } from '@storybook/web-components-vite';

const config: StorybookConfig = {
  framework: '@storybook/web-components-vite',
  stories: ['../components/src/**/*.stories.ts', '../examples/templates/*/src/*.stories.ts'],
  addons: ['@storybook/addon-docs'],
  // With telemetry on, the build looks things up on the network: slower here, and nothing to send.
  core: { disableTelemetry: true, disableWhatsNewNotifications: true },
  // It runs inside `npm run generate`: Vite's advice on chunk sizes and plugin timings is noise there.
  viteFinal: (vite) => ({ ...vite, logLevel: 'error', build: { ...vite.build, chunkSizeWarningLimit: 4096 } }),
};

export default config;
