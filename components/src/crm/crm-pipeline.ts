import { html, nothing, type PropertyDeclarations } from 'lit';
import type { DramacClient } from '@dramac/sdk';
import { DramacAppElement, apiError } from '../shared/app-element.js';
// `import '@dramac/components/crm/pipeline'` alone is enough on a page: the provider comes along.
import '../shared/provider.js';
import { stateStyles, themeStyles } from '../shared/theme.js';
import { formatDate, formatMoney } from './format.js';
import { pipelineMessages, type PipelineMessages, type Place } from './crm-messages.js';
import { pipelineStyles } from './crm-styles.js';
import type { CrmBoardColumn, CrmDeal, CrmMoneyTotal, CrmPipeline, CrmPipelineBoard, CrmStage } from './types.js';

export type { CrmDeal, CrmPipeline, CrmPipelineBoard, CrmStage } from './types.js';

declare module '../shared/events.js' {
  interface DramacEventMap {
    /** A deal was moved to another stage or place, and the API saved it. */
    'dm-crm-deal-moved': { deal: CrmDeal; fromStageId: string; toStageId: string };
  }
}

/** One stage's column as the board shows it now: the API's, with the moves made since. */
interface Column {
  stage: CrmStage;
  count: number;
  totals: CrmMoneyTotal[];
  deals: CrmDeal[];
  hasMore: boolean;
  /** The `next_cursor` of the last page of `listCrmDeals` for this stage; undefined before the first. */
  cursor?: string | null;
  loadingMore: boolean;
}

/** Where a deal was before a move: where it goes back to when the move is cancelled or refused. */
interface Origin {
  dealId: string;
  fromStageId: string;
  fromIndex: number;
}

/** How many contacts and owners a board looks up for its cards, and how many at a time. */
const NAME_LOOKUPS = 60;
const NAME_CONCURRENCY = 4;

function toColumn(column: CrmBoardColumn): Column {
  return {
    stage: column.stage,
    count: column.deal_count,
    totals: column.totals.map((total) => ({ ...total })),
    deals: [...column.deals].sort((a, b) => a.position - b.position),
    hasMore: column.has_more,
    loadingMore: false,
  };
}

function addToTotals(totals: CrmMoneyTotal[], currency: string, amount: number): CrmMoneyTotal[] {
  const next = totals.map((total) => ({ ...total }));
  const found = next.find((total) => total.currency === currency);
  if (found) found.amount_minor += amount;
  else next.push({ currency, amount_minor: amount });
  return next;
}

const statusOf = (stage: CrmStage): CrmDeal['status'] => (stage.kind === 'open' ? 'open' : stage.kind);

