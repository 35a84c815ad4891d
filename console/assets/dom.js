// Small DOM helpers. Everything is built with createElement and textContent: data from the API is
// never parsed as HTML.

const SVG_NS = 'http://www.w3.org/2000/svg';

function apply(el, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : v);
    else if (k === 'text') el.textContent = String(v);
    else if (k === 'on') for (const [ev, fn] of Object.entries(v)) el.addEventListener(ev, fn);
    else if (k === 'value' && 'value' in el) el.value = String(v);
    else if (k === 'checked' || k === 'disabled' || k === 'selected') el[k] = Boolean(v);
    else if (k === 'style') throw new Error('inline styles are not allowed (CSP): use a class');
    else el.setAttribute(k, v === true ? '' : String(v));
  }
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/** h('button', { class: 'primary', on: { click } }, 'Run') */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** The same for SVG elements. */
export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  append(el, children);
  return el;
}

/** el.append without the "null" text native append makes of null / false children. */
export function add(el, ...children) {
  append(el, children);
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

/** A value from the API as text: null → "—", objects as JSON. */
export function show(v) {
  if (v === null || v === undefined || v === '') return '—';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export function fmtNumber(n, lang) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '—';
  return new Intl.NumberFormat(localeFor(lang)).format(Number(n));
}

/** Exact decimal strings stay exact: only grouped, never turned into floats. */
export function fmtMoney(v) {
  if (v === null || v === undefined) return '—';
  const [int, frac] = String(v).split('.');
  const neg = int.startsWith('-');
  const digits = (neg ? int.slice(1) : int).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `${neg ? '-' : ''}${digits}.${(frac ?? '').padEnd(2, '0')}`;
}

/**
 * The browser's own locale for the page's language (en-US, en-GB, zh-CN, zh-TW...): dates and
 * numbers read as the user's system writes them.
 */
export function localeFor(lang) {
  const langs = globalThis.navigator?.languages?.length ? globalThis.navigator.languages : [globalThis.navigator?.language ?? 'en'];
  const prefix = lang === 'zh' ? 'zh' : 'en';
  return langs.find((l) => l.toLowerCase().startsWith(prefix)) ?? (lang === 'zh' ? 'zh-CN' : 'en');
}

/** An instant in the browser's locale and time zone, the zone named; the ISO instant on hover (timeTitle). */
export function fmtTime(iso, lang) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(localeFor(lang), { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', timeZoneName: 'short' });
}

/** The exact instant and the zone it is shown in, for a title attribute. */
export function timeTitle(iso) {
  if (!iso) return undefined;
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return undefined;
  return `${d.toISOString()} (${Intl.DateTimeFormat().resolvedOptions().timeZone})`;
}

export function fmtDuration(ms) {
  if (ms === null || ms === undefined) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

/** Seconds as the largest sensible unit: 42 s, 3.5 min, 2.1 h, 317 d. */
export function fmtLag(sec) {
  if (sec === null || sec === undefined) return '—';
  if (sec < 60) return `${sec.toFixed(sec < 10 ? 1 : 0)} s`;
  if (sec < 3600) return `${(sec / 60).toFixed(1)} min`;
  if (sec < 86400 * 2) return `${(sec / 3600).toFixed(1)} h`;
  return `${Math.round(sec / 86400)} d`;
}

/** A <table> from column definitions: { label, cell(row) → Node|string, class? }. */
export function table(columns, rows, { rowAttrs, ...attrs } = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { class: c.class, scope: 'col' }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map((c) => h('td', { class: c.class }, c.cell(r)))))),
    ),
  );
}

export function badge(text, kind = '') {
  return h('span', { class: ['badge', kind && `badge-${kind}`] }, text);
}

/** ok/partial/failed/... → a badge kind. */
export function statusKind(status) {
  switch (String(status).toLowerCase()) {
    case 'ok':
    case 'in_sync':
    case 'resolved':
    case 'accepted':
    case 'approved':
    case 'paid':
      return 'ok';
    case 'partial':
    case 'pending':
    case 'running':
    case 'open':
    case 'conflict':
      return 'warn';
    case 'failed':
    case 'error':
    case 'aborted':
    case 'parked':
    case 'rejected':
      return 'bad';
    default:
      return '';
  }
}
