/** One response as a browser would see it: redirects are not followed, so each hop can be looked at. */
export interface Visit {
  status: number;
  /** The redirect's target, absolute; null when the response is not a redirect. */
  location: string | null;
  headers: Headers;
  text: string;
}

export interface FetchBrowser {
  get(url: string): Promise<Visit>;
  /** Submits an HTML form (`application/x-www-form-urlencoded`). */
  postForm(url: string, fields: Record<string, string>): Promise<Visit>;
  /** The cookies it holds for an origin, by name. */
  cookies(origin: string): Map<string, string>;
}

/**
 * Just enough of a browser for redirect-based sign-in flows: fetch with a cookie jar per origin (cookies
 * are sent back to the origin that set them, whatever their path; an expired or empty one is dropped).
 */
export function fetchBrowser(): FetchBrowser {
  const jar = new Map<string, Map<string, string>>();
  const cookies = (origin: string) => jar.get(origin) ?? jar.set(origin, new Map()).get(origin)!;

  async function visit(url: string, init: RequestInit = {}): Promise<Visit> {
    const origin = new URL(url).origin;
    const headers = new Headers(init.headers);
    const held = [...cookies(origin)].map(([name, value]) => `${name}=${value}`).join('; ');
    if (held) headers.set('cookie', held);
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(';');
      const [name, value = ''] = pair!.trim().split(/=(.*)/s) as [string, string?];
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') cookies(origin).delete(name);
      else cookies(origin).set(name, value);
    }
    const location = response.headers.get('location');
    return {
      status: response.status,
      location: location && new URL(location, url).toString(),
      headers: response.headers,
      text: await response.text(),
    };
  }

  return {
    get: (url) => visit(url),
    postForm: (url, fields) =>
      visit(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams(fields).toString(),
      }),
    cookies,
  };
}