/**
 * `<dm-crm-pipeline site-id="…">` is a sales pipeline as a kanban board: a column per stage with its deals
 * (name, amount, contact, owner, expected close date), how many there are and their totals per currency,
 * which change as deals move. An app element: it needs a signed-in user's `token` (see `DramacAppElement`)
 * and shows a sign-in state without one.
 *
 * Deals move by drag and drop, or by keyboard: the arrow keys go from deal to deal (one deal of the board is
 * in the tab order); Space or Enter picks the focused deal up, then Left / Right move it to the previous /
 * next stage and Up / Down within its stage, Space or Enter drops it (the API saves the move) and Escape
 * cancels. Every step is announced in a live region. The board updates at once and goes back, saying so,
 * if the API refuses. A user whose token lacks `crm:write` gets a read-only board (no dragging, no moving);
 * so does one whose move the API refuses with `403`.
 *
 * Settings (the module install's, or the `settings` property): `pipeline_id`, `accent_color`, `locale`
 * (`auto` | `en` | `de`).
 *
 * @attr site-id - The id of the site whose CRM to show (required).
 * @attr pipeline-id - The pipeline to show (wins over the `pipeline_id` setting); the first one by default.
 * @fires dm-load - The board arrived. `detail`: `{ count }`, the number of deals in the pipeline.
 * @fires dm-crm-deal-moved - A move was saved. `detail`: `{ deal, fromStageId, toStageId }`.
 * @csspart title - The pipeline's name.
 * @csspart read-only - The note that the board is read-only for the user.
 * @csspart notice - What went wrong with the last move or "Show more" (empty otherwise).
 * @csspart pipeline-empty - The note that the pipeline has no deals yet.
 * @csspart board - The columns (`role="region"`).
 * @csspart column - One stage's column (`role="group"`, named by its heading).
 * @csspart drop-target - The column a dragged deal is over (with `column`).
 * @csspart column-header - The stage's name, kind, deal count and totals.
 * @csspart stage-name - The stage's name (a heading).
 * @csspart stage-kind - "Won" or "Lost" for closing stages, the probability for open ones.
 * @csspart summary - The deal count and totals of a stage.
 * @csspart count - The number of deals in a stage.
 * @csspart totals - The amounts of a stage's deals, one per currency.
 * @csspart deals - The list of a stage's deals.
 * @csspart card - One deal (focusable; `role="button"` when it can be moved).
 * @csspart grabbed - The deal picked up by keyboard (with `card`).
 * @csspart deal-name - A deal's name.
 * @csspart amount - A deal's amount, in its currency.
 * @csspart contact - The name of a deal's contact.
 * @csspart owner - The name of a deal's owner.
 * @csspart close-date - A deal's expected close date.
 * @csspart column-empty - The note in a stage without deals.
 * @csspart more - The button that shows more of a stage's deals.
 * @csspart empty - The state shown when the site has no pipeline.
 * @csspart announcer - The visually hidden live region that announces each step of a move.
 * @cssprop --dm-crm-column-width - The narrowest a column gets (default `15rem`); the board scrolls sideways.
 * @cssprop --dm-crm-pipeline-min-height - The height reserved while loading (default `20rem`).
 */
export class DmCrmPipeline extends DramacAppElement {
  static override properties: PropertyDeclarations = {
    siteId: { attribute: 'site-id' },
    pipelineId: { attribute: 'pipeline-id' },
    pipeline: { state: true },
    columns: { state: true },
    focusId: { state: true },
    grab: { state: true },
    drag: { state: true },
    dropTarget: { state: true },
    pending: { state: true },
    refusedWrite: { state: true },
    announcement: { state: true },
    notice: { state: true },
    names: { state: true },
  };

  static override styles = [themeStyles, stateStyles, ...pipelineStyles];

  /** The id of the site whose CRM to show. */
  declare siteId: string | undefined;
  /** The pipeline to show; the `pipeline_id` setting, or else the first pipeline, by default. */
  declare pipelineId: string | undefined;

  declare private pipeline: CrmPipeline | undefined;
  declare private columns: Column[];
  /** The deal in the tab order (roving focus). */
  declare private focusId: string | undefined;
  /** The deal picked up by keyboard, and where it was. */
  declare private grab: Origin | undefined;
  /** The deal being dragged with the pointer, and where it was. */
  declare private drag: Origin | undefined;
  declare private dropTarget: { stageId: string; index: number } | undefined;
  /** Deals whose move the API has not answered yet. */
  declare private pending: ReadonlySet<string>;
  /** The API refused a move with 403: the token may not write, whatever its scopes said. */
  declare private refusedWrite: boolean;
  declare private announcement: string;
  declare private notice: string;
  /** Contact and owner names by `contact:<id>` / `user:<id>`, as they arrive. */
  declare private names: ReadonlyMap<string, string>;

  private scopes: ReadonlySet<string> | undefined;
  private readonly lookedUp = new Set<string>();

  constructor() {
    super();
    this.columns = [];
    this.pending = new Set();
    this.refusedWrite = false;
    this.announcement = '';
    this.notice = '';
    this.names = new Map();
  }

  private get text(): PipelineMessages {
    return this.messages(pipelineMessages);
  }

