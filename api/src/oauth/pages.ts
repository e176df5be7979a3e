/** Escapes text for HTML: every string from a user, a client's registration or a request goes through it. */
export const escape = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

/** No script at all; the stylesheet is our own; no other site may frame a page where people sign in. */
export const PAGE_HEADERS = {
  'Content-Security-Policy': "default-src 'none'; style-src 'self'; frame-ancestors 'none'; base-uri 'none'",
  'X-Frame-Options': 'DENY',
  'Cache-Control': 'no-store',
};

export const STYLESHEET_PATH = '/oauth/interaction/style.css';

export const STYLESHEET = `body{font:16px/1.5 system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;color:#1f2328}
h1{font-size:1.4rem}label{display:block;margin:.75rem 0 .25rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin:1rem .5rem 0 0;padding:.5rem 1rem}.error{color:#b42318}ul{padding-left:1.25rem}
.withheld{color:#656d76}code{font-size:.9em}`;

/** A page of the sign-in flow. `title` is text; `body` is HTML whose every outside string is escaped. */
export const renderPage = (title: string, body: string) =>
  `<!doctype html><html lang="en"><head><meta charset="utf-8">` +
  `<meta name="viewport" content="width=device-width, initial-scale=1">` +
  `<title>${escape(title)} · Dramac</title><link rel="stylesheet" href="${STYLESHEET_PATH}"></head>` +
  `<body><main><h1>${escape(title)}</h1>${body}</main></body></html>`;
