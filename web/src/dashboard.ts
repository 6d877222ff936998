import { AdClicksPanel } from './ad-clicks-panel';
import { ApiClient, GraphQLRequestError, type ConnectionEvent } from './api-client';
import { createCharts, renderHotProducts, renderMap, renderPerMinute, renderTopCities, type Charts } from './charts';
import { ConnectionIndicator } from './connection-indicator';
import { AbnormalFeed, CityBoard, lastHour, provinceTotals, throttle, topCities } from './dashboard-state';
import { FeedView } from './feed-view';
import {
  ABNORMAL_USER_SUBSCRIPTION,
  CITY_METRICS_SUBSCRIPTION,
  FEED_PAGE,
  HOT_LIMIT,
  HOT_PRODUCTS_SUBSCRIPTION,
  SET_CALLBACK_STATUS,
  STATUS_BATCH_MAX,
  SNAPSHOT_QUERY,
  usersQuery,
  WINDOW_READS_QUERY,
  type AbnormalUser,
  type AbnormalUserDetection,
  type CallbackStatus,
  type CityMetricsEvent,
  type DailyActiveUsers,
  type HotProduct,
  type HotProductsUpdate,
} from './operations';
import { requiredElement } from './required-element';

/** Least time between two reads of the minutes and active users triggered by events, milliseconds. */
export const WINDOW_READS_INTERVAL_MS = 2_000;
/**
 * Least time between two redraws of the map, top cities and totals,
 * milliseconds: `cityMetricsUpdated` sends up to one event per city per
 * second (21 a second in a busy province), and redrawing the map for each
 * would keep a laptop's CPU busy.
 */
export const CITY_REDRAW_INTERVAL_MS = 500;
/** Detections within this many milliseconds share one read of their users' callback status. */
const STATUS_BATCH_MS = 250;
/** Length of the hot-products ranking's hour and step of its boundaries, milliseconds (the hour ranked by `hotProducts`, refreshed every 5 minutes). */
const HOUR_MS = 3_600_000;
const RANKING_STEP_MS = 300_000;

const $ = (selector: string): HTMLElement => requiredElement(document, selector, HTMLElement);
const clock = (ms: number) =>
  new Date(ms).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit', hour12: false });
const int = (n: number) => n.toLocaleString('en-US');

/** What the page exposes as `window.__dashboard` for the browser test (and for curious operators in the console). */
export interface DashboardHandle {
  charts: Charts;
  /** True once the first snapshot is on screen. */
  ready: boolean;
  /** Snapshots loaded (1 at start, +1 after each reconnection or new day). */
  snapshots: number;
  /** Subscription events received, by subscription. */
  events: { cityMetricsUpdated: number; hotProductsUpdated: number; abnormalUserDetected: number };
  connection: ConnectionIndicator;
  /** The last error shown in the banner, if any. */
  lastError: string | null;
}

/**
 * The live dashboard: one snapshot read, then the three subscriptions keep it
 * current (see README, "Dashboard"). Resolves `unauthorized` when the service
 * refuses the key, so the caller can ask for another.
 */
export class Dashboard {
  private readonly api: ApiClient;
  private readonly board = new CityBoard();
  private readonly feed = new AbnormalFeed();
  private readonly feedView: FeedView;
  private readonly ads: AdClicksPanel;
  private readonly charts: Charts;
  private readonly indicator: ConnectionIndicator;
  readonly handle: DashboardHandle;
  private hotWindowEnd = 0;
  private dau: DailyActiveUsers | null = null;
  private readonly pendingStatus = new Set<string>();
  private statusTimer: ReturnType<typeof setTimeout> | null = null;
  private readonly refreshWindowReads: () => void;
  private readonly redrawCities: () => void;
  private unsubscribe: (() => void)[] = [];
  private loading: Promise<void> | null = null;
  /** The service's today (TIME_ZONE), from the last read. */
  private today = '';
  /** Cursor of the last city event: a reconnection resumes after it (null: start with a snapshot). */
  private cityCursor: string | null = null;
  /** The next SNAPSHOT event replaces the board (a new snapshot started). */
  private freshSnapshot = true;
  /** The snapshot query was read, and the cities' snapshot is complete (an event other than SNAPSHOT followed it). */
  private snapshotRead = false;
  private citiesComplete = false;
  private unsubscribeCities: () => void = () => undefined;

