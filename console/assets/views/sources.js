// Sources: first what an operator checks at a glance (is the scheduler running, when is the next
// run, how far behind each source the hub may be, the last backup); then each connector with its
// health, dialect, last successful read and a connection test, and the hub's last backup, with a
// warning when it is stale (hub.backup.staleAfterHours).
import { h, add, badge, fmtTime, fmtLag, fmtNumber, table, timeTitle } from '../dom.js';

function fmtSize(bytes, lang) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return `${i === 0 ? fmtNumber(v, lang) : v.toFixed(1)} ${units[i]}`;
}

/** The backup panel; its own query, so an unreadable backup directory does not hide the sources. */
async function backupPanel(ctx) {
  const { t } = ctx;
  let b;
  try {
    b = (await ctx.gql('{ hubBackups { last { file at size label } count stale staleAfterHours schedule } }')).hubBackups;
  } catch (err) {
    return h('section', { class: ['panel', 'error-panel'], 'data-testid': 'backup-status' }, h('h2', {}, t('backup.title')), h('p', { class: 'error-text' }, ctx.errorText(err)));
  }
  const last = b.last
    ? h('p', { 'data-testid': 'backup-last' },
        h('span', { title: timeTitle(b.last.at) }, t('backup.last', { at: fmtTime(b.last.at, ctx.lang), size: fmtSize(b.last.size, ctx.lang) })), ' ',
        badge(t(`backup.label.${b.last.label.toLowerCase().replace('_', '-')}`, {}, b.last.label.toLowerCase())), ' ',
        h('code', { class: 'muted small' }, b.last.file))
    : h('p', { 'data-testid': 'backup-last' }, t('backup.none'));
  const plan = b.schedule ? t('backup.schedule', { schedule: b.schedule, n: b.count }) : t('backup.onDemand', { n: b.count });
  return h('section', { class: ['panel', b.stale && 'backup-stale'], 'data-testid': 'backup-status' },
    h('h2', {}, t('backup.title')),
    b.stale ? h('p', { class: 'warning', role: 'alert', 'data-testid': 'backup-stale' }, b.last ? t('backup.stale', { hours: b.staleAfterHours }) : t('backup.staleNone')) : null,
    last,
    h('p', { class: 'muted small' }, plan),
  );
}

/** The glance panel; its own query, so a failure there hides nothing else. */
async function glancePanel(ctx, activity) {
  const { t } = ctx;
  let d;
  try {
    d = await ctx.gql('{ syncScheduler { running nextRunAt jobs { job nextRunAt } } hubBackups { last { at } } }');
  } catch (err) {
    return h('section', { class: ['panel', 'error-panel'], 'data-testid': 'glance' }, h('h2', {}, t('glance.title')), h('p', { class: 'error-text' }, ctx.errorText(err)));
  }
  const s = d.syncScheduler;
  const next = s.jobs.filter((j) => j.nextRunAt === s.nextRunAt).map((j) => j.job);
  const item = (label, value) => h('div', { class: 'glance-item' }, h('div', { class: 'glance-label' }, label), value);
  return h('section', { class: 'panel glance', 'data-testid': 'glance', 'aria-label': t('glance.title') },
    item(t('glance.scheduler'), h('div', { 'data-testid': 'glance-scheduler' }, s.running ? badge(t('glance.running', { n: s.jobs.length }), 'ok') : badge(t('glance.stopped'), 'warn'))),
    item(t('glance.nextRun'), h('div', { 'data-testid': 'glance-next-run', title: timeTitle(s.nextRunAt) }, s.nextRunAt ? t('glance.nextRunJob', { job: next.join(', '), at: fmtTime(s.nextRunAt, ctx.lang) }) : t('glance.noNext'))),
    item(t('glance.lag'), h('ul', { class: 'glance-lags', title: t('glance.lagHint') },
      activity.map((a) => h('li', {}, h('b', {}, a.source), ' ', h('span', { class: 'num', 'data-testid': `lag-${a.source}` }, a.lagSeconds === null ? '—' : fmtLag(a.lagSeconds)))))),
    item(t('glance.backup'), h('div', { 'data-testid': 'glance-backup', title: timeTitle(d.hubBackups.last?.at) }, d.hubBackups.last ? `${t('glance.backup')}: ${fmtTime(d.hubBackups.last.at, ctx.lang)}` : t('glance.noBackup'))),
  );
}

function health(ctx, r) {
  if (!r) return badge(ctx.t('sources.untested'));
  if (r.ok) return h('span', {}, badge(ctx.t('sources.ok'), 'ok'), ' ', h('span', { class: 'muted' }, `${Math.round(r.latencyMs)} ms${r.version ? ` · ${r.version}` : ''}`));
  return h('span', {}, badge(ctx.t('sources.down'), 'bad'), ' ', h('span', { class: 'error-text' }, r.error ?? ''));
}

export default {
  id: 'sources',
  async render(ctx) {
    const { t } = ctx;
    const [d, backups] = await Promise.all([
      ctx.gql(`{
        sources { name dialect kind readOnly health { ok latencyMs version error } }
        sourceActivity { source lastReadAt lagSeconds jobs }
      }`),
      backupPanel(ctx),
    ]);
    const glance = await glancePanel(ctx, d.sourceActivity);
    const activity = new Map(d.sourceActivity.map((a) => [a.source, a]));

    const rows = d.sources.map((src) => {
      const cell = h('span', { 'data-testid': `health-${src.name}` }, health(ctx, src.health));
      const tested = h('span', { class: 'muted small tested' });
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
      glance,
      backups,
      table(
        [
          { label: t('sources.name'), cell: (r) => h('b', {}, r.src.name) },
          { label: t('sources.kind'), cell: (r) => t(`kind.${r.src.kind.toLowerCase()}`) },
          { label: t('sources.dialect'), cell: (r) => h('code', {}, r.src.dialect) },
          { label: t('sources.access'), cell: (r) => (r.src.readOnly ? badge(t('sources.readOnly')) : badge(t('sources.readWrite'), 'info')) },
          { label: t('sources.health'), cell: (r) => r.cell },
          { label: t('sources.lastRead'), cell: (r) => h('span', { 'data-testid': `last-read-${r.src.name}`, title: timeTitle(r.act?.lastReadAt) }, r.act?.lastReadAt ? fmtTime(r.act.lastReadAt, ctx.lang) : t('sources.neverRead')) },
          { label: t('sources.lag'), class: 'num', cell: (r) => (r.act?.lagSeconds === null || r.act?.lagSeconds === undefined ? '—' : fmtLag(r.act.lagSeconds)) },
          { label: t('sources.jobs'), cell: (r) => (r.act?.jobs.length ? r.act.jobs.join(', ') : h('span', { class: 'muted' }, t('sources.federated'))) },
          { label: '', class: 'actions', cell: (r) => h('span', {}, r.button, ' ', r.tested) },
        ],
        rows,
        { 'data-testid': 'sources-table' },
      ),
    );
  },
};
