// Sources: each connector with its health, dialect, last successful read and a connection test.
import { h, add, badge, fmtTime, table } from '../dom.js';

function health(ctx, r) {
  if (!r) return badge(ctx.t('sources.untested'));
  if (r.ok) return h('span', {}, badge(ctx.t('sources.ok'), 'ok'), ' ', h('span', { class: 'muted' }, `${Math.round(r.latencyMs)} ms${r.version ? ` · ${r.version}` : ''}`));
  return h('span', {}, badge(ctx.t('sources.down'), 'bad'), ' ', h('span', { class: 'error-text' }, r.error ?? ''));
}

export default {
  id: 'sources',
  async render(ctx) {
    const { t } = ctx;
    const d = await ctx.gql(`{
      sources { name dialect kind readOnly health { ok latencyMs version error } }
      sourceActivity { source lastReadAt jobs }
    }`);
    const activity = new Map(d.sourceActivity.map((a) => [a.source, a]));

    const rows = d.sources.map((src) => {
      const cell = h('span', { 'data-testid': `health-${src.name}` }, health(ctx, src.health));
      const tested = h('span', { class: 'muted small' });
      const button = h('button', { 'data-testid': `test-${src.name}` }, t('sources.test'));
      button.addEventListener('click', async () => {
        button.disabled = true;
        button.classList.add('busy');
        try {
          const r = (await ctx.gql('mutation($n: String!) { testSource(name: $n) { ok latencyMs version error testedAt } }', { n: src.name })).testSource;
          cell.replaceChildren(health(ctx, r));
          tested.textContent = t('sources.testedAt', { at: fmtTime(r.testedAt, ctx.lang) });
          ctx.toast(r.ok ? t('sources.testOk', { name: src.name, ms: Math.round(r.latencyMs) }) : t('sources.testFailed', { name: src.name, error: r.error ?? '' }), r.ok ? 'ok' : 'error');
        } catch (err) {
          ctx.toast(ctx.errorText(err), 'error');
        } finally {
          button.disabled = false;
          button.classList.remove('busy');
        }
      });
      return { src, cell, tested, button, act: activity.get(src.name) };
    });

    add(ctx.root, 
      h('header', { class: 'view-head' }, h('h1', {}, t('nav.sources')), h('p', { class: 'muted' }, t('sources.intro'))),
      table(
        [
          { label: t('sources.name'), cell: (r) => h('b', {}, r.src.name) },
          { label: t('sources.kind'), cell: (r) => t(`kind.${r.src.kind}`) },
          { label: t('sources.dialect'), cell: (r) => h('code', {}, r.src.dialect) },
          { label: t('sources.access'), cell: (r) => (r.src.readOnly ? badge(t('sources.readOnly')) : badge(t('sources.readWrite'), 'info')) },
          { label: t('sources.health'), cell: (r) => r.cell },
          { label: t('sources.lastRead'), cell: (r) => h('span', { 'data-testid': `last-read-${r.src.name}` }, r.act?.lastReadAt ? fmtTime(r.act.lastReadAt, ctx.lang) : t('sources.neverRead')) },
          { label: t('sources.jobs'), cell: (r) => (r.act?.jobs.length ? r.act.jobs.join(', ') : h('span', { class: 'muted' }, t('sources.federated'))) },
          { label: '', class: 'actions', cell: (r) => h('span', {}, r.button, ' ', r.tested) },
        ],
        rows,
        { 'data-testid': 'sources-table' },
      ),
    );
  },
};