  constructor(
    apiKey: string,
    private readonly onUnauthorized: (message: string) => void,
  ) {
    this.indicator = new ConnectionIndicator($('#connection'));
    this.charts = createCharts({
      map: $('#map'),
      topCities: $('#top-cities'),
      perMinute: $('#per-minute'),
      hotProducts: $('#hot-products'),
    });
    this.api = new ApiClient(apiKey, (e) => this.onConnection(e));
    this.feedView = new FeedView(
      requiredElement(document, '#feed tbody', HTMLTableSectionElement),
      (uid, status) => this.setStatus(uid, status),
      (user) => this.feed.update(user),
    );
    this.ads = new AdClicksPanel(this.api, (err) => this.fail(err));
    this.redrawCities = throttle(() => this.renderCities(), CITY_REDRAW_INTERVAL_MS);
    this.refreshWindowReads = throttle(
      () => void this.loadWindowReads().catch((err: unknown) => this.fail(err)),
      WINDOW_READS_INTERVAL_MS,
    );
    this.handle = {
      charts: this.charts,
      ready: false,
      snapshots: 0,
      events: { cityMetricsUpdated: 0, hotProductsUpdated: 0, abnormalUserDetected: 0 },
      connection: this.indicator,
      lastError: null,
    };
  }

  /**
   * Subscribes first, then reads the rest, so nothing committed in between is missed (events merge monotonically).
   * The cities come from their subscription alone: a snapshot first, then changes, resumed by cursor.
   */
  async start(): Promise<void> {
    const onError = (err: GraphQLRequestError) => this.fail(err);
    this.subscribeCities();
    this.unsubscribe = [
      () => this.unsubscribeCities(),
      this.api.subscribe(
        HOT_PRODUCTS_SUBSCRIPTION,
        { limit: HOT_LIMIT },
        (d) => this.onHotProducts(d.hotProductsUpdated),
        onError,
      ),
      this.api.subscribe(ABNORMAL_USER_SUBSCRIPTION, {}, (d) => this.onAbnormalUser(d.abnormalUserDetected), onError),
      this.ads.subscribe(),
    ];
    await this.loadSnapshot();
  }

  /** (Re)subscribes to the cities: with the last cursor when there is one, else with a snapshot. */
  private subscribeCities(): void {
    this.unsubscribeCities();
    this.freshSnapshot = true;
    this.unsubscribeCities = this.api.subscribe(
      CITY_METRICS_SUBSCRIPTION,
      () => (this.cityCursor === null ? { snapshot: true, after: null } : { snapshot: null, after: this.cityCursor }),
      (d) => this.onCityMetrics(d.cityMetricsUpdated),
      (err) => {
        // Away longer than the change log keeps: start again from a snapshot.
        if (err.code === 'CURSOR_EXPIRED') {
          this.cityCursor = null;
          setTimeout(() => this.subscribeCities(), 0);
          return;
        }
        this.fail(err);
      },
    );
  }

  async stop(): Promise<void> {
    for (const u of this.unsubscribe) u();
    await this.api.dispose();
  }

  /** Reads everything again (at start, after a reconnection, at a new day); concurrent calls share one read. */
  private loadSnapshot(): Promise<void> {
    this.loading ??= (async () => {
      try {
        const snap = await this.api.request(SNAPSHOT_QUERY, { hotLimit: HOT_LIMIT, feedPage: FEED_PAGE });
        this.today = snap.rechargeSummary.date;
        this.hotWindowEnd = Math.floor(Date.now() / RANKING_STEP_MS) * RANKING_STEP_MS;
        this.renderHot(snap.hotProducts, this.hotWindowEnd);
        this.feed.reset(snap.unpaidUsers.edges.map((e) => e.node));
        this.feedView.render(this.feed.list());
        this.renderFeedTotal(snap.unpaidUsers.totalCount);
        await Promise.all([this.loadWindowReads(), this.ads.load()]);
        this.handle.snapshots++;
        this.snapshotRead = true;
        this.markReady();
        this.clearError();
      } catch (err) {
        this.fail(err);
      } finally {
        this.loading = null;
      }
    })();
    return this.loading;
  }

  /** The reads no subscription carries: the last hour's minutes and today's active users. */
  private async loadWindowReads(): Promise<void> {
    const { from, to } = lastHour(Date.now());
    const r = await this.api.request(WINDOW_READS_QUERY, { from, to, date: this.board.date || this.today });
    renderPerMinute(this.charts.perMinute, r.rechargePerMinute);
    const minuteOrders = r.rechargePerMinute.reduce((n, m) => n + m.orders, 0);
    $('#per-minute-total').textContent = `${int(minuteOrders)} orders in the last hour`;
    this.dau = r.dailyActiveUsers[0] ?? null;
    this.renderKpis();
  }

  private onConnection(e: ConnectionEvent): void {
    this.indicator.on(e);
    // Events published while the socket was down are gone: read the state again. Also when the first read
    // failed (the service was down when the page opened): the connection says it is reachable now.
    if (e.kind === 'connected' && (e.retry || !this.handle.ready)) void this.loadSnapshot();
  }

  /** Ready once the first snapshot, the cities' included, is on screen. */
  private markReady(): void {
    if (this.snapshotRead && this.citiesComplete) this.handle.ready = true;
  }

