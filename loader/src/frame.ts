/**
 * Runs inside the iframe embed's page (`/v1/frame/pk_….html`): no margins, and the page's height posted to
 * the host page whenever it changes, which the loader there applies to the iframe. Only a number leaves.
 */
const sheet = new CSSStyleSheet();
sheet.replaceSync('html,body{margin:0;background:transparent}');
document.adoptedStyleSheets = [sheet];

const post = () => parent.postMessage({ type: 'dramac:resize', height: document.documentElement.scrollHeight }, '*');
new ResizeObserver(post).observe(document.body);
// The host page's loader is an async script: it may start listening after the first posts. Say it again a
// few times while the page settles (it costs a number each time).
for (const delay of [250, 1000, 3000, 6000]) setTimeout(post, delay);
