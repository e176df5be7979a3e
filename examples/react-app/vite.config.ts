import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// `VITE_DRAMAC_URL` and `VITE_DRAMAC_KEY` come from the environment (or a `.env.local` here).
export default defineConfig({
  plugins: [react()],
  // A fixed port: the origin is one the site must allow, so it should not wander when the port is taken.
  server: { port: 5173, strictPort: true },
  preview: { port: 4173, strictPort: true },
});