  /** The user may look but not move: their token lacks `crm:write`, or the API refused a move with 403. */
  get readOnly(): boolean {
    return this.refusedWrite || this.scopes?.has('crm:write') === false;
  }

  // ---- data ----

  private readonly boardTask = this.loadData(
    () => [this.siteId, this.pipelineId || this.setting('pipeline_id')] as const,
    async ([siteId, pipelineId], client, signal) => {
      if (!siteId) throw new Error('the site-id attribute is required');
      const [scopes, board] = await Promise.all([
        this.grantedScopes(client, signal),
        this.fetchBoard(client, siteId, pipelineId, signal),
      ]);
      this.scopes = scopes;
      this.refusedWrite = false;
      this.grab = undefined;
      this.drag = undefined;
      this.pending = new Set();
      this.notice = '';
      this.pipeline = board?.pipeline;
      this.columns = board ? board.columns.map(toColumn) : [];
      this.emit('dm-load', { count: this.columns.reduce((sum, column) => sum + column.count, 0) });
      this.lookUpNames(client, siteId);
      return board;
    },
  );

  private async fetchBoard(
    client: DramacClient,
    siteId: string,
    pipelineId: string | undefined,
    signal: AbortSignal,
  ): Promise<CrmPipelineBoard | undefined> {
    let id = pipelineId;
    if (!id) {
      const { data, error, response } = await client.GET('/v1/sites/{siteId}/crm/pipelines', {
        params: { path: { siteId }, query: { limit: 100 } },
        signal,
      });
      if (!data) throw apiError(response, error);
      id = [...data.data].sort((a, b) => a.position - b.position)[0]?.id;
      if (!id) return undefined;
    }
    const { data, error, response } = await client.GET('/v1/sites/{siteId}/crm/pipelines/{pipelineId}/board', {
      params: { path: { siteId, pipelineId: id } },
      signal,
    });
    if (!data) throw apiError(response, error);
    return data;
  }

  /** Looks up the names of the cards' contacts and owners, a few at a time; a card shows what arrives. */
  private lookUpNames(client: DramacClient, siteId: string): void {
    const wanted: string[] = [];
    // Owners are users, whom a token without users:read may not look up: no requests bound to be refused.
    const users = this.scopes?.has('users:read') !== false;
    for (const deal of this.columns.flatMap((column) => column.deals)) {
      if (deal.contact_id) wanted.push(`contact:${deal.contact_id}`);
      if (deal.owner_id && users) wanted.push(`user:${deal.owner_id}`);
    }
    const queue = [...new Set(wanted)].filter((key) => !this.lookedUp.has(key));
    queue.splice(Math.max(0, NAME_LOOKUPS - this.lookedUp.size));
    for (const key of queue) this.lookedUp.add(key);
    const next = async (): Promise<void> => {
      const key = queue.shift();
      if (!key) return;
      const name = await this.lookUpName(client, siteId, key).catch(() => undefined);
      if (name) this.names = new Map(this.names).set(key, name);
      return next();
    };
    for (let worker = 0; worker < NAME_CONCURRENCY; worker++) void next();
  }

  private async lookUpName(client: DramacClient, siteId: string, key: string): Promise<string | undefined> {
    const [kind, id] = key.split(':') as ['contact' | 'user', string];
    if (kind === 'user') {
      const { data } = await client.GET('/v1/users/{userId}', { params: { path: { userId: id } } });
      return data?.name || undefined;
    }
    const { data } = await client.GET('/v1/sites/{siteId}/crm/contacts/{contactId}', {
      params: { path: { siteId, contactId: id } },
    });
    if (!data) return undefined;
    return `${data.first_name} ${data.last_name}`.trim() || data.emails[0] || undefined;
  }

