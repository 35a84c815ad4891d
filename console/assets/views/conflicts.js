// Conflicts: filters (entity, source, field), each conflict's base, each side's value, the rule and
// why; keep one side or enter a value; bulk resolution with a preview of what each would keep.
import { h, add, badge, statusKind, show, fmtTime, table } from '../dom.js';
import { conflictReason } from '../server-text.js';
import { gqlString } from '../api.js';

const PAGE = 500;
const CAP = 5000;

const FIELDS = 'id job entity recordId field base values { side value } rule reason status resolution resolvedBy createdAt resolvedAt';

async function loadAll(ctx, status) {
  const out = [];
  let after = null;
  for (;;) {
    const d = await ctx.gql(`query($s: ConflictStatus, $a: String) { conflicts(status: $s, first: ${PAGE}, after: $a) { totalCount nodes { ${FIELDS} } pageInfo { hasNextPage endCursor } } }`, { s: status, a: after });
    out.push(...d.conflicts.nodes);
    if (!d.conflicts.pageInfo.hasNextPage || out.length >= CAP) return { nodes: out, total: d.conflicts.totalCount };
    after = d.conflicts.pageInfo.endCursor;
  }
}

async function names(ctx, ids) {
  const unique = [...new Set(ids)];
  const out = new Map();
  for (let i = 0; i < unique.length; i += 100) {
    const d = await ctx.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { code name } } }', { ids: unique.slice(i, i + 100) });
    for (const n of d.nodes) if (n) out.set(n.id, n);
  }
  return out;
}

/** Parse what a person typed: JSON when it parses (numbers, null, "quoted"), else the text. */
function parseTyped(text) {
  const s = text.trim();
  if (s === '') return null;
  try {
    return JSON.parse(s);
  } catch {
    return text;
  }
}

