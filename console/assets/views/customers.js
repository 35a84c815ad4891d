// Customer 360: search, then one customer's golden record with the provenance of each field, its
// source keys, merges (with unmerge), sales orders, invoices, approvals and satisfaction surveys.
import { h, add, badge, statusKind, show, fmtTime, fmtMoney, table } from '../dom.js';

/** A score or an average of scores (decimal strings from the API): at most two decimals, "—" for none. */
function fmtScore(v, lang) {
  if (v === null || v === undefined || v === '' || Number.isNaN(Number(v))) return '—';
  return new Intl.NumberFormat(lang === 'zh' ? 'zh-CN' : 'en-US', { maximumFractionDigits: 2 }).format(Number(v));
}

/** The customer's survey responses, newest first, with the average scores over all of them. */
function surveysPanel(ctx, surveys) {
  const { t } = ctx;
  const avg = surveys.aggregate?.avg ?? {};
  return h('section', { class: 'panel', 'data-testid': 'surveys-panel' },
    h('h2', {}, t('customers.surveys'), ' ', h('span', { class: 'muted' }, t('customers.surveyCount', { n: surveys.totalCount }))),
    surveys.nodes.length === 0
      ? h('p', { class: 'empty' }, t('customers.noSurveys'))
      : [
          h('p', { class: 'facts' },
            h('span', {}, t('customers.surveyAverage'), ' ', h('b', { 'data-testid': 'survey-average' }, fmtScore(avg.score, ctx.lang))),
            h('span', { class: 'muted', 'data-testid': 'survey-averages' }, t('customers.surveyAverages', { service: fmtScore(avg.serviceScore, ctx.lang), product: fmtScore(avg.productScore, ctx.lang), delivery: fmtScore(avg.deliveryScore, ctx.lang) })),
          ),
          table(
            [
              { label: t('customers.surveyDate'), cell: (r) => show(r.surveyDate) },
              { label: t('customers.surveyChannel'), cell: (r) => (r.channel ? t(`channel.${r.channel}`, {}, r.channel) : '—') },
              { label: t('customers.surveyScore'), class: 'num', cell: (r) => h('b', {}, fmtScore(r.score, ctx.lang)) },
              { label: t('customers.surveyService'), class: 'num', cell: (r) => fmtScore(r.serviceScore, ctx.lang) },
              { label: t('customers.surveyProduct'), class: 'num', cell: (r) => fmtScore(r.productScore, ctx.lang) },
              { label: t('customers.surveyDelivery'), class: 'num', cell: (r) => fmtScore(r.deliveryScore, ctx.lang) },
              { label: t('customers.surveyComment'), cell: (r) => h('span', {}, show(r.comment), r.respondent ? h('div', { class: 'muted small' }, r.respondent) : null) },
            ],
            surveys.nodes,
            { class: 'compact', 'data-testid': 'surveys' },
          ),
        ],
  );
}

const FIELDS = ['code', 'name', 'shortName', 'creditCode', 'phone', 'email', 'address', 'city', 'province', 'industry', 'status', 'creditLimit', 'ownerId', 'ownerTeam', 'createdAt', 'updatedAt'];

function searchForm(ctx, term) {
  const { t } = ctx;
  const input = h('input', { type: 'search', name: 'q', value: term, placeholder: t('customers.searchPlaceholder'), 'aria-label': t('customers.search'), 'data-testid': 'customer-search' });
  const form = h('form', { class: 'search', role: 'search' }, input, h('button', { type: 'submit', class: 'primary', 'data-testid': 'customer-search-go' }, t('customers.search')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    ctx.navigate(`#/customers/?q=${encodeURIComponent(input.value.trim())}`);
  });
  return form;
}