  private readonly showMore = async (stageId: string) => {
    const client = this.client;
    const siteId = this.siteId;
    const start = this.columns.find((column) => column.stage.id === stageId);
    if (!client || !siteId || !start || start.loadingMore) return;
    this.updateColumn(stageId, (column) => ({ ...column, loadingMore: true }));
    this.notice = '';
    try {
      // The board holds a stage's first deals; pages of the stage's list are read until new ones come.
      for (;;) {
        const column = this.columns.find((candidate) => candidate.stage.id === stageId)!;
        const { data, error, response } = await client.GET('/v1/sites/{siteId}/crm/deals', {
          params: {
            path: { siteId },
            query: {
              stage_id: stageId,
              sort: 'position',
              limit: 100,
              ...(column.cursor ? { cursor: column.cursor } : {}),
            },
          },
        });
        if (!data) throw apiError(response, error);
        const shown = new Set(this.columns.flatMap((candidate) => candidate.deals.map((deal) => deal.id)));
        const fresh = data.data.filter((deal) => !shown.has(deal.id) && deal.stage_id === stageId);
        this.updateColumn(stageId, (current) => ({
          ...current,
          deals: [...current.deals, ...fresh],
          cursor: data.next_cursor,
          hasMore: data.has_more,
        }));
        if (fresh.length > 0 || !data.has_more || !data.next_cursor) break;
      }
      this.lookUpNames(client, siteId);
    } catch {
      this.notice = this.text.moreFailed;
    } finally {
      this.updateColumn(stageId, (column) => ({ ...column, loadingMore: false }));
    }
  };

  // ---- the board's model ----

  private updateColumn(stageId: string, change: (column: Column) => Column): void {
    this.columns = this.columns.map((column) => (column.stage.id === stageId ? change(column) : column));
  }

  private locate(dealId: string): { column: number; index: number } | undefined {
    for (const [column, { deals }] of this.columns.entries()) {
      const index = deals.findIndex((deal) => deal.id === dealId);
      if (index >= 0) return { column, index };
    }
    return undefined;
  }

  private dealOf(dealId: string): CrmDeal | undefined {
    const at = this.locate(dealId);
    return at && this.columns[at.column]!.deals[at.index];
  }

  /** Where a deal is now, in words for an announcement. */
  private placeOf(dealId: string): Place {
    const at = this.locate(dealId);
    const column = at && this.columns[at.column]!;
    return {
      deal: this.dealOf(dealId)?.name ?? '',
      stage: column?.stage.name ?? '',
      position: (at?.index ?? 0) + 1,
      of: column?.deals.length ?? 0,
    };
  }

  /**
   * Moves a deal on the board (not in the API): out of its column, into `stageId`'s at `index` (clamped).
   * Between stages, the counts and totals follow it, and its status becomes the new stage's.
   */
  private place(dealId: string, stageId: string, index: number): void {
    const at = this.locate(dealId);
    const target = this.columns.findIndex((column) => column.stage.id === stageId);
    if (!at || target < 0) return;
    const source = this.columns[at.column]!;
    const deal = source.deals[at.index]!;
    const moving = source.stage.id !== stageId;
    const stage = this.columns[target]!.stage;
    const moved: CrmDeal = moving ? { ...deal, stage_id: stageId, status: statusOf(stage) } : deal;
    this.columns = this.columns.map((column, position) => {
      let deals = column.deals;
      let { count, totals } = column;
      if (position === at.column) {
        deals = deals.filter((candidate) => candidate.id !== dealId);
        if (moving) {
          count -= 1;
          totals = addToTotals(totals, deal.currency, -deal.amount_minor);
        }
      }
      if (position === target) {
        const at = Math.max(0, Math.min(index, deals.length));
        deals = [...deals.slice(0, at), moved, ...deals.slice(at)];
        if (moving) {
          count += 1;
          totals = addToTotals(totals, deal.currency, deal.amount_minor);
        }
      }
      return deals === column.deals ? column : { ...column, deals, count, totals };
    });
  }

  // ---- moving: keyboard ----

  private say(message: string): void {
    // The same words twice in a row are still spoken: a live region reads changes only.
    this.announcement = message === this.announcement ? `${message}\u00a0` : message;
  }

