/**
 * A person's browser, as far as sign-in flows need one: cookies kept per host, redirects followed by hand
 * (a test looks at each hop), and forms submitted as a browser would.
 */
export class UserAgent {
  private readonly cookies = new Map<string, Map<string, string>>();

  async fetch(url: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const target = new URL(url);
    const jar = this.cookies.get(target.host) ?? new Map<string, string>();
    const headers: Record<string, string> = {};
    if (jar.size > 0) headers.cookie = [...jar].map(([name, value]) => `${name}=${value}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const response = await fetch(target, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body,
      redirect: 'manual',
    });
    for (const cookie of response.headers.getSetCookie()) {
      const [pair] = cookie.split(';');
      const at = pair!.indexOf('=');
      const name = pair!.slice(0, at).trim();
      const value = pair!.slice(at + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(cookie) || value === '') jar.delete(name);
      else jar.set(name, value);
    }
    this.cookies.set(target.host, jar);
    return response;
  }

  /** Follows redirects from `url` until a page answers (or `until` matches a redirect's target, not followed). */
  async follow(url: string | URL, until?: (location: URL) => boolean): Promise<{ response: Response; url: URL }> {
    let current = new URL(url);
    for (let hop = 0; hop < 20; hop += 1) {
      const response = await this.fetch(current);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { response, url: current };
      current = new URL(location, current);
      if (until?.(current)) return { response, url: current };
    }
    throw new Error(`too many redirects from ${String(url)}`);
  }

  /** Submits a page's form (the first, or the one whose action contains `action`), with extra fields. */
  async submit(pageUrl: URL, html: string, fields: Record<string, string> = {}, action?: string): Promise<Response> {
    const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
    const chosen = forms.find(([, attributes]) => !action || attributes!.includes(action));
    if (!chosen) throw new Error(`no form${action ? ` posting to ${action}` : ''} on ${pageUrl.href}`);
    const target = /action="([^"]*)"/.exec(chosen[1]!)?.[1] ?? pageUrl.href;
    const values: Record<string, string> = {};
    for (const [input] of chosen[2]!.matchAll(/<input\b[^>]*>/gi)) {
      const name = /name="([^"]*)"/.exec(input)?.[1];
      if (name) values[name] = /value="([^"]*)"/.exec(input)?.[1] ?? '';
    }
    return this.fetch(new URL(target.replaceAll('&amp;', '&'), pageUrl), { form: { ...values, ...fields } });
  }
}