async function list(ctx, term) {
  const { t } = ctx;
  const where = term ? { or: [{ name: { contains: term } }, { shortName: { contains: term } }, { code: { eq: term } }, { creditCode: { eq: term } }, { phone: { contains: term } }] } : null;
  const d = await ctx.gql(
    `query($w: CustomerWhere) { customers(where: $w, first: 50, orderBy: [{ field: name, direction: ASC }]) { totalCount nodes { id code name creditCode city syncStatus sourceRecords { source key } } } }`,
    { w: where },
  );
  const c = d.customers;
  add(ctx.root, 
    h('header', { class: 'view-head' }, h('h1', {}, t('nav.customers')), h('p', { class: 'muted' }, t('customers.intro'))),
    searchForm(ctx, term),
    h('p', { class: 'muted' }, t('customers.found', { n: c.totalCount, shown: c.nodes.length })),
    table(
      [
        { label: t('field.name'), cell: (r) => h('a', { href: `#/customers/${encodeURIComponent(r.id)}`, 'data-testid': `customer-link-${r.code ?? r.id}` }, r.name) },
        { label: t('field.code'), cell: (r) => show(r.code) },
        { label: t('field.creditCode'), cell: (r) => h('code', {}, show(r.creditCode)) },
        { label: t('field.city'), cell: (r) => show(r.city) },
        { label: t('customers.sourceKeys'), cell: (r) => r.sourceRecords.map((s) => h('span', { class: 'chip' }, `${s.source}: ${s.key}`)) },
        { label: t('customers.syncStatus'), cell: (r) => badge(t(`sync.${r.syncStatus}`), statusKind(r.syncStatus)) },
      ],
      c.nodes,
      { class: 'compact', 'data-testid': 'customer-results' },
    ),
  );
}