  private async focusDeal(dealId: string): Promise<void> {
    this.focusId = dealId;
    await this.updateComplete;
    this.renderRoot.querySelector<HTMLElement>(`[data-deal-id="${CSS.escape(dealId)}"]`)?.focus();
  }

  private readonly onFocusIn = (event: FocusEvent) => {
    const id = (event.target as HTMLElement).dataset?.dealId;
    if (!id) return;
    // Another deal taken into focus (a click) while one is picked up: that one goes back first.
    if (this.grab && this.grab.dealId !== id) this.cancel(false);
    this.focusId = id;
  };

  private readonly onFocusOut = (event: FocusEvent) => {
    // Focus going elsewhere (Tab, a click outside) puts a picked-up deal back; a re-rendered card has no
    // `relatedTarget` and keeps it.
    const next = event.relatedTarget as HTMLElement | null;
    if (this.grab && next && !next.dataset?.dealId) this.cancel(false);
  };

  private readonly onKeydown = (event: KeyboardEvent) => {
    const id = (event.target as HTMLElement).dataset?.dealId;
    if (!id || event.altKey || event.ctrlKey || event.metaKey) return;
    const handled = this.grab?.dealId === id ? this.moveKey(event.key) : this.browseKey(id, event.key);
    if (handled) event.preventDefault();
  };

  /** Keys on a deal that is not picked up: going from deal to deal, and picking up. */
  private browseKey(id: string, key: string): boolean {
    const at = this.locate(id);
    if (!at) return false;
    const deals = this.columns[at.column]!.deals;
    const go = (dealId: string | undefined) => {
      if (dealId) void this.focusDeal(dealId);
      return true;
    };
    switch (key) {
      case 'ArrowUp':
        return go(deals[Math.max(0, at.index - 1)]?.id);
      case 'ArrowDown':
        return go(deals[Math.min(deals.length - 1, at.index + 1)]?.id);
      case 'Home':
        return go(deals[0]?.id);
      case 'End':
        return go(deals.at(-1)?.id);
      case 'ArrowLeft':
      case 'ArrowRight': {
        const step = key === 'ArrowLeft' ? -1 : 1;
        for (let column = at.column + step; column >= 0 && column < this.columns.length; column += step) {
          const others = this.columns[column]!.deals;
          if (others.length > 0) return go(others[Math.min(at.index, others.length - 1)]!.id);
        }
        return true;
      }
      case ' ':
      case 'Enter':
        this.pickUp(id);
        return true;
      default:
        return false;
    }
  }

  /** Keys on the picked-up deal: moving it, dropping it, cancelling. */
  private moveKey(key: string): boolean {
    const grab = this.grab!;
    const at = this.locate(grab.dealId);
    if (!at) return false;
    const moveTo = (column: number, index: number) => {
      const target = this.columns[column];
      if (!target) return true;
      this.place(grab.dealId, target.stage.id, index);
      this.say(this.text.movedTo(this.placeOf(grab.dealId)));
      void this.focusDeal(grab.dealId);
      return true;
    };
    switch (key) {
      case 'ArrowUp':
        return at.index > 0 ? moveTo(at.column, at.index - 1) : true;
      case 'ArrowDown':
        return at.index < this.columns[at.column]!.deals.length - 1 ? moveTo(at.column, at.index + 1) : true;
      case 'ArrowLeft':
        return moveTo(at.column - 1, at.index);
      case 'ArrowRight':
        return moveTo(at.column + 1, at.index);
      case ' ':
      case 'Enter':
        this.dropGrabbed();
        return true;
      case 'Escape':
        this.cancel();
        return true;
      default:
        return false;
    }
  }

  private pickUp(dealId: string): void {
    if (this.readOnly) {
      this.say(this.text.readOnlyKey);
      return;
    }
    const at = this.locate(dealId);
    if (!at || this.pending.has(dealId)) return;
    this.grab = { dealId, fromStageId: this.columns[at.column]!.stage.id, fromIndex: at.index };
    this.say(this.text.pickedUp(this.placeOf(dealId)));
  }

