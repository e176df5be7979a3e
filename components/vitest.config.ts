import { fileURLToPath } from 'node:url';
import { playwright } from '@vitest/browser-playwright';
import type { Plugin } from 'vite';
import { defineConfig } from 'vitest/config';
import type { BrowserCommand } from 'vitest/node';

// Component tests run in the machine's own Chromium: nothing downloads a browser.
const chromium = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const chromiumArgs = [
  '--no-sandbox', // CI runs as root
  '--disable-gpu',
  '--disable-background-networking', // the closed network would otherwise flood connection errors
  '--disable-component-update',
  '--disable-sync',
];

/**
 * @open-wc/testing pulls in web-test-runner's command bridge, which imports a socket module only its dev
 * server serves. Under vitest it is never called; an empty stand-in lets the import resolve.
 */
function webDevServerSocketStub(): Plugin {
  const stubId = '\0web-dev-server-web-socket';
  return {
    name: 'dramac:web-dev-server-socket-stub',
    enforce: 'pre',
    resolveId: (source) => (source.endsWith('__web-dev-server__web-socket.js') ? stubId : null),
    load: (id) =>
      id === stubId
        ? 'export const sendMessage = () => {}; export const sendMessageWaitForResponse = () => Promise.reject(new Error("not under web-test-runner"));'
        : null,
  };
}

/** Lets a test switch `prefers-color-scheme` / `prefers-reduced-motion` for real, as a visitor's OS would. */
const emulateMedia: BrowserCommand<[{ colorScheme?: 'light' | 'dark' | null; reducedMotion?: 'reduce' | null }]> = (
  { page },
  options,
) => page.emulateMedia(options);

export default defineConfig({
  root: fileURLToPath(new URL('.', import.meta.url)),
  plugins: [webDevServerSocketStub()],
  test: {
    name: 'components',
    // The module templates' element tests too: they use this project's browser and its helpers.
    include: ['test/**/*.test.ts', '../examples/templates/*/test/*.element.test.ts'],
    browser: {
      enabled: true,
      headless: true,
      provider: playwright({ launchOptions: { executablePath: chromium, args: chromiumArgs } }),
      instances: [{ browser: 'chromium' }],
      commands: { emulateMedia },
      screenshotFailures: false,
    },
  },
});
