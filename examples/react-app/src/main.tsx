import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { init } from '@dramac/sdk';
import { App } from './App.js';

// Vite puts `VITE_…` variables of the environment into `import.meta.env` at build time.
const baseUrl = import.meta.env.VITE_DRAMAC_URL;
const key = import.meta.env.VITE_DRAMAC_KEY;

// The page-wide default connection: every Dramac element without its own attributes or a <DmProvider> uses it.
const client = baseUrl && key ? init({ baseUrl, key }) : undefined;

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App client={client} />
  </StrictMode>,
);