  /** Puts the picked-up deal back where it was; the focus follows it unless it went elsewhere. */
  private cancel(refocus = true): void {
    const grab = this.grab;
    if (!grab) return;
    this.grab = undefined;
    this.place(grab.dealId, grab.fromStageId, grab.fromIndex);
    this.say(this.text.cancelled(this.placeOf(grab.dealId)));
    if (refocus) void this.focusDeal(grab.dealId);
  }

  private dropGrabbed(): void {
    const grab = this.grab;
    if (!grab) return;
    this.grab = undefined;
    this.finishMove(grab);
    void this.focusDeal(grab.dealId);
  }

  // ---- moving: drag and drop ----

  private onDragStart(event: DragEvent, dealId: string): void {
    const at = this.locate(dealId);
    if (this.readOnly || !at || this.pending.has(dealId) || !event.dataTransfer) {
      event.preventDefault();
      return;
    }
    if (this.grab) this.cancel();
    event.dataTransfer.effectAllowed = 'move';
    event.dataTransfer.setData('application/x-dramac-deal', dealId);
    this.drag = { dealId, fromStageId: this.columns[at.column]!.stage.id, fromIndex: at.index };
    this.focusId = dealId;
  }

  /** Where in `stageId`'s column a drop at `clientY` lands: before the first card whose middle is below it. */
  private dropIndex(stageId: string, clientY: number): number {
    const cards = [
      ...this.renderRoot.querySelectorAll<HTMLElement>(`[data-stage-id="${CSS.escape(stageId)}"] [data-deal-id]`),
    ].filter((card) => card.dataset.dealId !== this.drag?.dealId);
    const index = cards.findIndex((card) => {
      const box = card.getBoundingClientRect();
      return clientY < box.top + box.height / 2;
    });
    return index < 0 ? cards.length : index;
  }

  private onDragOver(event: DragEvent, stageId: string): void {
    if (!this.drag) return;
    event.preventDefault();
    if (event.dataTransfer) event.dataTransfer.dropEffect = 'move';
    const index = this.dropIndex(stageId, event.clientY);
    if (this.dropTarget?.stageId !== stageId || this.dropTarget.index !== index) {
      this.dropTarget = { stageId, index };
    }
  }

  private onDragLeave(event: DragEvent, stageId: string): void {
    const into = event.relatedTarget as Node | null;
    if (this.dropTarget?.stageId === stageId && !(event.currentTarget as Node).contains(into)) {
      this.dropTarget = undefined;
    }
  }

  private onDrop(event: DragEvent, stageId: string): void {
    const drag = this.drag;
    if (!drag) return;
    event.preventDefault();
    const index = this.dropIndex(stageId, event.clientY);
    this.drag = undefined;
    this.dropTarget = undefined;
    this.place(drag.dealId, stageId, index);
    this.finishMove(drag);
  }

  private readonly onDragEnd = () => {
    this.drag = undefined;
    this.dropTarget = undefined;
  };

  // ---- saving a move ----

  /** A deal was dropped where it is now: tells so, and saves the move unless it is back where it was. */
  private finishMove(origin: Origin): void {
    const at = this.locate(origin.dealId);
    if (!at) return;
    const place = this.placeOf(origin.dealId);
    const column = this.columns[at.column]!;
    if (column.stage.id === origin.fromStageId && at.index === origin.fromIndex) {
      this.say(this.text.unchanged(place));
      return;
    }
    this.say(this.text.dropped(place));
    void this.save(origin, column.stage.id, column.deals[at.index + 1]?.id ?? null);
  }

