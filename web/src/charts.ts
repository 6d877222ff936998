import { BarChart, LineChart, MapChart } from 'echarts/charts';
import { GridComponent, LegendComponent, TooltipComponent, VisualMapComponent } from 'echarts/components';
import * as echarts from 'echarts/core';
import { CanvasRenderer } from 'echarts/renderers';
import { yuanToFen } from './dashboard-state';
import guangdong from './geo/guangdong.json';
import type { CityStats, HotProduct, RechargeMinute } from './operations';

echarts.use([
  MapChart,
  BarChart,
  LineChart,
  GridComponent,
  LegendComponent,
  TooltipComponent,
  VisualMapComponent,
  CanvasRenderer,
]);

/** The name the province's geometry is registered under. Its features are named like the API's `cityName` (广州市, ...). */
export const MAP_NAME = 'guangdong';
// Shipped with the page (web/src/geo/README.md says where it comes from): never fetched at run time.
echarts.registerMap(MAP_NAME, guangdong as unknown as Parameters<typeof echarts.registerMap>[1]);

const percent = (rate: number) => `${(rate * 100).toFixed(1)}%`;
const yuan = (amount: string) => Number(yuanToFen(amount)) / 100;
const TEXT = '#334155';
const MUTED = '#64748b';

/** The four charts, each an ECharts instance the tests read back through `window.__dashboard.charts`. */
export interface Charts {
  map: echarts.ECharts;
  topCities: echarts.ECharts;
  perMinute: echarts.ECharts;
  hotProducts: echarts.ECharts;
}

