import { describe, expect, it } from 'vitest';
import componentsPackage from '@dramac/components/package.json' with { type: 'json' };
import elementsManifest from '@dramac/components/custom-elements.json' with { type: 'json' };
import { KEY_PLACEHOLDER, npmEntries, originCheck, snippets } from '../../studio/src/snippets.js';

const input = {
  apiBase: 'https://api.dramac.example',
  key: 'pk_abc',
  tag: 'dm-booking',
  frameOrigin: 'https://0190a.frames.dramac.example',
  npmEntry: '@dramac/components/booking',
};

describe('the studio’s embed snippets', () => {
  it('shows the one-line loader, the iframe and the npm import with the site’s key', () => {
    const [loader, iframe, npm] = snippets(input);
    expect(loader!.code).toBe(
      '<script async src="https://api.dramac.example/v1/embed/pk_abc.js"></script>\n<dm-booking></dm-booking>',
    );
    expect(iframe!.code).toContain('src="https://0190a.frames.dramac.example/v1/frame/pk_abc.html?element=dm-booking"');
    expect(npm!.code).toContain("import '@dramac/components/booking';");
    expect(npm!.code).toContain('<dm-booking api-base="https://api.dramac.example" key="pk_abc"></dm-booking>');
  });

  it('stands a placeholder in for a key not made yet, and says why a way is not available', () => {
    const [loader, iframe, npm] = snippets({ ...input, key: null, frameOrigin: null, npmEntry: null });
    expect(loader!.code).toContain(`/v1/embed/${KEY_PLACEHOLDER}.js`);
    expect(iframe).toMatchObject({ code: null, note: expect.stringContaining('FRAME_URL') });
    expect(npm).toMatchObject({ code: null, note: expect.stringContaining('loader') });
  });

  it('finds each element’s npm entry point in the package’s exports and its Custom Elements Manifest', () => {
    expect(npmEntries(componentsPackage.exports, elementsManifest)).toMatchObject({
      'dm-booking': '@dramac/components/booking',
      'dm-contact-form': '@dramac/components/crm/contact-form',
      'dm-crm-pipeline': '@dramac/components/crm/pipeline',
      'dm-collection-list': '@dramac/components/collection-list',
    });
  });

  it('checks a page address against the allowed origins', () => {
    const allowed = ['https://www.bakery.example'];
    expect(originCheck('https://www.bakery.example/book?x=1', allowed)).toEqual({
      origin: 'https://www.bakery.example',
      allowed: true,
    });
    expect(originCheck(' https://bakery.example ', allowed)).toEqual({
      origin: 'https://bakery.example',
      allowed: false,
    });
    expect(originCheck('bakery.example', allowed)).toHaveProperty('error');
    expect(originCheck('ftp://bakery.example', allowed)).toHaveProperty('error');
  });
});
