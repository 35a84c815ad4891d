// Jobs: schedule, the last runs (status, rows read and written per source, duration, lag), a
// chart of rows and lag, "run now", and a dry run that shows the plan before anything is written.
// A running job's progress arrives live from the syncRunProgress subscription (one event stream
// while the view is open, no polling); when a run started elsewhere ends, the view reloads once.
import { h, add, badge, statusKind, fmtTime, fmtDuration, fmtLag, fmtNumber, show, table } from '../dom.js';
import { subscribe } from '../api.js';
import { coded, codeText, conflictReason } from '../server-text.js';
import { lang } from '../i18n.js';
import { runChart } from '../chart.js';

const RUNS = 20;

/** The parts of a run report (GraphQL SyncRunReport) the view shows. */
const STATS = 'durationMs lagSeconds totals { read written hubWritten conflicts parked } sources { source read hubInserted hubUpdated hubDeleted inserted updated deleted conflicts parked }';
const REPORT = `status reason error { code message } ${STATS}`;
const WRITE = 'op recordId sourceKey values mode';
const PLAN = `plan { target counts { inserts updates deletes conflicts } inserts { ${WRITE} } updates { ${WRITE} } deletes { ${WRITE} } conflicts { recordId sourceKey field values rule winner reason } }`;

/** GraphQL enum values (OK, BOTH, DELETE) as the lower-case keys of the texts. */
const code = (v) => String(v ?? '').toLowerCase();

/** The schedule in words in the page's language (GraphQL scheduleText, cronstrue on the server). */
function scheduleWords(job, t, lang) {
  if (!job.schedule) return t('jobs.manual');
  return job.scheduleText?.[lang] ?? job.schedule;
}

function perSource(stats) {
  const out = {};
  for (const st of stats?.sources ?? []) {
    out[st.source] = {
      read: st.read ?? 0,
      hub: (st.hubInserted ?? 0) + (st.hubUpdated ?? 0) + (st.hubDeleted ?? 0),
      written: (st.inserted ?? 0) + (st.updated ?? 0) + (st.deleted ?? 0),
      conflicts: st.conflicts ?? 0,
      parked: st.parked ?? 0,
    };
  }
  return out;
}

function errorOf(run) {
  if (!run.error) return null;
  try {
    const e = JSON.parse(run.error);
    return e.message ? coded(e.code ?? '', e.message) : run.error;
  } catch {
    return run.error;
  }
}

async function customerNames(ctx, ids) {
  const unique = [...new Set(ids.filter(Boolean))].slice(0, 200);
  if (unique.length === 0) return new Map();
  const d = await ctx.gql('query($ids: [ID!]!) { nodes(ids: $ids) { id ... on Customer { code name } } }', { ids: unique });
  return new Map(d.nodes.filter(Boolean).map((n) => [n.id, n]));
}

function valuesList(values) {
  const entries = Object.entries(values ?? {});
  if (entries.length === 0) return h('span', { class: 'muted' }, '—');
  return h('ul', { class: 'kv' }, entries.map(([k, v]) => h('li', {}, h('code', {}, k), ' → ', h('b', {}, show(v)))));
}

