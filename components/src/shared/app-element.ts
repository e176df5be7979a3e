import { TaskStatus, type Task } from '@lit/task';
import { html, type PropertyValues } from 'lit';
import type { DramacClient } from '@dramac/sdk';
import { DramacElement, type Audience } from './dramac-element.js';
import { toLocale, type Locale, type MessageCatalogue } from './i18n.js';
import { applyAccent } from './theme.js';

/** A request the API refused or failed: its HTTP status and the problem's `code`. Never carries credentials. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code?: string,
  ) {
    super(`HTTP ${status}${code ? ` ${code}` : ''}`);
    this.name = 'ApiError';
  }
}

/** The error of a response that brought no data. */
export function apiError(response: Response, problem?: { code?: string } | undefined): ApiError {
  return new ApiError(response.status, problem?.code);
}

export const appMessages = {
  en: {
    signIn: 'Please sign in to see this.',
    expired: 'Your sign-in has expired. Please sign in again.',
    forbidden: 'You do not have access to this.',
  },
  de: {
    signIn: 'Bitte melden Sie sich an, um dies zu sehen.',
    expired: 'Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an.',
    forbidden: 'Sie haben darauf keinen Zugriff.',
  },
} satisfies MessageCatalogue<Record<string, string>>;

const JWT = /^[A-Za-z0-9_-]+\.([A-Za-z0-9_-]+)\.[A-Za-z0-9_-]+$/;

/** The `scope` claim of an OAuth access token (a JWT), read for the interface only: the API decides. */
function scopesOfJwt(token: string): ReadonlySet<string> | undefined {
  try {
    const payload = JWT.exec(token)![1]!.replace(/-/g, '+').replace(/_/g, '/');
    const claims = JSON.parse(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, '='))) as { scope?: unknown };
    return typeof claims.scope === 'string' ? new Set(claims.scope.split(' ').filter(Boolean)) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The base of app elements: screens for signed-in users (a client's staff), not a site's visitors. Their
 * client sends the user's `token` (of the element or its `<dm-provider>`) as `Authorization: Bearer …` and
 * never the publishable key. The API takes bearer credentials from the platform's own origin only, so app
 * elements live on the platform's pages (or behind a same-origin proxy), never on a site's.
 *
 * Without a token an app element shows a calm sign-in state (no request, no `dm-error`); a `401` (an expired
 * or revoked token) shows it too, and a `403` says the user has no access. `grantedScopes()` tells what the
 * token may do, so an element can offer only what the user's role allows (the API still decides).
 *
 * Settings (the `settings` property): `locale` (`auto` | `en` | `de`), `accent_color` (`#rrggbb`).
 *
 * @csspart sign-in - The state shown while no user is signed in, or when their sign-in has expired.
 * @slot sign-in - Replaces the sign-in text (a link to the sign-in page, say).
 */
export class DramacAppElement extends DramacElement {
  static override audience: Audience = 'users';

  /** A non-empty string setting of the install (or the `settings` property). */
  protected setting(name: string): string | undefined {
    const value = this.connection.settings?.[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  }

  /** The `locale` setting when it names one; the page's language otherwise. */
  override get locale(): Locale {
    const chosen = this.setting('locale');
    return chosen && chosen !== 'auto' ? toLocale(chosen) : super.locale;
  }

  /**
   * The scopes the signed-in user's token carries: a session's from `GET /v1/sessions/current`, an OAuth
   * access token's from its own `scope` claim. `undefined` when that cannot be told (a secret key, a failed
   * request): the element then offers everything and learns from the API's `403`s.
   */
  protected async grantedScopes(client: DramacClient, signal: AbortSignal): Promise<ReadonlySet<string> | undefined> {
    const token = this.connection.token;
    if (!token) return undefined;
    if (JWT.test(token)) return scopesOfJwt(token);
    if (!token.startsWith('ses_')) return undefined;
    try {
      const { data } = await client.GET('/v1/sessions/current', { signal });
      return data?.scopes ? new Set(data.scopes) : undefined;
    } catch (error) {
      if (signal.aborted) throw error;
      return undefined;
    }
  }

  /** Like `renderData`, with the sign-in state (no token, or a `401`) and a no-access state (a `403`). */
  protected override renderData<Args extends readonly unknown[], Result>(
    task: Task<Args, Result>,
    complete: (value: Result) => unknown,
    isEmpty?: (value: Result) => boolean,
  ): unknown {
    const text = this.messages(appMessages);
    if (!this.connection.token) return this.renderSignIn(text.signIn);
    if (task.status === TaskStatus.ERROR && task.error instanceof ApiError) {
      if (task.error.status === 401) return this.renderSignIn(text.expired);
      if (task.error.status === 403) {
        return html`<div part="error" role="status"><slot name="error">${text.forbidden}</slot></div>`;
      }
    }
    return super.renderData(task, complete, isEmpty);
  }

  private renderSignIn(message: string) {
    return html`<div part="sign-in" role="status"><slot name="sign-in">${message}</slot></div>`;
  }

  protected override updated(changed: PropertyValues<this>): void {
    super.updated(changed);
    // The accent colour setting overrides the theme's primary colour.
    applyAccent(this, this.setting('accent_color'));
  }
}