  private async save(origin: Origin, stageId: string, beforeDealId: string | null): Promise<void> {
    const { dealId, fromStageId, fromIndex } = origin;
    const client = this.client;
    const siteId = this.siteId;
    if (!client || !siteId) return;
    this.pending = new Set(this.pending).add(dealId);
    this.notice = '';
    let refused: 'forbidden' | 'failed' | undefined;
    try {
      const { data, response } = await client.POST('/v1/sites/{siteId}/crm/deals/{dealId}/move', {
        params: { path: { siteId, dealId } },
        body: { stage_id: stageId, before_deal_id: beforeDealId },
      });
      if (data) {
        // The API's word on the deal (its position, its status) replaces the guess.
        this.columns = this.columns.map((column) => ({
          ...column,
          deals: column.deals.map((deal) => (deal.id === dealId ? data : deal)),
        }));
        if (data.stage_id !== stageId) this.place(dealId, data.stage_id, Number.MAX_SAFE_INTEGER);
        this.emit('dm-crm-deal-moved', { deal: data, fromStageId, toStageId: data.stage_id });
      } else {
        refused = response.status === 403 ? 'forbidden' : 'failed';
      }
    } catch {
      refused = 'failed';
    } finally {
      const pending = new Set(this.pending);
      pending.delete(dealId);
      this.pending = pending;
    }
    if (!refused) return;
    this.place(dealId, fromStageId, fromIndex);
    if (refused === 'forbidden') {
      this.refusedWrite = true;
      this.grab = undefined;
    }
    const message = this.text[refused](this.placeOf(dealId));
    this.notice = message;
    this.say(message);
  }

  // ---- rendering ----

  protected override render() {
    return html`${this.renderData(this.boardTask, (board) =>
        board
          ? this.renderBoard(this.pipeline ?? board.pipeline)
          : html`<div part="empty" role="status"><slot name="empty">${this.text.noPipelines}</slot></div>`,
      )}
      <div part="announcer" class="sr-only" role="status" aria-live="assertive" aria-atomic="true">
        ${this.announcement}
      </div>`;
  }

  private renderBoard(pipeline: CrmPipeline) {
    const text = this.text;
    const readOnly = this.readOnly;
    const empty = this.columns.every((column) => column.count === 0 && column.deals.length === 0);
    const focusId = this.locate(this.focusId ?? '') ? this.focusId : this.columns.find((c) => c.deals[0])?.deals[0]?.id;
    return html`
      <h2 part="title" id="title">${pipeline.name}</h2>
      ${readOnly ? html`<p part="read-only">${text.readOnly}</p>` : nothing}
      <p part="notice">${this.notice}</p>
      ${empty ? html`<p part="pipeline-empty" class="muted">${text.pipelineEmpty}</p>` : nothing}
      <p id="instructions" hidden>${readOnly ? text.instructionsReadOnly : text.instructions}</p>
      <div
        part="board"
        role="region"
        aria-label=${text.board(pipeline.name)}
        tabindex=${focusId ? nothing : 0}
        @keydown=${this.onKeydown}
        @focusin=${this.onFocusIn}
        @focusout=${this.onFocusOut}
      >
        ${this.columns.map((column) => this.renderColumn(column, focusId, readOnly))}
      </div>
    `;
  }