/** The dry run's plan, per target: counts, then the writes and conflicts themselves. */
function planView(ctx, report, names) {
  const { t } = ctx;
  const plan = Object.fromEntries((report.plan ?? []).map((p) => [p.target, p]));
  const targets = Object.keys(plan).sort((a, b) => (a === 'hub' ? -1 : b === 'hub' ? 1 : a.localeCompare(b)));
  const who = (gid, key) => {
    const n = gid ? names.get(gid) : null;
    return h('span', {}, n ? h('a', { href: `#/customers/${encodeURIComponent(gid)}` }, n.name) : show(gid), key ? h('span', { class: 'muted' }, ` · ${key}`) : null);
  };
  const summary = h('p', { class: 'plan-summary', 'data-testid': 'plan-summary' },
    t('plan.summary', { read: fmtNumber(report.totals?.read ?? 0, ctx.lang), ms: report.durationMs ?? 0 }));
  if (targets.length === 0 || targets.every((tg) => Object.values(plan[tg].counts).every((c) => c === 0))) {
    return h('div', { 'data-testid': 'plan' }, summary, h('p', { class: 'empty', 'data-testid': 'plan-empty' }, t('plan.nothing')));
  }
  const counts = table(
    [
      { label: t('plan.target'), cell: (tg) => h('b', {}, tg === 'hub' ? t('plan.hub') : tg) },
      { label: t('plan.inserts'), class: 'num', cell: (tg) => fmtNumber(plan[tg].counts.inserts, ctx.lang) },
      { label: t('plan.updates'), class: 'num', cell: (tg) => fmtNumber(plan[tg].counts.updates, ctx.lang) },
      { label: t('plan.deletes'), class: 'num', cell: (tg) => fmtNumber(plan[tg].counts.deletes, ctx.lang) },
      { label: t('plan.conflicts'), class: 'num', cell: (tg) => fmtNumber(plan[tg].counts.conflicts, ctx.lang) },
    ],
    targets,
    { class: 'compact', 'data-testid': 'plan-counts' },
  );
  const details = targets.map((tg) => {
    const p = plan[tg];
    const writes = [...p.inserts, ...p.updates, ...p.deletes];
    if (writes.length === 0 && p.conflicts.length === 0) return null;
    return h('section', { class: 'plan-target', 'data-testid': `plan-${tg}` },
      h('h3', {}, tg === 'hub' ? t('plan.hub') : t('plan.toSource', { name: tg })),
      writes.length
        ? table(
            [
              { label: t('plan.op'), cell: (w) => badge(t(`op.${code(w.op)}`), w.op === 'DELETE' ? 'bad' : w.op === 'INSERT' ? 'ok' : 'info') },
              { label: t('plan.record'), cell: (w) => who(w.recordId, w.sourceKey) },
              { label: t('plan.values'), cell: (w) => (w.op === 'DELETE' ? t(`plan.delete.${code(w.mode ?? 'HARD')}`) : valuesList(w.values)) },
            ],
            writes,
            { class: 'compact' },
          )
        : null,
      p.conflicts.length
        ? table(
            [
              { label: t('plan.record'), cell: (c) => who(c.recordId, c.sourceKey) },
              { label: t('conflicts.field'), cell: (c) => h('code', {}, c.field) },
              { label: t('conflicts.values'), cell: (c) => valuesList(c.values) },
              { label: t('conflicts.rule'), cell: (c) => h('span', {}, h('code', {}, c.rule), c.winner ? ` → ${c.winner}` : '') },
              { label: t('conflicts.reason'), class: 'reason', cell: (c) => h('span', { title: c.reason }, conflictReason(c)) },
            ],
            p.conflicts,
            { class: 'compact' },
          )
        : null,
      writes.length < p.counts.inserts + p.counts.updates + p.counts.deletes ? h('p', { class: 'muted' }, t('plan.cut')) : null,
    );
  });
  return h('div', { 'data-testid': 'plan' }, summary, counts, details);
}

function runSummary(t, r) {
  const tot = r.totals ?? {};
  const line = t('jobs.ranSummary', { status: t(`run.${code(r.status)}`, {}, code(r.status)), read: tot.read ?? 0, written: tot.written ?? 0, conflicts: tot.conflicts ?? 0, parked: tot.parked ?? 0, ms: r.durationMs ?? 0 });
  const why = r.error ? (lang() === 'en' || !codeText(r.error.code) ? r.error.message : codeText(r.error.code)) : r.reason;
  return why ? `${line} — ${why}` : line;
}

const PROGRESS = 'subscription { syncRunProgress { runId job phase source done estimated rowsPerSecond etaSeconds final status } }';

/** The latest run's progress per job, kept across renders: job → { runId, stages: Map, final }. */
const live = new Map();

function remember(e, pinned) {
  let run = live.get(e.job);
  // The run started from this page stays shown once its progress arrives: a skipped tick or an
  // event-driven push of the same job (its own run, after this one) does not replace it.
  if (run && run.runId !== e.runId && pinned && run.pinned && run.stages.size > 0) return;
  if (!run || run.runId !== e.runId) live.set(e.job, (run = { runId: e.runId, stages: new Map(), final: null, pinned }));
  if (e.final) run.final = e;
  else run.stages.set(`${e.phase}/${e.source}`, e);
}

