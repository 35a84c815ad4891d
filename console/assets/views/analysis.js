// Customer analysis dashboard: the Pareto curve of profit contribution, the tier pyramid, the value
// matrix, lifecycle stages and receivables aging, each clickable through to the customer list
// below (#/analysis/<dimension>/<key>) and from there to the customer 360.
import { h, s, add, badge, fmtMoney, table } from '../dom.js';

const W = 360;
const H = 200;

/** Money text → a number for drawing only (figures shown stay the exact text). */
const size = (v) => (v === null || v === undefined ? 0 : Math.max(0, Number(v)));

function paretoChart(curve, ctx) {
  const { t } = ctx;
  const m = { top: 10, right: 10, bottom: 26, left: 36 };
  const pw = W - m.left - m.right;
  const ph = H - m.top - m.bottom;
  const x = (v) => m.left + v * pw;
  const y = (v) => m.top + ph - v * ph;
  const svg = s('svg', { viewBox: `0 0 ${W} ${H}`, class: 'chart chart-small', role: 'img', 'aria-label': t('analysis.pareto'), 'data-testid': 'pareto' });
  for (const g of [0, 0.5, 1]) {
    svg.append(s('line', { class: 'grid', x1: m.left, x2: m.left + pw, y1: y(g), y2: y(g) }));
    svg.append(s('text', { class: 'axis axis-left', x: m.left - 4, y: y(g) + 3 }, `${g * 100}%`));
    svg.append(s('text', { class: 'axis axis-x', x: x(g), y: H - 8 }, `${g * 100}%`));
  }
  // The 80/20 reference.
  svg.append(s('line', { class: 'baseline', x1: x(0.2), x2: x(0.2), y1: y(0), y2: y(1) }));
  const pts = [[0, 0], ...curve.points.map((p) => [Number(p.customerShare), Number(p.cumulativeShare)])];
  svg.append(s('polyline', { class: 'pareto-line', fill: 'none', points: pts.map(([a, b]) => `${x(a).toFixed(1)},${y(b).toFixed(1)}`).join(' ') }));
  for (const p of curve.points) {
    const a = s('a', { href: `#/customers/${encodeURIComponent(p.customerId)}`, 'data-testid': 'pareto-point' },
      s('circle', { class: 'pareto-point', cx: x(Number(p.customerShare)).toFixed(1), cy: y(Number(p.cumulativeShare)).toFixed(1), r: 3 }),
      s('title', {}, `${p.rank}. ${p.name ?? p.customerId}: ${fmtMoney(p.profit)} (${(Number(p.cumulativeShare) * 100).toFixed(1)}%)`),
    );
    svg.append(a);
  }
  return svg;
}

/** Horizontal bars, each a link to the list filtered by its key. */
function bars(rows, { label, value, href, testid, text }) {
  const rowH = 24;
  const lw = 100;
  const bw = W - lw - 150;
  const max = Math.max(1, ...rows.map(value));
  const svg = s('svg', { viewBox: `0 0 ${W} ${Math.max(rowH, rows.length * rowH)}`, class: 'chart chart-small', role: 'img', 'data-testid': testid });
  rows.forEach((r, i) => {
    const yy = i * rowH;
    const wv = Math.max(1, (value(r) / max) * bw);
    svg.append(
      s('a', { href: href(r), 'data-testid': `${testid}-${r.key ?? 'none'}` },
        s('text', { class: 'axis', x: 0, y: yy + 16 }, label(r)),
        s('rect', { class: 'bar-read', x: lw, y: yy + 5, width: wv.toFixed(1), height: rowH - 10 }),
        s('text', { class: 'axis', x: lw + wv + 4, y: yy + 16 }, text(r)),
      ),
    );
  });
  return svg;
}

function panel(title, body, testid) {
  return h('section', { class: 'panel analysis-panel', 'data-testid': testid }, h('h2', {}, title), body);
}

const DIMENSIONS = ['tier', 'stage', 'quadrant', 'segment'];

