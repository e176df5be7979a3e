/**
 * Runs inside the iframe embed's page (`/v1/frame/pk_….html`): no margins, and the page's height posted to
 * the host page whenever it changes, which the loader there applies to the iframe. Only a number leaves.
 */
const sheet = new CSSStyleSheet();
sheet.replaceSync('html,body{margin:0;background:transparent}');
document.adoptedStyleSheets = [sheet];

let last = -1;
new ResizeObserver(() => {
  const height = document.documentElement.scrollHeight;
  if (height === last) return;
  last = height;
  parent.postMessage({ type: 'dramac:resize', height }, '*');
}).observe(document.body);