/** One line per phase and source of the job's latest run, then how it ended. */
function progressLines(ctx, job) {
  const { t } = ctx;
  const run = live.get(job);
  if (!run) return [];
  const rows = [...run.stages.values()].map((e) => {
    const phase = t(`jobs.progress.phase.${code(e.phase)}`);
    const total = e.estimated > 0 ? e.estimated : null;
    const parts = [
      total
        ? t('jobs.progress.of', { phase, source: e.source, done: fmtNumber(e.done, ctx.lang), total: fmtNumber(total, ctx.lang), pct: Math.min(100, Math.round((e.done / total) * 100)) })
        : t('jobs.progress.rows', { phase, source: e.source, done: fmtNumber(e.done, ctx.lang) }),
    ];
    if (e.rowsPerSecond !== null) parts.push(t('jobs.progress.rate', { rate: fmtNumber(Math.round(e.rowsPerSecond), ctx.lang) }));
    if (!run.final && e.etaSeconds !== null) parts.push(t('jobs.progress.eta', { eta: fmtDuration(e.etaSeconds * 1000) }));
    return h('li', { 'data-testid': 'progress-row', 'data-done': String(e.done) }, parts.join(' · '));
  });
  if (run.final) {
    const st = code(run.final.status);
    rows.push(h('li', { 'data-testid': 'progress-final' }, t('jobs.progress.ended', { id: run.runId ?? '—', status: t(`run.${st}`, {}, st) }), ' ', badge(t(`run.${st}`, {}, st), statusKind(run.final.status))));
  }
  return rows;
}

function progressPanel(ctx, job) {
  const lines = progressLines(ctx, job);
  return h('div', { class: 'live-progress', 'data-testid': `progress-${job}`, hidden: lines.length === 0 },
    h('h3', {}, ctx.t('jobs.live')), h('ul', {}, lines));
}

