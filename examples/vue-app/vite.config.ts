import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

// `VITE_DRAMAC_URL` and `VITE_DRAMAC_KEY` come from the environment (or a `.env.local` here).
export default defineConfig({
  plugins: [
    vue({
      // <dm-…> tags are Dramac's custom elements, not Vue components: Vue leaves them to the browser.
      template: { compilerOptions: { isCustomElement: (tag) => tag.startsWith('dm-') } },
    }),
  ],
  // A fixed port: the origin is one the site must allow, so it should not wander when the port is taken.
  server: { port: 5174, strictPort: true },
  preview: { port: 4174, strictPort: true },
});
