import type { ApiClient, GraphQLRequestError } from './api-client';
import { throttle } from './dashboard-state';
import { AD_CLICKS_QUERY, AD_CLICKS_UPDATED_SUBSCRIPTION, AD_LIMIT, AD_MINUTES, type AdClicks } from './operations';
import { requiredElement } from './required-element';

/** Least time between two reads of the panel triggered by events, milliseconds. */
export const AD_READS_INTERVAL_MS = 2_000;
const MINUTE_MS = 60_000;
const int = (n: number) => n.toLocaleString('en-US');

/**
 * The ad-clicks panel: the ads with the most counted clicks over the last
 * {@link AD_MINUTES} minutes, each with the clicks the blacklist dropped
 * (robots), and the dropped total by reason. Read at load and after a change
 * (the subscription is only a wake-up), at most every {@link AD_READS_INTERVAL_MS}.
 */
export class AdClicksPanel {
  /** Reads done so far (the browser test waits for the first). */
  reads = 0;
  private readonly body: HTMLTableSectionElement;
  private readonly total: HTMLElement;
  private readonly refresh: () => void;

  constructor(
    private readonly api: ApiClient,
    private readonly onError: (err: unknown) => void,
  ) {
    this.body = requiredElement(document, '#ad-clicks tbody', HTMLTableSectionElement);
    this.total = requiredElement(document, '#ad-clicks-total', HTMLElement);
    this.refresh = throttle(() => void this.load().catch(onError), AD_READS_INTERVAL_MS);
  }

  /** Subscribes to the changes; returns the unsubscribe. */
  subscribe(): () => void {
    return this.api.subscribe(
      AD_CLICKS_UPDATED_SUBSCRIPTION,
      {},
      () => this.refresh(),
      (err: GraphQLRequestError) => this.onError(err),
    );
  }

  /** Reads the last minutes (up to the next minute's start, so the open minute counts) and renders them. */
  async load(): Promise<void> {
    const to = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS + MINUTE_MS;
    const from = to - AD_MINUTES * MINUTE_MS;
    const r = await this.api.request(AD_CLICKS_QUERY, {
      from: new Date(from).toISOString(),
      to: new Date(to).toISOString(),
      limit: AD_LIMIT,
    });
    this.render(r);
    this.reads++;
  }

  private render(r: AdClicks): void {
    const b = r.blockedClicks;
    this.total.textContent = `${int(b.clicks)} counted, ${int(b.blocked)} blocked (${int(b.blockedByUser)} by user, ${int(b.blockedByIp)} by IP)`;
    const rows = r.adClickTotals.map((a) => {
      const tr = document.createElement('tr');
      for (const text of [a.adId, int(a.clicks), int(a.blockedByUser + a.blockedByIp)]) {
        const td = document.createElement('td');
        td.textContent = text;
        tr.append(td);
      }
      tr.lastElementChild?.classList.toggle('ad-blocked', a.blockedByUser + a.blockedByIp > 0);
      return tr;
    });
    this.body.replaceChildren(...rows);
  }
}