export default {
  id: 'jobs',
  async render(ctx) {
    const { t } = ctx;
    const d = await ctx.gql('{ syncJobs { name entity sources direction schedule scheduleText { en zh } } }');
    const runsByJob = await Promise.all(
      d.syncJobs.map((j) => ctx.gql(`query($j: String!) { syncRuns(job: $j, first: ${RUNS}) { id job status dryRun startedAt endedAt stats { ${STATS} } error } }`, { j: j.name }).then((r) => r.syncRuns)),
    );

    // Runs started on this page reload the view when their mutation answers; others when they end.
    const runningHere = new Set();
    const stop = subscribe(PROGRESS, {}, {
      onOpen: () => ctx.root.setAttribute('data-live', 'on'),
      onData: (d) => {
        if (!ctx.current()) return stop(); // a newer render has its own stream
        const e = d.syncRunProgress;
        remember(e, runningHere.has(e.job));
        const panel = ctx.root.querySelector(`[data-testid="progress-${CSS.escape(e.job)}"]`);
        if (panel) panel.replaceWith(progressPanel(ctx, e.job));
        if (e.final && !runningHere.has(e.job) && ctx.current()) ctx.rerender();
      },
      onError: (err) => {
        ctx.root.setAttribute('data-live', 'off');
        ctx.toast(ctx.errorText(err), 'error');
      },
    });

    const runNow = async (job) => {
      runningHere.add(job);
      // The run about to start is the one to show; an earlier run's lines go.
      live.delete(job);
      let report;
      try {
        report = (await ctx.gql(`mutation($j: String!) { runSyncJob(job: $j) { ${REPORT} } }`, { j: job })).runSyncJob;
      } finally {
        runningHere.delete(job);
        const shown = live.get(job);
        if (shown) shown.pinned = false;
      }
      ctx.toast(`${job}: ${runSummary(t, report)}`, report.status === 'FAILED' ? 'error' : report.status === 'OK' ? 'ok' : 'info');
      await ctx.refreshBadges();
      if (ctx.current()) ctx.rerender();
    };

    const dryRun = async (job) => {
      const report = (await ctx.gql(`mutation($j: String!) { runSyncJob(job: $j, dryRun: true) { ${REPORT} ${PLAN} } }`, { j: job })).runSyncJob;
      const ids = (report.plan ?? []).flatMap((p) => [...p.inserts, ...p.updates, ...p.deletes, ...p.conflicts].map((w) => w.recordId));
      const names = await customerNames(ctx, ids).catch(() => new Map());
      const choice = await ctx.dialog({
        title: t('plan.title', { job }),
        wide: true,
        testid: 'plan-dialog',
        body: h('div', {}, h('p', { class: 'notice' }, t('plan.nothingWritten')), planView(ctx, report, names)),
        actions: [
          { label: t('action.close'), value: 'close', testid: 'plan-close' },
          { label: t('plan.apply'), value: 'run', kind: 'primary', testid: 'plan-apply', disabled: !ctx.canWrite },
        ],
      });
      if (choice === 'run') await runNow(job);
    };

    add(ctx.root, h('header', { class: 'view-head' }, h('h1', {}, t('nav.jobs')), h('p', { class: 'muted' }, t('jobs.intro'))));
    if (d.syncJobs.length === 0) add(ctx.root, h('p', { class: 'empty' }, t('jobs.none')));

    d.syncJobs.forEach((job, i) => {
      const runs = runsByJob[i];
      const sources = job.sources;
      const chartRuns = runs
        .filter((r) => !r.dryRun)
        .slice()
        .reverse()
        .map((r) => ({ id: r.id, startedAt: r.startedAt, status: code(r.status), read: r.stats?.totals?.read ?? null, written: r.stats?.totals?.written ?? null, lag: r.stats?.lagSeconds ?? null }));
      const last = runs[0];
      add(ctx.root, 
        h('article', { class: 'panel job', 'data-testid': `job-${job.name}` },
          h('header', { class: 'panel-head' },
            h('div', {},
              h('h2', {}, job.name, ' ', h('span', { class: 'muted' }, job.entity)),
              h('p', { class: 'muted' },
                sources.join(job.direction === 'BOTH' ? ' ⇄ ' : job.direction === 'PULL' ? ' → hub ← ' : ' ← hub → '),
                ' · ', t(`direction.${code(job.direction)}`),
                ' · ', h('span', { title: job.schedule ?? '', 'data-testid': `schedule-${job.name}` }, scheduleWords(job, t, ctx.lang)),
                job.schedule ? h('code', { class: 'cron' }, job.schedule) : null,
              ),
            ),
            h('div', { class: 'buttons' },
              ctx.actionButton(t('jobs.dryRun'), { testid: `dry-run-${job.name}`, onClick: () => dryRun(job.name), title: t('jobs.dryRunTitle') }),
              ctx.actionButton(t('jobs.runNow'), { kind: 'primary', testid: `run-${job.name}`, onClick: () => runNow(job.name) }),
            ),
          ),
          progressPanel(ctx, job.name),
          last ? h('p', { class: 'last-run' }, t('jobs.lastRun'), ' ', badge(t(`run.${code(last.status)}`, {}, code(last.status)), statusKind(last.status)), ' ', fmtTime(last.startedAt, ctx.lang)) : h('p', { class: 'empty' }, t('jobs.noRuns')),
          chartRuns.length ? runChart(chartRuns, { t, lang: ctx.lang }) : null,
          runs.length
            ? table(
                [
                  { label: '#', class: 'num', cell: (r) => r.id },
                  { label: t('jobs.started'), cell: (r) => fmtTime(r.startedAt, ctx.lang) },
                  { label: t('jobs.status'), cell: (r) => h('span', {}, badge(t(`run.${code(r.status)}`, {}, code(r.status)), statusKind(r.status)), r.dryRun ? badge(t('jobs.dry')) : null) },
                  { label: t('jobs.duration'), class: 'num', cell: (r) => fmtDuration(r.stats?.durationMs ?? (r.endedAt ? Date.parse(r.endedAt) - Date.parse(r.startedAt) : null)) },
                  { label: t('jobs.lag'), class: 'num', cell: (r) => fmtLag(r.stats?.lagSeconds ?? null) },
                  ...sources.map((src) => ({
                    label: h('span', {}, src, h('br'), h('small', { class: 'muted' }, t('jobs.readWritten'))),
                    class: 'num',
                    cell: (r) => {
                      const st = perSource(r.stats)[src];
                      return st ? `${fmtNumber(st.read, ctx.lang)} / ${fmtNumber(st.written, ctx.lang)}` : '—';
                    },
                  })),
                  { label: t('jobs.hubWritten'), class: 'num', cell: (r) => fmtNumber(r.stats?.totals?.hubWritten ?? null, ctx.lang) },
                  { label: t('jobs.conflicts'), class: 'num', cell: (r) => fmtNumber(r.stats?.totals?.conflicts ?? null, ctx.lang) },
                  { label: t('jobs.parked'), class: 'num', cell: (r) => fmtNumber(r.stats?.totals?.parked ?? null, ctx.lang) },
                  { label: t('jobs.error'), class: 'reason', cell: (r) => errorOf(r) ?? '' },
                ],
                runs,
                { class: 'compact runs', 'data-testid': `runs-${job.name}` },
              )
            : null,
        ),
      );
    });
    return stop;
  },
};