export default {
  id: 'conflicts',
  async render(ctx) {
    const { t } = ctx;
    const q = new URLSearchParams(ctx.args[0] ?? '');
    const filter = { status: q.get('status') ?? 'OPEN', entity: q.get('entity') ?? '', source: q.get('source') ?? '', field: q.get('field') ?? '', record: q.get('record') ?? '' };
    const { nodes, total } = await loadAll(ctx, filter.status);
    const who = await names(ctx, nodes.map((c) => c.recordId)).catch(() => new Map());

    const entities = [...new Set(nodes.map((c) => c.entity))].sort();
    const sources = [...new Set(nodes.flatMap((c) => c.values.map((v) => v.side)).filter((s) => s !== 'hub'))].sort();
    const fields = [...new Set(nodes.map((c) => c.field))].sort();
    const shown = nodes.filter(
      (c) =>
        (!filter.entity || c.entity === filter.entity) &&
        (!filter.source || c.values.some((v) => v.side === filter.source)) &&
        (!filter.field || c.field === filter.field) &&
        (!filter.record || c.recordId === filter.record),
    );
    const selected = new Set();

    const setFilter = (k, v) => {
      const next = { ...filter, [k]: v };
      const params = new URLSearchParams(Object.entries(next).filter(([, val]) => val));
      ctx.navigate(`#/conflicts/${params.toString()}`);
    };
    const select = (k, label, options, render = (o) => o) =>
      h('label', { class: 'filter' }, label,
        h('select', { 'data-testid': `filter-${k}`, on: { change: (ev) => setFilter(k, ev.target.value) } },
          options.map((o) => h('option', { value: o, selected: filter[k] === o }, o === '' ? t('filter.all') : render(o))),
        ),
      );

    const recordCell = (c) => {
      const n = who.get(c.recordId);
      return h('div', {}, h('a', { href: `#/customers/${encodeURIComponent(c.recordId)}` }, n?.name ?? c.recordId), h('div', { class: 'muted small' }, n?.code ?? '', ' ', c.entity));
    };
    const label = (c) => `${who.get(c.recordId)?.name ?? c.recordId} · ${c.field}`;

    const resolveOne = async (c, keep, value) => {
      const shownValue = keep === 'value' ? value : c.values.find((v) => v.side === keep)?.value;
      const ok = await ctx.confirm({
        title: t('conflicts.confirmTitle'),
        body: h('div', {},
          h('p', {}, keep === 'value' ? t('conflicts.confirmValue', { what: label(c) }) : t('conflicts.confirmKeep', { side: keep, what: label(c) })),
          h('p', { class: 'big-value' }, show(shownValue)),
          h('p', { class: 'muted' }, t('conflicts.pushedNext')),
        ),
        ok: t('conflicts.resolve'),
        testid: 'confirm-resolve',
      });
      if (!ok) return;
      const vars = keep === 'value' ? { id: c.id, value } : { id: c.id, keep };
      const r = await ctx.gql(
        keep === 'value' ? 'mutation($id: ID!, $value: JSON) { resolveConflict(id: $id, value: $value) { id status resolution } }' : 'mutation($id: ID!, $keep: String) { resolveConflict(id: $id, keep: $keep) { id status resolution } }',
        vars,
      );
      ctx.toast(t('conflicts.resolved', { what: label(c), value: show(r.resolveConflict.resolution?.value) }), 'ok');
      await ctx.refreshBadges();
      if (ctx.current()) ctx.rerender();
    };

    const sideCell = (c) =>
      h('div', { class: 'sides' },
        c.values.map((v) =>
          h('div', { class: ['side', c.resolution?.keep === v.side && 'kept'] },
            h('span', { class: 'side-name' }, v.side === 'hub' ? t('conflicts.hub') : v.side),
            h('span', { class: 'side-value' }, show(v.value)),
            c.status === 'OPEN' ? ctx.actionButton(t('conflicts.keep'), { kind: 'small', testid: `keep-${c.id}-${v.side}`, onClick: () => resolveOne(c, v.side) }) : null,
          ),
        ),
      );

    const manualCell = (c) => {
      if (c.status !== 'OPEN') {
        return h('div', { class: 'small' }, badge(t(`conflicts.status.${c.status}`, {}, c.status.toLowerCase()), statusKind(c.status)), ' ', c.resolution ? `${c.resolution.keep === 'value' ? t('conflicts.entered') : c.resolution.keep} → ${show(c.resolution.value)}` : '', h('div', { class: 'muted' }, c.resolvedBy ?? '', ' ', fmtTime(c.resolvedAt, ctx.lang)));
      }
      const input = h('input', { type: 'text', class: 'value-input', placeholder: t('conflicts.valuePlaceholder'), 'aria-label': t('conflicts.enterValue'), 'data-testid': `value-${c.id}`, disabled: !ctx.canWrite });
      return h('div', { class: 'manual' }, input, ctx.actionButton(t('conflicts.useValue'), { kind: 'small', testid: `use-value-${c.id}`, onClick: () => resolveOne(c, 'value', parseTyped(input.value)) }));
    };

    // ---- bulk
    const count = h('span', { 'data-testid': 'selected-count' }, t('conflicts.selected', { n: 0 }));
    const keepSelect = h('select', { 'data-testid': 'bulk-keep', 'aria-label': t('conflicts.bulkKeep') }, h('option', { value: 'hub' }, t('conflicts.hub')), sources.map((s) => h('option', { value: s }, s)));
    const previewButton = ctx.actionButton(t('conflicts.preview'), {
      kind: 'primary',
      testid: 'bulk-preview',
      onClick: async () => {
        const chosen = shown.filter((c) => selected.has(c.id));
        if (chosen.length === 0) {
          ctx.toast(t('conflicts.selectFirst'), 'info');
          return;
        }
        const keep = keepSelect.value;
        const plan = chosen.map((c) => {
          const side = c.values.find((v) => v.side === keep);
          return { c, ok: Boolean(side), value: side?.value };
        });
        const doable = plan.filter((p) => p.ok);
        const choice = await ctx.dialog({
          title: t('conflicts.previewTitle', { n: chosen.length, side: keep === 'hub' ? t('conflicts.hub') : keep }),
          wide: true,
          testid: 'bulk-dialog',
          body: h('div', {},
            h('p', { class: 'notice' }, t('conflicts.previewNotice')),
            table(
              [
                { label: t('conflicts.record'), cell: (p) => recordCell(p.c) },
                { label: t('conflicts.field'), cell: (p) => h('code', {}, p.c.field) },
                { label: t('conflicts.current'), cell: (p) => show(p.c.values.find((v) => v.side === 'hub')?.value) },
                { label: t('conflicts.willKeep'), cell: (p) => (p.ok ? h('b', {}, show(p.value)) : h('span', { class: 'error-text' }, t('conflicts.noSide', { side: keep }))) },
              ],
              plan,
              { class: 'compact', 'data-testid': 'bulk-preview-table' },
            ),
          ),
          actions: [
            { label: t('action.cancel'), value: false },
            { label: t('conflicts.applyN', { n: doable.length }), value: true, kind: 'primary', testid: 'bulk-apply', disabled: doable.length === 0 },
          ],
        });
        if (choice !== true) return;
        let done = 0;
        const failures = [];
        for (let i = 0; i < doable.length; i += 25) {
          const part = doable.slice(i, i + 25);
          const m = part.map((p, j) => `r${j}: resolveConflict(id: ${gqlString(p.c.id)}, keep: ${gqlString(keep)}) { id status }`).join('\n');
          const r = await ctx.gqlRaw(`mutation {\n${m}\n}`);
          part.forEach((p, j) => {
            if (r.data?.[`r${j}`]?.status === 'RESOLVED') done++;
          });
          for (const e of r.errors) failures.push(e.message);
        }
        ctx.toast(t('conflicts.bulkDone', { n: done, failed: failures.length }) + (failures.length ? ` ${failures[0]}` : ''), failures.length ? 'error' : 'ok');
        await ctx.refreshBadges();
        if (ctx.current()) ctx.rerender();
      },
    });
    const updateCount = () => {
      count.textContent = t('conflicts.selected', { n: selected.size });
    };
    const allBox = h('input', { type: 'checkbox', 'aria-label': t('conflicts.selectAll'), 'data-testid': 'select-all', disabled: !ctx.canWrite });
    const boxes = new Map();
    allBox.addEventListener('change', () => {
      for (const [id, box] of boxes) {
        box.checked = allBox.checked;
        if (allBox.checked) selected.add(id);
        else selected.delete(id);
      }
      updateCount();
    });
    const boxFor = (c) => {
      if (c.status !== 'OPEN') return '';
      const box = h('input', { type: 'checkbox', 'aria-label': t('conflicts.select', { what: label(c) }), 'data-testid': `select-${c.id}`, disabled: !ctx.canWrite });
      box.addEventListener('change', () => {
        if (box.checked) selected.add(c.id);
        else selected.delete(c.id);
        updateCount();
      });
      boxes.set(c.id, box);
      return box;
    };

    add(ctx.root, 
      h('header', { class: 'view-head' }, h('h1', {}, t('nav.conflicts')), h('p', { class: 'muted' }, t('conflicts.intro'))),
      h('div', { class: 'toolbar' },
        select('status', t('filter.status'), ['OPEN', 'RESOLVED', 'ALL'], (o) => t(`conflicts.status.${o}`)),
        select('entity', t('filter.entity'), ['', ...entities]),
        select('source', t('filter.source'), ['', ...sources]),
        select('field', t('filter.field'), ['', ...fields]),
        filter.record ? h('span', { class: 'chip' }, who.get(filter.record)?.name ?? filter.record, h('button', { class: 'icon', 'aria-label': t('filter.clear'), on: { click: () => setFilter('record', '') } }, '×')) : null,
        h('span', { class: 'muted', 'data-testid': 'conflict-count' }, t('conflicts.count', { shown: shown.length, total })),
      ),
      filter.status !== 'RESOLVED'
        ? h('div', { class: 'toolbar bulk' }, count, h('label', { class: 'filter' }, t('conflicts.bulkKeep'), keepSelect), previewButton)
        : null,
      shown.length === 0
        ? h('p', { class: 'empty', 'data-testid': 'no-conflicts' }, t('conflicts.none'))
        : table(
            [
              { label: allBox, class: 'check', cell: boxFor },
              { label: t('conflicts.record'), cell: recordCell },
              { label: t('conflicts.field'), cell: (c) => h('code', {}, c.field) },
              { label: t('conflicts.base'), cell: (c) => h('span', { class: 'base' }, c.base === null ? t('conflicts.noBase') : show(c.base)) },
              { label: t('conflicts.values'), cell: sideCell },
              { label: t('conflicts.rule'), cell: (c) => h('div', {}, h('code', {}, c.rule), h('div', { class: 'muted small' }, c.job)) },
              { label: t('conflicts.reason'), class: 'reason', cell: (c) => h('span', { title: c.reason }, conflictReason(c), h('div', { class: 'muted small' }, fmtTime(c.createdAt, ctx.lang))) },
              { label: t('conflicts.decide'), cell: manualCell },
            ],
            shown,
            { class: 'conflicts', 'data-testid': 'conflicts-table', rowAttrs: (c) => ({ 'data-conflict': c.id, 'data-record': c.recordId, 'data-field': c.field }) },
          ),
    );

    // New conflicts arrive from the shell's conflictOpened stream: say so, and reload when asked
    // (not by itself, so a value being typed is not lost).
    let arrived = 0;
    const notice = h('p', { class: 'notice', 'data-testid': 'conflicts-new', hidden: true });
    ctx.root.prepend(notice);
    const onOpened = () => {
      arrived += 1;
      notice.hidden = false;
      notice.replaceChildren(t('conflicts.arrived', { n: arrived }), ' ', h('button', { class: 'small', 'data-testid': 'conflicts-reload', on: { click: () => ctx.rerender() } }, t('conflicts.showNew')));
    };
    window.addEventListener('crmlink:conflict-opened', onOpened);
    return () => window.removeEventListener('crmlink:conflict-opened', onOpened);
  },
};