async function detail(ctx, id) {
  const { t } = ctx;
  const d = await ctx.gql(
    `query($id: ID!) {
      customer(id: $id) {
        id version ${FIELDS.join(' ')} syncStatus receivableBalance
        sourceRecords { source key syncedAt }
        fieldSources { field source changedAt }
        salesOrders(first: 10, orderBy: [{ field: orderDate, direction: DESC }]) { totalCount aggregate { sum { totalAmount } } nodes { id code orderDate status currency totalAmount } }
        invoices(first: 10, orderBy: [{ field: invoiceDate, direction: DESC }]) { totalCount nodes { id code invoiceDate dueDate amount balance status } }
        approvals(first: 10, orderBy: [{ field: submittedAt, direction: DESC }]) { totalCount nodes { id code title workflow status requester submittedAt amount } }
        surveyResponses(first: 20, orderBy: [{ field: surveyDate, direction: DESC }]) { totalCount aggregate { avg { score serviceScore productScore deliveryScore } } nodes { id code surveyDate channel score serviceScore productScore deliveryScore comment respondent } }
      }
      customerMerges(customerId: $id, includeUndone: true) { id survivor survivorName merged mergedName at by undoneAt }
    }`,
    { id },
  );
  const c = d.customer;
  if (!c) {
    add(ctx.root, searchForm(ctx, ''), h('p', { class: 'empty' }, t('customers.notFound', { id })));
    return;
  }
  const prov = new Map(c.fieldSources.map((f) => [f.field, f]));
  const merges = d.customerMerges;
  const names = new Map(merges.flatMap((m) => [[m.survivor, m.survivorName], [m.merged, m.mergedName]]));
  const nameOf = (gid) => (gid === id ? c.name : names.get(gid) ?? gid);
  const mergedAway = merges.find((m) => m.merged === id && !m.undoneAt);

  const unmerge = async (m) => {
    const ok = await ctx.confirm({
      title: t('customers.unmergeTitle'),
      body: h('div', {}, h('p', {}, t('customers.unmergeBody', { gone: nameOf(m.merged), keep: nameOf(m.survivor) })), h('p', { class: 'muted' }, t('customers.unmergeNote'))),
      ok: t('customers.unmerge'),
      kind: 'danger',
      testid: 'confirm-unmerge',
    });
    if (!ok) return;
    const r = (await ctx.gql('mutation($m: ID!) { unmergeCustomer(mergeId: $m) { mergeId survivor restored kept } }', { m: m.id })).unmergeCustomer;
    ctx.toast(t('customers.unmerged', { gone: nameOf(r.restored) }) + (r.kept.length ? ` ${t('customers.kept', { n: r.kept.length })}` : ''), 'ok');
    await ctx.refreshBadges();
    if (ctx.current()) ctx.rerender();
  };

  const golden = table(
    [
      { label: t('customers.field'), cell: (f) => h('span', { title: f }, t(`field.${f}`)) },
      { label: t('customers.value'), cell: (f) => h('span', { 'data-testid': `value-${f}` }, f === 'creditLimit' ? fmtMoney(c[f]) : f.endsWith('At') ? fmtTime(c[f], ctx.lang) : show(c[f])) },
      { label: t('customers.from'), cell: (f) => (prov.get(f) ? h('span', { 'data-testid': `source-${f}` }, badge(prov.get(f).source, prov.get(f).source === 'manual' ? 'warn' : 'info')) : h('span', { class: 'muted' }, '—')) },
      { label: t('customers.changedAt'), class: 'when', cell: (f) => fmtTime(prov.get(f)?.changedAt, ctx.lang) },
    ],
    FIELDS,
    { class: 'compact golden', 'data-testid': 'golden-record' },
  );

  add(ctx.root, 
    h('p', { class: 'crumbs' }, h('a', { href: '#/customers' }, t('nav.customers')), ' / ', c.name),
    h('header', { class: 'view-head customer-head' },
      h('h1', {}, c.name, ' ', badge(t(`sync.${c.syncStatus}`), statusKind(c.syncStatus))),
      h('div', { class: 'facts' },
        h('span', {}, t('field.code'), ' ', h('b', {}, show(c.code))),
        h('span', {}, t('field.creditLimit'), ' ', h('b', {}, fmtMoney(c.creditLimit))),
        h('span', {}, t('customers.receivable'), ' ', h('b', { 'data-testid': 'receivable' }, fmtMoney(c.receivableBalance))),
        h('span', { class: 'muted small' }, h('code', {}, c.id), ` v${c.version}`),
        c.syncStatus === 'CONFLICT' ? h('a', { href: `#/conflicts/record=${encodeURIComponent(c.id)}&status=OPEN` }, t('customers.seeConflicts')) : null,
      ),
    ),
    mergedAway
      ? h('div', { class: 'notice', 'data-testid': 'merged-notice' }, t('customers.mergedInto'), ' ', h('a', { href: `#/customers/${encodeURIComponent(mergedAway.survivor)}` }, nameOf(mergedAway.survivor)), ' ',
          ctx.actionButton(t('customers.unmerge'), { kind: 'danger', testid: `unmerge-${mergedAway.id}`, onClick: () => unmerge(mergedAway) }))
      : null,
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel' }, h('h2', {}, t('customers.golden')), golden),
      h('div', {},
        h('section', { class: 'panel' }, h('h2', {}, t('customers.sourceKeys')),
          table(
            [
              { label: t('customers.source'), cell: (s) => h('b', {}, s.source) },
              { label: t('customers.key'), cell: (s) => h('code', {}, s.key) },
              { label: t('customers.syncedAt'), cell: (s) => fmtTime(s.syncedAt, ctx.lang) },
            ],
            c.sourceRecords,
            { class: 'compact', 'data-testid': 'source-keys' },
          ),
        ),
        h('section', { class: 'panel', 'data-testid': 'merges' }, h('h2', {}, t('customers.merges')),
          merges.length === 0
            ? h('p', { class: 'empty' }, t('customers.noMerges'))
            : table(
                [
                  { label: '#', cell: (m) => m.id },
                  { label: t('customers.survivor'), cell: (m) => h('a', { href: `#/customers/${encodeURIComponent(m.survivor)}` }, nameOf(m.survivor)) },
                  { label: t('customers.mergedRecord'), cell: (m) => h('a', { href: `#/customers/${encodeURIComponent(m.merged)}` }, nameOf(m.merged)) },
                  { label: t('customers.when'), cell: (m) => h('span', {}, fmtTime(m.at, ctx.lang), h('div', { class: 'muted small' }, m.by)) },
                  { label: '', cell: (m) => (m.undoneAt ? badge(t('customers.undone'), '') : ctx.actionButton(t('customers.unmerge'), { kind: 'danger small', testid: `unmerge-${m.id}`, onClick: () => unmerge(m) })) },
                ],
                merges,
                { class: 'compact' },
              ),
        ),
      ),
    ),
    h('section', { class: 'panel' },
      h('h2', {}, t('customers.orders'), ' ', h('span', { class: 'muted' }, t('customers.total', { n: c.salesOrders.totalCount, sum: fmtMoney(c.salesOrders.aggregate?.sum?.totalAmount ?? null) }))),
      table(
        [
          { label: t('customers.orderCode'), cell: (o) => o.code },
          { label: t('customers.orderDate'), cell: (o) => show(o.orderDate) },
          { label: t('customers.status'), cell: (o) => badge(t(`order.${o.status}`, {}, o.status ?? '—'), statusKind(o.status)) },
          { label: t('customers.amount'), class: 'num', cell: (o) => `${fmtMoney(o.totalAmount)} ${o.currency ?? ''}` },
        ],
        c.salesOrders.nodes,
        { class: 'compact', 'data-testid': 'orders' },
      ),
    ),
    h('div', { class: 'grid-2' },
      h('section', { class: 'panel' },
        h('h2', {}, t('customers.invoices'), ' ', h('span', { class: 'muted' }, t('customers.count', { n: c.invoices.totalCount }))),
        table(
          [
            { label: t('customers.invoiceCode'), cell: (i) => i.code },
            { label: t('customers.invoiceDate'), cell: (i) => show(i.invoiceDate) },
            { label: t('customers.dueDate'), cell: (i) => show(i.dueDate) },
            { label: t('customers.amount'), class: 'num', cell: (i) => fmtMoney(i.amount) },
            { label: t('customers.balance'), class: 'num', cell: (i) => fmtMoney(i.balance) },
            { label: t('customers.status'), cell: (i) => badge(t(`invoice.${i.status}`, {}, i.status ?? '—'), statusKind(i.status)) },
          ],
          c.invoices.nodes,
          { class: 'compact', 'data-testid': 'invoices' },
        ),
      ),
      h('section', { class: 'panel', 'data-testid': 'approvals-panel' },
        h('h2', {}, t('customers.approvals'), ' ', h('span', { class: 'muted' }, t('customers.count', { n: c.approvals.totalCount }))),
        c.approvals.nodes.length === 0
          ? h('p', { class: 'empty' }, t('customers.noApprovals'))
          : table(
              [
                { label: t('customers.approvalTitle'), cell: (a) => h('span', {}, a.title, h('div', { class: 'muted small' }, show(a.workflow))) },
                { label: t('customers.requester'), cell: (a) => show(a.requester) },
                { label: t('customers.submitted'), cell: (a) => fmtTime(a.submittedAt, ctx.lang) },
                { label: t('customers.amount'), class: 'num', cell: (a) => fmtMoney(a.amount) },
                { label: t('customers.status'), cell: (a) => badge(t(`approval.${a.status}`, {}, a.status ?? '—'), statusKind(a.status)) },
              ],
              c.approvals.nodes,
              { class: 'compact', 'data-testid': 'approvals' },
            ),
      ),
    ),
    surveysPanel(ctx, c.surveyResponses),
  );
}

export default {
  id: 'customers',
  async render(ctx) {
    const arg = ctx.args[0] ?? '';
    if (arg && !arg.startsWith('?')) return detail(ctx, arg);
    const term = new URLSearchParams(arg.replace(/^\?/, '')).get('q') ?? '';
    return list(ctx, term);
  },
};
