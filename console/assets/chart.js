// A small inline SVG chart of the last runs of a job: rows read and written (bars, left axis) and
// lag (line, right axis; logarithmic when it spans more than two orders of magnitude, as it does
// when a first load reads years-old rows).
import { h, s, fmtLag, fmtNumber, fmtTime } from './dom.js';

const W = 720;
const H = 200;
const M = { top: 14, right: 64, bottom: 28, left: 52 };

function niceMax(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

/** runs: oldest first, each { id, startedAt, status, read, written, lag } (numbers or null). */
export function runChart(runs, { t, lang }) {
  const plotW = W - M.left - M.right;
  const plotH = H - M.top - M.bottom;
  const n = Math.max(runs.length, 1);
  const slot = plotW / n;
  const maxRows = niceMax(Math.max(0, ...runs.map((r) => Math.max(r.read ?? 0, r.written ?? 0))));
  const lags = runs.map((r) => r.lag).filter((v) => typeof v === 'number' && v >= 0);
  const maxLag = Math.max(0, ...lags);
  const minLag = Math.min(...lags.filter((v) => v > 0), maxLag || 1);
  const logScale = lags.length > 0 && maxLag / Math.max(minLag, 0.001) > 100;
  const lagTop = logScale ? Math.log10(1 + maxLag) : niceMax(maxLag);
  const yRows = (v) => M.top + plotH - (v / maxRows) * plotH;
  const yLag = (v) => M.top + plotH - ((logScale ? Math.log10(1 + v) : v) / (lagTop || 1)) * plotH;

  const svg = s('svg', {
    viewBox: `0 0 ${W} ${H}`,
    class: 'chart',
    role: 'img',
    'aria-label': t('chart.aria', { n: runs.length }),
    'data-testid': 'run-chart',
  });
  svg.append(s('title', {}, t('chart.aria', { n: runs.length })));

  // grid and left axis (rows)
  for (let i = 0; i <= 4; i++) {
    const v = (maxRows / 4) * i;
    const y = yRows(v);
    svg.append(s('line', { x1: M.left, x2: W - M.right, y1: y, y2: y, class: 'grid' }));
    svg.append(s('text', { x: M.left - 6, y: y + 4, class: 'axis axis-left' }, fmtNumber(v, lang)));
  }
  svg.append(s('text', { x: 4, y: M.top - 3, class: 'axis-title' }, t('chart.rows')));

  // right axis (lag)
  if (lags.length > 0) {
    const ticks = logScale
      ? [[1, '1 s'], [60, '1 min'], [3600, '1 h'], [86400, '1 d'], [86400 * 30, '30 d'], [86400 * 365, '1 y']].filter(([v]) => v <= maxLag * 1.01)
      : [0, 0.25, 0.5, 0.75, 1].map((f) => [f * lagTop, fmtLag(f * lagTop)]);
    for (const [v, label] of ticks) svg.append(s('text', { x: W - M.right + 6, y: yLag(v) + 4, class: 'axis axis-right' }, label));
    svg.append(s('text', { x: W - 4, y: M.top - 3, class: 'axis-title axis-right-title' }, logScale ? t('chart.lagLog') : t('chart.lag')));
  }

  // bars
  const bw = Math.max(2, Math.min(18, slot / 3));
  runs.forEach((r, i) => {
    const cx = M.left + slot * i + slot / 2;
    const tip = `#${r.id} ${fmtTime(r.startedAt, lang)} · ${r.status} · ${t('chart.read')} ${fmtNumber(r.read ?? 0, lang)} · ${t('chart.written')} ${fmtNumber(r.written ?? 0, lang)} · ${t('chart.lag')} ${fmtLag(r.lag)}`;
    const g = s('g', { class: `run run-${String(r.status).toLowerCase()}` }, s('title', {}, tip));
    const read = r.read ?? 0;
    const written = r.written ?? 0;
    g.append(s('rect', { x: cx - bw, y: yRows(read), width: bw, height: Math.max(0, M.top + plotH - yRows(read)), class: 'bar-read' }));
    g.append(s('rect', { x: cx, y: yRows(written), width: bw, height: Math.max(0, M.top + plotH - yRows(written)), class: 'bar-written' }));
    if (['failed', 'aborted'].includes(String(r.status).toLowerCase())) g.append(s('circle', { cx, cy: M.top + plotH + 6, r: 3, class: 'mark-failed' }));
    svg.append(g);
    const every = Math.ceil(n / 12);
    if (i % every === 0 || i === runs.length - 1) svg.append(s('text', { x: cx, y: H - 8, class: 'axis axis-x' }, `#${r.id}`));
  });

  // lag line
  const pts = runs.map((r, i) => (typeof r.lag === 'number' ? [M.left + slot * i + slot / 2, yLag(r.lag)] : null)).filter(Boolean);
  if (pts.length > 1) svg.append(s('polyline', { points: pts.map((p) => p.join(',')).join(' '), class: 'lag-line' }));
  for (const p of pts) svg.append(s('circle', { cx: p[0], cy: p[1], r: 3, class: 'lag-dot' }));

  svg.append(s('line', { x1: M.left, x2: W - M.right, y1: M.top + plotH, y2: M.top + plotH, class: 'baseline' }));

  const legend = h('div', { class: 'legend' },
    h('span', { class: 'key key-read' }, t('chart.read')),
    h('span', { class: 'key key-written' }, t('chart.written')),
    h('span', { class: 'key key-lag' }, logScale ? t('chart.lagLog') : t('chart.lag')),
  );
  return h('figure', { class: 'chart-box' }, legend, svg);
}