  private onCityMetrics(event: CityMetricsEvent): void {
    this.handle.events.cityMetricsUpdated++;
    this.cityCursor = event.cursor;
    if (event.kind !== 'SNAPSHOT' && !this.citiesComplete) {
      this.citiesComplete = true;
      this.markReady();
    }
    if (event.kind === 'PROGRESS') return;
    const { kind, cursor: _cursor, ...stats } = event;
    if (kind === 'SNAPSHOT' && this.freshSnapshot) {
      this.freshSnapshot = false;
      this.board.reset(stats.date, []);
    }
    let outcome = this.board.apply(stats);
    if (outcome === 'new-day') {
      // Midnight passed: the new day starts from zero, and its other reads start again.
      this.board.reset(stats.date, []);
      outcome = this.board.apply(stats);
      void this.loadSnapshot();
    }
    if (outcome === 'applied') this.redrawCities();
    if (kind === 'CHANGE' && this.handle.ready) this.refreshWindowReads();
  }

  private onHotProducts(update: HotProductsUpdate): void {
    this.handle.events.hotProductsUpdated++;
    const end = Date.parse(update.windowEnd);
    if (end < this.hotWindowEnd) return; // an older boundary than the one shown
    this.hotWindowEnd = end;
    this.renderHot(update.products, end);
    this.refreshWindowReads();
  }

  private onAbnormalUser(detection: AbnormalUserDetection): void {
    this.handle.events.abnormalUserDetected++;
    const unknownStatus = this.feed.detect(detection);
    this.feedView.render(this.feed.list());
    if (unknownStatus) this.queueStatusRead(detection.uid);
    this.refreshWindowReads();
  }

  /** A detection carries no callback status: read those of a burst of new users in one request. */
  private queueStatusRead(uid: string): void {
    this.pendingStatus.add(uid);
    this.statusTimer ??= setTimeout(() => {
      this.statusTimer = null;
      const uids = [...this.pendingStatus].slice(0, STATUS_BATCH_MAX);
      for (const u of uids) this.pendingStatus.delete(u);
      if (this.pendingStatus.size > 0) this.queueStatusRead([...this.pendingStatus][0]);
      const vars = Object.fromEntries(uids.map((u, i) => [`u${i}`, u]));
      this.api
        .request(usersQuery(uids.length), vars)
        .then((result) => {
          uids.forEach((_, i) => {
            const user = result[`u${i}`];
            if (user) this.feed.update(user);
          });
          this.feedView.render(this.feed.list());
          this.renderFeedTotal(result.total.totalCount);
        })
        .catch((err: unknown) => this.fail(err));
    }, STATUS_BATCH_MS);
  }

  private async setStatus(uid: string, status: CallbackStatus): Promise<AbnormalUser> {
    const r = await this.api.request(SET_CALLBACK_STATUS, { uid, status });
    return r.setCallbackStatus;
  }

  private renderCities(): void {
    const cities = this.board.cities();
    renderMap(this.charts.map, cities);
    renderTopCities(this.charts.topCities, topCities(cities));
    const failed = cities.reduce((n, c) => n + c.failed, 0);
    $('#map-total').textContent = `${int(failed)} failed today · ${this.board.date}`;
    this.renderKpis();
  }

  private renderHot(products: readonly HotProduct[], windowEndMs: number): void {
    renderHotProducts(this.charts.hotProducts, products);
    $('#hot-window').textContent = `${clock(windowEndMs - HOUR_MS)}–${clock(windowEndMs)}`;
  }

  private renderFeedTotal(total: number): void {
    $('#feed-total').textContent = `${int(total)} flagged in total`;
  }

  private renderKpis(): void {
    const t = provinceTotals(this.board.cities());
    const set = (id: string, text: string) => {
      $(`#${id}`).textContent = text;
    };
    set('kpi-active-users', this.dau ? int(this.dau.activeUsers) : '–');
    set('kpi-new-users', this.dau ? int(this.dau.newUsers) : '–');
    set('kpi-orders', int(t.orders));
    set('kpi-failed', int(t.failed));
    set('kpi-success-rate', t.orders ? `${(t.successRate * 100).toFixed(1)}%` : '–');
    set(
      'kpi-amount',
      `¥${Number(t.amount).toLocaleString('en-US', { minimumFractionDigits: 2, maximumFractionDigits: 2 })}`,
    );
    $('#kpi-amount').title = `${t.amount} yuan (exact)`;
    set('kpi-duration', t.orders ? `${(t.avgDurationMs / 1000).toFixed(1)} s` : '–');
  }

  private fail(err: unknown): void {
    const e = err instanceof GraphQLRequestError ? err : new GraphQLRequestError(String(err), 'ERROR');
    if (e.code === 'UNAUTHENTICATED') {
      this.onUnauthorized(e.message);
      return;
    }
    this.handle.lastError = `${e.code}: ${e.message}`;
    const banner = $('#error-banner');
    banner.textContent = this.handle.lastError;
    banner.hidden = false;
  }

  private clearError(): void {
    this.handle.lastError = null;
    $('#error-banner').hidden = true;
  }
}