export default {
  id: 'analysis',
  async render(ctx) {
    const { t } = ctx;
    const [dim, key] = ctx.args;
    const where =
      dim === 'overdue' ? { overdue: true } : DIMENSIONS.includes(dim) && key ? { [dim]: [dim === 'stage' || dim === 'quadrant' ? key.toUpperCase() : key] } : {};
    const d = await ctx.gql(`query($w: CustomerAnalysisWhere) {
      analysisStatus { lastRefresh asOf thresholds { currentValue potentialValue } }
      tiers: analysisDistribution(by: TIER) { key customers profit }
      stages: analysisDistribution(by: STAGE) { key customers }
      quadrants: analysisDistribution(by: QUADRANT) { key customers }
      all: analysisDistribution(by: ALL) { customers receivable overdue aging { days0To30 days31To60 days61To90 over90 } }
      paretoCurve(first: 1000) { totalProfit customers points { rank customerId name profit cumulativeShare customerShare } }
      customerAnalyses(where: $w, first: 100) {
        totalCount
        nodes { customerId name analysis { tier rfm { r f m segment } lifecycle { stage } valueQuadrant contribution { profit } credit { receivable overdue overLimit } } }
      }
    }`, { w: where });
    const st = d.analysisStatus;
    if (!st.lastRefresh) {
      add(ctx.root, h('header', { class: 'view-head' }, h('h1', {}, t('nav.analysis'))), h('p', { class: 'empty', 'data-testid': 'no-analysis' }, t('analysis.never')));
      return;
    }
    const all = d.all[0];
    const tierOrder = (k) => ['vip', 'major', 'ordinary', 'small', 'A', 'B', 'C'].indexOf(k);
    const tiers = [...d.tiers].sort((a, b) => tierOrder(a.key) - tierOrder(b.key));
    const stageOrder = ['PROSPECT', 'NEW', 'GROWING', 'MATURE', 'DECLINING', 'LAPSED'];
    const stages = [...d.stages].sort((a, b) => stageOrder.indexOf(a.key) - stageOrder.indexOf(b.key));
    const quad = new Map(d.quadrants.map((q) => [q.key, q.customers]));
    const aging = all
      ? ['days0To30', 'days31To60', 'days61To90', 'over90'].map((k) => ({ key: k, value: all.aging[k] }))
      : [];
    const cell = (q) =>
      h('a', { class: ['quadrant', `quadrant-${q.toLowerCase()}`], href: `#/analysis/quadrant/${q.toLowerCase()}`, 'data-testid': `quadrant-${q}` },
        h('b', {}, t(`analysis.quadrant.${q}`)), h('span', {}, String(quad.get(q) ?? 0)));

    add(ctx.root,
      h('header', { class: 'view-head' },
        h('h1', {}, t('nav.analysis')),
        h('p', { class: 'muted' }, t('analysis.intro', { asOf: st.asOf, n: all?.customers ?? 0 })),
      ),
      h('div', { class: 'analysis-grid' },
        panel(t('analysis.pareto'), h('div', {},
          paretoChart(d.paretoCurve, ctx),
          h('p', { class: 'muted small' }, t('analysis.paretoNote', { total: fmtMoney(d.paretoCurve.totalProfit), n: d.paretoCurve.customers })),
        ), 'panel-pareto'),
        panel(t('analysis.tiers'), bars(tiers, {
          label: (r) => r.key ?? '—', value: (r) => r.customers, href: (r) => `#/analysis/tier/${encodeURIComponent(r.key ?? '')}`, testid: 'tier', text: (r) => `${r.customers} · ${fmtMoney(r.profit)}`,
        }), 'panel-tiers'),
        panel(t('analysis.matrix'), h('div', {},
          h('div', { class: 'matrix' }, cell('DEVELOP'), cell('KEEP'), cell('REDUCE'), cell('MAINTAIN')),
          h('p', { class: 'muted small' }, t('analysis.thresholds', { current: fmtMoney(st.thresholds?.currentValue), potential: fmtMoney(st.thresholds?.potentialValue) })),
        ), 'panel-matrix'),
        panel(t('analysis.lifecycle'), bars(stages, {
          label: (r) => t(`analysis.stage.${r.key}`), value: (r) => r.customers, href: (r) => `#/analysis/stage/${String(r.key).toLowerCase()}`, testid: 'stage', text: (r) => String(r.customers),
        }), 'panel-stages'),
        panel(t('analysis.aging'), h('div', {},
          bars(aging, { label: (r) => t(`analysis.aging.${r.key}`), value: (r) => size(r.value), href: () => '#/analysis/overdue/yes', testid: 'aging', text: (r) => fmtMoney(r.value) }),
          h('p', { class: 'muted small' }, t('analysis.receivable', { receivable: fmtMoney(all?.receivable), overdue: fmtMoney(all?.overdue) })),
        ), 'panel-aging'),
      ),
      h('h2', {}, dim ? t('analysis.listFiltered', { what: `${dim}: ${key}` }) : t('analysis.list'), ' ', h('span', { class: 'muted', 'data-testid': 'analysis-count' }, String(d.customerAnalyses.totalCount)),
        dim ? h('a', { href: '#/analysis', class: 'small', 'data-testid': 'analysis-clear' }, ' ', t('analysis.clear')) : null),
      table(
        [
          { label: t('analysis.customer'), cell: (n) => h('a', { href: `#/customers/${encodeURIComponent(n.customerId)}` }, n.name ?? n.customerId) },
          { label: t('analysis.tier'), cell: (n) => n.analysis.tier ?? '—' },
          { label: 'RFM', cell: (n) => (n.analysis.rfm.r === null ? '—' : `${n.analysis.rfm.r}${n.analysis.rfm.f}${n.analysis.rfm.m} ${n.analysis.rfm.segment ?? ''}`) },
          { label: t('analysis.stage'), cell: (n) => t(`analysis.stage.${n.analysis.lifecycle.stage}`) },
          { label: t('analysis.quadrant'), cell: (n) => (n.analysis.valueQuadrant ? t(`analysis.quadrant.${n.analysis.valueQuadrant}`) : '—') },
          { label: t('analysis.profit'), class: 'num', cell: (n) => fmtMoney(n.analysis.contribution?.profit) },
          { label: t('analysis.receivableCol'), class: 'num', cell: (n) => fmtMoney(n.analysis.credit?.receivable) },
          { label: t('analysis.overdue'), class: 'num', cell: (n) => fmtMoney(n.analysis.credit?.overdue) },
          { label: '', cell: (n) => (n.analysis.credit?.overLimit ? badge(t('analysis.overLimit'), 'bad') : null) },
        ],
        d.customerAnalyses.nodes,
        { class: 'compact', 'data-testid': 'analysis-table' },
      ),
    );
  },
};
