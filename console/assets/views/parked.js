// Parked records: rows sync could not apply (permanent errors), with the error, and a retry.
import { h, add, badge, statusKind, fmtTime, table } from '../dom.js';
import { coded } from '../server-text.js';

export default {
  id: 'parked',
  async render(ctx) {
    const { t } = ctx;
    const status = ctx.args[0] || 'parked';
    // The address keeps the lower-case word (#/parked/resolved); the API takes the enum value.
    const d = await ctx.gql(`query($s: ParkedStatusFilter) {
      parkedRecords(status: $s, first: 1000) { id job entity source sourceKey recordId direction code message attempts status createdAt updatedAt }
      syncJobs { name }
    }`, { s: status.toUpperCase() });
    const rows = d.parkedRecords;
    const ids = [...new Set(rows.map((r) => r.recordId).filter(Boolean))].slice(0, 300);
    const names = new Map();
    if (ids.length) {
      const n = await ctx.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { code name } } }', { ids }).catch(() => ({ nodes: [] }));
      for (const x of n.nodes) if (x) names.set(x.id, x);
    }
    const perJob = new Map();
    for (const r of rows) if (r.status === 'PARKED') perJob.set(r.job, (perJob.get(r.job) ?? 0) + 1);

    const retry = async (job) => {
      const r = (await ctx.gql('mutation($j: String!) { retryParked(job: $j) { retried resolved remaining report { status } } }', { j: job })).retryParked;
      ctx.toast(t('parked.retried', { job, retried: r.retried, resolved: r.resolved, remaining: r.remaining }), r.remaining === 0 ? 'ok' : 'info');
      await ctx.refreshBadges();
      if (ctx.current()) ctx.rerender();
    };

    add(ctx.root, 
      h('header', { class: 'view-head' }, h('h1', {}, t('nav.parked')), h('p', { class: 'muted' }, t('parked.intro'))),
      h('div', { class: 'toolbar' },
        h('label', { class: 'filter' }, t('filter.status'),
          h('select', { 'data-testid': 'parked-status', on: { change: (ev) => ctx.navigate(`#/parked/${ev.target.value}`) } },
            ['parked', 'resolved', 'all'].map((s) => h('option', { value: s, selected: s === status }, t(`parked.status.${s}`))),
          ),
        ),
        d.syncJobs.map((j) =>
          ctx.actionButton(t('parked.retry', { job: j.name, n: perJob.get(j.name) ?? 0 }), { kind: perJob.get(j.name) ? 'primary' : '', testid: `retry-${j.name}`, onClick: () => retry(j.name) }),
        ),
      ),
      rows.length === 0
        ? h('p', { class: 'empty', 'data-testid': 'no-parked' }, t('parked.none'))
        : table(
            [
              { label: '#', class: 'num', cell: (r) => r.id },
              { label: t('parked.job'), cell: (r) => r.job },
              { label: t('parked.source'), cell: (r) => h('span', {}, h('b', {}, r.source), ' ', badge(t(`parked.dir.${r.direction.toLowerCase()}`))) },
              { label: t('parked.record'), cell: (r) => {
                const n = r.recordId ? names.get(r.recordId) : null;
                return h('div', {}, r.recordId ? h('a', { href: `#/customers/${encodeURIComponent(r.recordId)}` }, n?.name ?? r.recordId) : '—', h('div', { class: 'muted small' }, r.entity, ' ', r.sourceKey ?? ''));
              } },
              { label: t('parked.error'), class: 'reason', cell: (r) => h('div', {}, coded(r.code, r.message)) },
              { label: t('parked.attempts'), class: 'num', cell: (r) => String(r.attempts) },
              { label: t('parked.status'), cell: (r) => badge(t(`parked.status.${r.status.toLowerCase()}`), statusKind(r.status)) },
              { label: t('parked.updated'), cell: (r) => fmtTime(r.updatedAt, ctx.lang) },
            ],
            rows,
            { class: 'compact', 'data-testid': 'parked-table' },
          ),
    );
  },
};
