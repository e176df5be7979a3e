import { describe, expect, it } from 'vitest';
import elementsManifest from '../custom-elements.json' with { type: 'json' };
import '../src/index.js';

// Every stories module beside the elements (each element's own test file renders its stories one by one).
const storyModules = import.meta.glob<{ default: { component: string; title: string } }>('../src/**/*.stories.ts', {
  eager: true,
});

describe('stories', () => {
  it('exist for every element the package defines', () => {
    const tags = elementsManifest.modules
      .flatMap((module) => module.declarations ?? [])
      .flatMap((declaration) => ('tagName' in declaration && declaration.tagName ? [declaration.tagName] : []))
      // The provider renders nothing of its own: every element's stories show it at work.
      .filter((tag) => tag !== 'dm-provider');
    const storied = Object.values(storyModules).map((module) => module.default.component);
    expect(tags.length).toBeGreaterThan(4);
    expect([...storied].sort()).toEqual([...tags].sort());
  });

  it('name elements the package defines, under one title each', () => {
    const titles = Object.values(storyModules).map((module) => module.default.title);
    expect(new Set(titles).size).toBe(titles.length);
    for (const module of Object.values(storyModules)) {
      expect(customElements.get(module.default.component), module.default.component).toBeDefined();
    }
  });
});