export function createCharts(el: {
  map: HTMLElement;
  topCities: HTMLElement;
  perMinute: HTMLElement;
  hotProducts: HTMLElement;
}): Charts {
  const charts: Charts = {
    map: echarts.init(el.map),
    topCities: echarts.init(el.topCities),
    perMinute: echarts.init(el.perMinute),
    hotProducts: echarts.init(el.hotProducts),
  };
  charts.map.setOption({
    tooltip: {
      trigger: 'item',
      formatter: (p: { data?: MapDatum; name: string }) => {
        const d = p.data;
        if (!d) return p.name;
        return `<b>${d.nameEn}</b> ${d.name}<br/>failed: <b>${d.value}</b> of ${d.orders} orders<br/>success rate: ${percent(d.successRate)}`;
      },
    },
    visualMap: {
      type: 'continuous',
      min: 0,
      max: 1,
      text: ['failed', '0'],
      calculable: true,
      // Bottom right is the South China Sea: nothing of the province under it.
      right: 8,
      bottom: 8,
      itemHeight: 110,
      textStyle: { color: MUTED },
      inRange: { color: ['#f1f5f9', '#fde68a', '#f97316', '#b91c1c'] },
    },
    series: [
      {
        type: 'map',
        name: 'failed recharges',
        map: MAP_NAME,
        // The GeoJSON's `name` property is the key: the same Chinese names as `cityName`.
        nameProperty: 'name',
        layoutCenter: ['50%', '50%'],
        layoutSize: '100%',
        label: {
          show: true,
          fontSize: 10,
          color: TEXT,
          // A halo keeps the text readable on the darkest reds.
          textBorderColor: 'rgba(255,255,255,0.85)',
          textBorderWidth: 2,
          formatter: (p: { data?: MapDatum }) =>
            p.data ? (p.data.value > 0 ? `${p.data.nameEn} ${p.data.value}` : p.data.nameEn) : '',
        },
        emphasis: { label: { show: true, fontWeight: 'bold' }, itemStyle: { areaColor: '#93c5fd' } },
        itemStyle: { borderColor: '#ffffff', borderWidth: 0.8 },
        // Short colour transitions: the map is redrawn up to twice a second.
        animationDurationUpdate: 200,
        data: [],
      },
    ],
  });
  charts.topCities.setOption({
    grid: { left: 80, right: 130, top: 8, bottom: 34 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: {
      type: 'value',
      name: 'orders',
      nameLocation: 'middle',
      nameGap: 24,
      minInterval: 1,
      axisLabel: { color: MUTED },
    },
    yAxis: { type: 'category', inverse: true, data: [], axisLabel: { color: TEXT } },
    series: [
      {
        type: 'bar',
        name: 'orders',
        barMaxWidth: 22,
        itemStyle: { color: '#2563eb', borderRadius: [0, 4, 4, 0] },
        label: {
          show: true,
          position: 'right',
          color: TEXT,
          formatter: (p: { data: TopCityDatum }) => `${p.data.value} · ${percent(p.data.successRate)} success`,
        },
        data: [],
      },
    ],
  });
  charts.perMinute.setOption({
    grid: { left: 48, right: 64, top: 34, bottom: 28 },
    legend: { top: 0, textStyle: { color: TEXT } },
    tooltip: { trigger: 'axis' },
    xAxis: { type: 'time', axisLabel: { color: MUTED, hideOverlap: true } },
    yAxis: [
      { type: 'value', name: 'orders', minInterval: 1, axisLabel: { color: MUTED } },
      { type: 'value', name: 'yuan', position: 'right', splitLine: { show: false }, axisLabel: { color: MUTED } },
    ],
    series: [
      { type: 'bar', name: 'orders', yAxisIndex: 0, itemStyle: { color: '#2563eb' }, data: [] },
      { type: 'bar', name: 'failed', yAxisIndex: 0, barGap: '-100%', itemStyle: { color: '#dc2626' }, data: [] },
      { type: 'line', name: 'amount (¥)', yAxisIndex: 1, showSymbol: false, itemStyle: { color: '#16a34a' }, data: [] },
    ],
  });
  charts.hotProducts.setOption({
    grid: { left: 110, right: 48, top: 8, bottom: 34 },
    tooltip: { trigger: 'axis', axisPointer: { type: 'shadow' } },
    xAxis: {
      type: 'value',
      name: 'clicks',
      nameLocation: 'middle',
      nameGap: 24,
      minInterval: 1,
      axisLabel: { color: MUTED },
    },
    yAxis: { type: 'category', inverse: true, data: [], axisLabel: { color: TEXT } },
    series: [
      {
        type: 'bar',
        name: 'clicks',
        barMaxWidth: 16,
        itemStyle: { color: '#7c3aed', borderRadius: [0, 4, 4, 0] },
        label: { show: true, position: 'right', color: TEXT },
        data: [],
      },
    ],
  });
  window.addEventListener('resize', () => {
    for (const c of Object.values(charts) as echarts.ECharts[]) c.resize();
  });
  return charts;
}

/** A city on the map: `value` is its failed recharges. */
export interface MapDatum {
  name: string;
  value: number;
  cityCode: string;
  nameEn: string;
  orders: number;
  successRate: number;
}

export function renderMap(chart: echarts.ECharts, cities: readonly CityStats[]): void {
  const data: MapDatum[] = cities.map((c) => ({
    name: c.cityName,
    value: c.failed,
    cityCode: c.cityCode,
    nameEn: c.cityNameEn,
    orders: c.orders,
    successRate: c.successRate,
  }));
  const max = Math.max(1, ...data.map((d) => d.value));
  chart.setOption({ visualMap: { max }, series: [{ data }] });
}

export interface TopCityDatum {
  value: number;
  cityCode: string;
  successRate: number;
}

export function renderTopCities(chart: echarts.ECharts, top: readonly CityStats[]): void {
  chart.setOption({
    yAxis: { data: top.map((c) => c.cityNameEn) },
    series: [
      { data: top.map((c): TopCityDatum => ({ value: c.orders, cityCode: c.cityCode, successRate: c.successRate })) },
    ],
  });
}

export function renderPerMinute(chart: echarts.ECharts, minutes: readonly RechargeMinute[]): void {
  const at = (m: RechargeMinute) => Date.parse(m.minuteStart);
  chart.setOption({
    series: [
      { data: minutes.map((m) => [at(m), m.orders]) },
      { data: minutes.map((m) => [at(m), m.failed]) },
      { data: minutes.map((m) => [at(m), yuan(m.amount)]) },
    ],
  });
}

export function renderHotProducts(chart: echarts.ECharts, products: readonly HotProduct[]): void {
  chart.setOption({
    yAxis: { data: products.map((p) => (p.category ? `${p.productId} (${p.category})` : p.productId)) },
    series: [{ data: products.map((p) => ({ value: p.clicks, productId: p.productId })) }],
  });
}
