import { createLogger } from './logger.js';
import { ConfigError, loadConfig, type Config } from './config.js';
import { StartupError } from './db/startup-error.js';
import { seedDemoBooking, seedDemoCrm, seedDemoModule } from './demo-module.js';
import { startPlatform } from './server.js';

function fail(message: string): never {
  console.error(`dramac: ${message}`);
  process.exit(1);
}

let config: Config;
try {
  config = loadConfig();
} catch (error) {
  if (error instanceof ConfigError) fail(`bad configuration — ${error.message}`);
  throw error;
}

const logger = createLogger(config.logLevel);
const database = config.databaseUrl ? 'PostgreSQL (DATABASE_URL)' : `embedded PGlite in ${config.dataDir}`;
console.log(`dramac: starting on ${database}…`);

const platform = await startPlatform(config, { logger }).catch((error: unknown) => {
  if (error instanceof StartupError) fail(error.message);
  throw error;
});

const lines = [
  `dramac: ready at ${config.publicUrl}  (listening on ${platform.url})`,
  `  API reference   ${config.publicUrl}/docs`,
  `  OpenAPI         ${config.publicUrl}/openapi.json`,
  `  Module schema   ${config.publicUrl}/schemas/dramac.module.json`,
  `  Health          ${config.publicUrl}/healthz  ${config.publicUrl}/readyz`,
];
if (platform.demo) {
  // The demo site shows a real widget, set up through the API (the server is listening by now).
  const widgets = [];
  for (const seed of [seedDemoModule, seedDemoBooking, seedDemoCrm]) {
    widgets.push(
      await seed(platform.url, platform.demo).then(
        (module) => `the ${module} widget`,
        (error: unknown) => `no widget (${error instanceof Error ? error.message : String(error)})`,
      ),
    );
  }
  const widget = widgets.join(' and ');
  lines.push(
    `  Demo site page  ${config.publicUrl}/  — with ${widget}`,
    `  Demo sign-in    curl -X POST ${config.publicUrl}/v1/sessions -H 'content-type: application/json' \\`,
    `                    -d '{"email":"${platform.demo.email}","password":"${platform.demo.password}"}'`,
  );
}
console.log(lines.join('\n'));

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    console.log(`dramac: ${signal} received, draining in-flight requests…`);
    platform.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
