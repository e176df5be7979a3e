/**
 * `npm run analyze:templates` (from the repository's root): the Custom Elements Manifest of the templates'
 * elements, which Storybook's docs pages read beside the components' own (examples/templates/dist/, not
 * committed). A module made from a template keeps this file to document its own elements the same way.
 */
import { litStateIsNotAnAttribute } from '../../components/custom-elements-manifest.config.mjs';

export default {
  globs: ['examples/templates/*/src/*.ts'],
  exclude: ['examples/templates/*/src/*.stories.ts'],
  outdir: 'examples/templates/dist',
  litelement: true,
  // The manifest is Storybook's to read, not the root package's to publish: leave package.json alone.
  packagejson: false,
  plugins: [litStateIsNotAnAttribute()],
};