  private renderColumn(column: Column, focusId: string | undefined, readOnly: boolean) {
    const { stage } = column;
    const text = this.text;
    const headingId = `stage-${stage.id}`;
    const target = this.dropTarget?.stageId === stage.id ? this.dropTarget : undefined;
    const others = column.deals.filter((deal) => deal.id !== this.drag?.dealId);
    const dropBefore = target ? others[target.index]?.id : undefined;
    const kind =
      stage.kind === 'won'
        ? text.won
        : stage.kind === 'lost'
          ? text.lost
          : stage.probability !== null
            ? text.probability(stage.probability)
            : '';
    return html`
      <div
        part=${target ? 'column drop-target' : 'column'}
        role="group"
        aria-labelledby=${headingId}
        data-stage-id=${stage.id}
        @dragover=${(event: DragEvent) => this.onDragOver(event, stage.id)}
        @dragleave=${(event: DragEvent) => this.onDragLeave(event, stage.id)}
        @drop=${(event: DragEvent) => this.onDrop(event, stage.id)}
      >
        <div part="column-header">
          <h3 part="stage-name" id=${headingId}>${stage.name}</h3>
          ${kind ? html`<span part="stage-kind">${kind}</span>` : nothing}
          <p part="summary" id=${`summary-${stage.id}`}>
            <span part="count">${text.deals(column.count)}</span> ·
            <span part="totals">${this.totalsText(column.totals)}</span>
          </p>
        </div>
        <ul
          part="deals"
          role="list"
          class=${target && !dropBefore ? 'drop-end' : ''}
          aria-labelledby=${headingId}
          aria-describedby=${`summary-${stage.id}`}
        >
          ${column.deals.map(
            (deal) => html`<li>${this.renderCard(deal, deal.id === focusId, readOnly, deal.id === dropBefore)}</li>`,
          )}
        </ul>
        ${column.deals.length === 0 ? html`<p part="column-empty">${text.columnEmpty}</p>` : nothing}
        ${
          column.hasMore
            ? html`<button
                part="more"
                type="button"
                ?disabled=${column.loadingMore}
                @click=${() => this.showMore(stage.id)}
              >
                ${column.loadingMore ? text.loadingMore : text.showMore}
              </button>`
            : nothing
        }
      </div>
    `;
  }

  private renderCard(deal: CrmDeal, inTabOrder: boolean, readOnly: boolean, dropBefore: boolean) {
    const text = this.text;
    const grabbed = this.grab?.dealId === deal.id;
    const contact = deal.contact_id ? this.names.get(`contact:${deal.contact_id}`) : undefined;
    const owner = deal.owner_id ? this.names.get(`user:${deal.owner_id}`) : undefined;
    const classes = [dropBefore ? 'drop-before' : '', this.drag?.dealId === deal.id ? 'dragging' : '']
      .filter(Boolean)
      .join(' ');
    return html`<div
      part=${grabbed ? 'card grabbed' : 'card'}
      class=${classes}
      data-deal-id=${deal.id}
      tabindex=${inTabOrder ? 0 : -1}
      role=${readOnly ? nothing : 'button'}
      aria-roledescription=${readOnly ? nothing : text.roleDescription}
      aria-pressed=${readOnly ? nothing : grabbed ? 'true' : 'false'}
      aria-describedby="instructions"
      aria-busy=${this.pending.has(deal.id) ? 'true' : nothing}
      draggable=${readOnly ? 'false' : 'true'}
      @dragstart=${(event: DragEvent) => this.onDragStart(event, deal.id)}
      @dragend=${this.onDragEnd}
    >
      <span part="deal-name">${deal.name}</span>
      <span part="amount">${formatMoney(deal.amount_minor, deal.currency, this.locale)}</span>
      ${contact ? html`<span part="contact">${contact}</span>` : nothing}
      ${owner ? html`<span part="owner">${text.owner(owner)}</span>` : nothing}
      ${
        deal.expected_close_date
          ? html`<span part="close-date"
              >${text.expectedClose(formatDate(deal.expected_close_date, this.locale))}</span
            >`
          : nothing
      }
    </div>`;
  }

  /** A stage's totals, one per currency; a stage without any shows zero in the board's first currency. */
  private totalsText(totals: CrmMoneyTotal[]): string {
    const shown = totals.filter((total) => total.amount_minor !== 0);
    if (shown.length === 0) {
      const currency =
        this.columns.flatMap((column) => column.totals)[0]?.currency ??
        this.columns.flatMap((column) => column.deals)[0]?.currency ??
        'EUR';
      return formatMoney(0, currency, this.locale);
    }
    return shown.map((total) => formatMoney(total.amount_minor, total.currency, this.locale)).join(' · ');
  }
}

// Safe to import twice, and under a server runtime without a registry (see provider.ts).
if (globalThis.customElements && !customElements.get('dm-crm-pipeline')) {
  customElements.define('dm-crm-pipeline', DmCrmPipeline);
}

declare global {
  interface HTMLElementTagNameMap {
    'dm-crm-pipeline': DmCrmPipeline;
  }
}
