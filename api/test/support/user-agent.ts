import { fetchBrowser, type Visit } from './fetch-browser.js';

/**
 * A person at a browser in a sign-in flow: follows redirects hop by hop (a test may stop at one) and fills in
 * and submits the forms of the pages it lands on. Cookies are fetchBrowser's.
 */
export class UserAgent {
  private readonly browser = fetchBrowser();

  fetch(url: string | URL): Promise<Visit> {
    return this.browser.get(String(url));
  }

  /** Follows redirects from `url` until a page answers (or `until` matches a redirect's target, not followed). */
  async follow(url: string | URL, until?: (location: URL) => boolean): Promise<{ visit: Visit; url: URL }> {
    let current = new URL(url);
    for (let hop = 0; hop < 20; hop += 1) {
      const visit = await this.browser.get(current.href);
      if (!visit.location) return { visit, url: current };
      current = new URL(visit.location);
      if (until?.(current)) return { visit, url: current };
    }
    throw new Error(`too many redirects from ${String(url)}`);
  }

  /** Submits a page's form (the first, or the one whose action contains `action`), with extra fields. */
  submit(pageUrl: URL, html: string, fields: Record<string, string> = {}, action?: string): Promise<Visit> {
    const forms = [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)];
    const chosen = forms.find(([, attributes]) => !action || attributes!.includes(action));
    if (!chosen) throw new Error(`no form${action ? ` posting to ${action}` : ''} on ${pageUrl.href}`);
    const target = /action="([^"]*)"/.exec(chosen[1]!)?.[1] ?? pageUrl.href;
    const values: Record<string, string> = {};
    for (const [input] of chosen[2]!.matchAll(/<input\b[^>]*>/gi)) {
      const name = /name="([^"]*)"/.exec(input)?.[1];
      if (name) values[name] = /value="([^"]*)"/.exec(input)?.[1] ?? '';
    }
    return this.browser.postForm(new URL(target.replaceAll('&amp;', '&'), pageUrl).href, { ...values, ...fields });
  }
}
