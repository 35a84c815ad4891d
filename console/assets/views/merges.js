// Merge candidates: the two customers side by side, the score and why; accept (choosing which
// record survives) or reject. Unmerge lives on the customer's page.
import { h, add, badge, statusKind, show, fmtTime } from '../dom.js';
import { mergeReason } from '../server-text.js';

const FIELDS = ['name', 'code', 'creditCode', 'phone', 'email', 'address', 'city', 'province', 'status'];

export default {
  id: 'merges',
  async render(ctx) {
    const { t } = ctx;
    const status = ctx.args[0] || 'open';
    // The address keeps the lower-case word (#/merges/accepted); the API takes the enum value.
    const d = await ctx.gql(`query($s: MergeCandidateStatusFilter) { mergeCandidates(status: $s, first: 100) {
      id entity score rule reason status createdAt decidedAt decidedBy
      a { id exists mergedInto deleted values { ${FIELDS.join(' ')} } sourceKeys { source key } }
      b { id exists mergedInto deleted values { ${FIELDS.join(' ')} } sourceKeys { source key } }
    } }`, { s: status.toUpperCase() });

    const name = (side) => side.values?.name ?? side.id;
    const filled = (side) => FIELDS.filter((f) => side.values?.[f] != null).length + side.sourceKeys.length;

    const accept = async (c, survivor, gone) => {
      const ok = await ctx.confirm({
        title: t('merges.confirmTitle'),
        body: h('div', {},
          h('p', {}, t('merges.confirmBody', { keep: name(survivor), gone: name(gone) })),
          h('p', { class: 'muted' }, t('merges.confirmNote')),
        ),
        ok: t('merges.merge'),
        testid: 'confirm-merge',
      });
      if (!ok) return;
      const r = (await ctx.gql('mutation($id: ID!, $s: ID) { acceptMergeCandidate(id: $id, survivor: $s) { mergeId survivor merged movedKeys { source key } changedFields } }', { id: c.id, s: survivor.id })).acceptMergeCandidate;
      ctx.toast(t('merges.merged', { keep: name(survivor), n: r.movedKeys.length }), 'ok');
      await ctx.refreshBadges();
      if (ctx.current()) ctx.rerender();
    };
    const reject = async (c) => {
      const ok = await ctx.confirm({ title: t('merges.rejectTitle'), body: h('p', {}, t('merges.rejectBody', { a: name(c.a), b: name(c.b) })), ok: t('merges.reject'), kind: 'danger', testid: 'confirm-reject' });
      if (!ok) return;
      await ctx.gql('mutation($id: ID!) { rejectMergeCandidate(id: $id) { id status } }', { id: c.id });
      ctx.toast(t('merges.rejected', { a: name(c.a), b: name(c.b) }), 'ok');
      await ctx.refreshBadges();
      if (ctx.current()) ctx.rerender();
    };

    const sideHead = (side, label) =>
      h('th', { scope: 'col' },
        h('span', { class: 'muted small' }, label), h('br'),
        h('a', { href: `#/customers/${encodeURIComponent(side.id)}` }, name(side)),
        side.mergedInto ? badge(t('merges.mergedInto'), 'warn') : null,
        side.deleted ? badge(t('merges.deleted'), 'bad') : null,
      );

    const card = (c) => {
      const rows = FIELDS.filter((f) => c.a.values?.[f] != null || c.b.values?.[f] != null).map((f) => {
        const va = c.a.values?.[f] ?? null;
        const vb = c.b.values?.[f] ?? null;
        const same = va !== null && vb !== null && String(va) === String(vb);
        const differ = va !== null && vb !== null && !same;
        return h('tr', { class: same ? 'same' : differ ? 'differ' : '' }, h('th', { scope: 'row' }, t(`field.${f}`)), h('td', {}, show(va)), h('td', {}, show(vb)));
      });
      const keys = (side) => (side.sourceKeys.length ? side.sourceKeys.map((k) => h('span', { class: 'chip' }, `${k.source}: ${k.key}`)) : '—');
      return h('article', { class: 'panel candidate', 'data-testid': `candidate-${c.id}`, 'data-candidate': c.id },
        h('header', { class: 'panel-head' },
          h('div', { class: 'score' },
            h('span', { class: 'score-num' }, `${Math.round(c.score * 100)}%`),
            h('meter', { min: 0, max: 1, value: c.score, low: 0.7, high: 0.85, optimum: 1, 'aria-label': t('merges.score') }),
          ),
          h('div', { class: 'why' }, h('div', {}, badge(t(`rule.${c.rule}`, {}, c.rule), 'info'), ' ', badge(t(`merges.status.${c.status.toLowerCase()}`, {}, c.status.toLowerCase()), statusKind(c.status))), h('p', { title: c.reason }, mergeReason(c))),
          h('div', { class: 'muted small' }, fmtTime(c.createdAt, ctx.lang), c.decidedBy ? h('div', {}, t('merges.decidedBy', { who: c.decidedBy, at: fmtTime(c.decidedAt, ctx.lang) })) : null),
        ),
        h('div', { class: 'table-wrap' },
          h('table', { class: 'side-by-side' },
            h('thead', {}, h('tr', {}, h('th', {}), sideHead(c.a, 'A'), sideHead(c.b, 'B'))),
            h('tbody', {}, rows, h('tr', {}, h('th', { scope: 'row' }, t('merges.sourceKeys')), h('td', {}, keys(c.a)), h('td', {}, keys(c.b)))),
          ),
        ),
        c.status === 'OPEN'
          ? h('footer', { class: 'buttons' },
              // The record that knows more is the suggested survivor.
              ctx.actionButton(t('merges.keepA'), { kind: filled(c.a) >= filled(c.b) ? 'primary' : '', testid: `accept-a-${c.id}`, onClick: () => accept(c, c.a, c.b) }),
              ctx.actionButton(t('merges.keepB'), { kind: filled(c.b) > filled(c.a) ? 'primary' : '', testid: `accept-b-${c.id}`, onClick: () => accept(c, c.b, c.a) }),
              ctx.actionButton(t('merges.reject'), { kind: 'danger', testid: `reject-${c.id}`, onClick: () => reject(c) }),
            )
          : null,
      );
    };

    add(ctx.root, 
      h('header', { class: 'view-head' }, h('h1', {}, t('nav.merges')), h('p', { class: 'muted' }, t('merges.intro'))),
      h('div', { class: 'toolbar' },
        h('label', { class: 'filter' }, t('filter.status'),
          h('select', { 'data-testid': 'merge-status', on: { change: (ev) => ctx.navigate(`#/merges/${ev.target.value}`) } },
            ['open', 'accepted', 'rejected', 'superseded', 'all'].map((s) => h('option', { value: s, selected: s === status }, t(`merges.status.${s}`))),
          ),
        ),
        h('span', { class: 'muted' }, t('merges.count', { n: d.mergeCandidates.length })),
      ),
      d.mergeCandidates.length === 0 ? h('p', { class: 'empty', 'data-testid': 'no-candidates' }, t('merges.none')) : h('div', { class: 'candidates' }, d.mergeCandidates.map(card)),
    );
  },
};
