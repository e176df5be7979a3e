/**
 * `npm run analyze`: writes custom-elements.json (the Custom Elements Manifest: tags, attributes, events,
 * parts, slots, CSS properties, read from the classes and their JSDoc) and, from it,
 * vscode.html-custom-data.json, so editors autocomplete our tags and attributes. Both are generated, not
 * committed (`npm run generate` makes them; `prepack` makes them before publishing).
 */
import { writeFileSync } from 'node:fs';

export default {
  globs: ['src/**/*.ts'],
  // The React wrappers are not custom elements.
  exclude: ['src/react.ts'],
  outdir: '.',
  litelement: true,
  plugins: [litStateIsNotAnAttribute(), vsCodeCustomData('vscode.html-custom-data.json')],
};

/**
 * The analyzer reads `static properties` but takes `{ state: true }` entries (internal reactive state,
 * no attribute) for attributes. This drops them before inheritance copies them into subclasses.
 */
export function litStateIsNotAnAttribute() {
  const stateFields = new Map(); // class name → names of its state properties
  return {
    name: 'dramac:lit-state-is-not-an-attribute',
    analyzePhase({ ts, node }) {
      if (!ts.isClassDeclaration(node) || !node.name) return;
      for (const member of node.members) {
        const isProperties = ts.isPropertyDeclaration(member) && member.name.getText() === 'properties';
        if (!isProperties || !member.initializer || !ts.isObjectLiteralExpression(member.initializer)) continue;
        const names = member.initializer.properties
          .filter((entry) => ts.isPropertyAssignment(entry) && /\bstate:\s*true\b/.test(entry.initializer.getText()))
          .map((entry) => entry.name.getText());
        stateFields.set(node.name.getText(), new Set(names));
      }
    },
    moduleLinkPhase({ moduleDoc }) {
      for (const declaration of moduleDoc.declarations ?? []) {
        const state = stateFields.get(declaration.name);
        if (!state?.size) continue;
        declaration.attributes = declaration.attributes?.filter((attribute) => !state.has(attribute.fieldName));
        for (const member of declaration.members ?? []) if (state.has(member.name)) delete member.attribute;
      }
    },
  };
}

/** VS Code's custom HTML data (version 1.1): one tag per element, with its attributes and descriptions. */
function vsCodeCustomData(file) {
  return {
    name: 'dramac:vscode-custom-data',
    packageLinkPhase({ customElementsManifest }) {
      const declarations = customElementsManifest.modules.flatMap((module) => module.declarations ?? []);
      const tags = declarations
        .filter((declaration) => declaration.customElement && declaration.tagName)
        .map((element) => ({
          name: element.tagName,
          description: describe(element),
          attributes: (element.attributes ?? []).map((attribute) => ({
            name: attribute.name,
            description: attribute.description ?? attribute.type?.text ?? '',
            // A union of string literals (`'light' | 'dark'`) becomes the attribute's value list.
            ...(literals(attribute.type?.text) && { values: literals(attribute.type.text).map((name) => ({ name })) }),
          })),
        }))
        .sort((a, b) => a.name.localeCompare(b.name));
      writeFileSync(file, JSON.stringify({ version: 1.1, tags }, null, 2) + '\n');
    },
  };
}

function describe(element) {
  const list = (label, items) =>
    items?.length
      ? `\n\n${label}: ${items.map((item) => (item.name ? `\`${item.name}\`` : '(default)')).join(', ')}`
      : '';
  return `${element.description ?? ''}${list('Events', element.events)}${list('Parts', element.cssParts)}${list('Slots', element.slots)}`;
}

function literals(type) {
  const parts = type
    ?.split('|')
    .map((part) => part.trim())
    .filter((part) => part !== 'undefined');
  return parts?.length && parts.every((part) => /^'[^']*'$/.test(part))
    ? parts.map((part) => part.slice(1, -1))
    : undefined;
}
