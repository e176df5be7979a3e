/**
 * Runs inside the iframe embed's page (`/v1/frame/pk_….html`): no margins, and the page's height posted to
 * the host page whenever it changes, which the loader there applies to the iframe. Only a number leaves. The
 * agency studio's previews post settings and theme in (below).
 */
const sheet = new CSSStyleSheet();
sheet.replaceSync('html,body{margin:0;background:transparent}');
document.adoptedStyleSheets = [sheet];

const post = () => parent.postMessage({ type: 'dramac:resize', height: document.documentElement.scrollHeight }, '*');
new ResizeObserver(post).observe(document.body);
// The host page's loader is an async script: it may start listening after the first posts. Say it again a
// few times while the page settles (it costs a number each time).
for (const delay of [250, 1000, 3000, 6000]) setTimeout(post, delay);

// The agency studio previews a third party's element through this page (an origin of its own, so the module's
// code reaches nothing of the studio's) and posts the settings and theme being edited. Only the page embedding
// this one can post them, and frame-ancestors lets only the site's own origins embed it: what they change is
// what they see.
addEventListener('message', (event: MessageEvent) => {
  const data = event.data as { type?: unknown; settings?: unknown; tokens?: unknown } | null;
  if (event.source !== parent || data?.type !== 'dramac:preview') return;
  const element = document.body.firstElementChild as (Element & { settings?: unknown }) | null;
  if (element && typeof data.settings === 'object' && data.settings !== null) element.settings = data.settings;
  const tokens = typeof data.tokens === 'object' && data.tokens !== null ? data.tokens : {};
  for (const [name, value] of Object.entries(tokens)) {
    // A cleared token is the element's default (`initial`), as Save will make it, not the site's saved one.
    if (name.startsWith('--dm-') && typeof value === 'string') {
      document.documentElement.style.setProperty(name, value || 'initial');
    }
  }
});
