import { createApp } from 'vue';
import { init } from '@dramac/sdk';
// Registers <dm-collection-list> (and <dm-provider>): from here on the browser knows the tags.
import '@dramac/components/collection-list';
import App from './App.vue';
import './app.css';

// Vite puts `VITE_…` variables of the environment into `import.meta.env` at build time.
const baseUrl = import.meta.env.VITE_DRAMAC_URL;
const key = import.meta.env.VITE_DRAMAC_KEY;

// The page-wide default connection: every Dramac element without its own attributes or a <dm-provider> uses it.
const client = baseUrl && key ? init({ baseUrl, key }) : undefined;

createApp(App, { client }).mount('#app');
