// The console shell: sign-in when needed, who is signed in, navigation, and the screens.
import { h, clear } from './dom.js';
import { t, lang, onLangChange, applyLang } from './i18n.js';
import { gql, gqlRaw, subscribe, ApiError } from './api.js';
import { failureText } from './server-text.js';
import { authMode, credential, mountSignin, signOut, langSwitch } from './signin.js';
import sources from './views/sources.js';
import jobs from './views/jobs.js';
import conflicts from './views/conflicts.js';
import parked from './views/parked.js';
import merges from './views/merges.js';
import customers from './views/customers.js';
import analysis from './views/analysis.js';

const VIEWS = [sources, jobs, conflicts, parked, merges, customers, analysis];
const DEFAULT = '#/sources';

const state = { viewer: null, badges: {}, cleanup: null, renderSeq: 0, stopConflicts: null };

const $ = (id) => document.getElementById(id);

// ---------------------------------------------------------------------------------------------
// Messages and dialogs

export function toast(message, kind = 'info') {
  const el = h('div', { class: ['toast', `toast-${kind}`], role: kind === 'error' ? 'alert' : 'status', 'data-testid': 'toast', title: t('toast.dismiss') }, message);
  el.addEventListener('click', () => el.remove());
  $('toasts').append(el);
  while ($('toasts').children.length > 4) $('toasts').firstElementChild.remove();
  setTimeout(() => el.remove(), kind === 'error' ? 10000 : 5000);
}

/**
 * A modal dialog. `actions`: [{ label, value, kind, testid }]; resolves with the chosen value, or
 * null when dismissed. `body` may be a Node or a function (close) → Node.
 */
export function dialog({ title, body, actions = [], wide = false, testid }) {
  return new Promise((resolve) => {
    const dlg = h('dialog', { class: ['dialog', wide && 'dialog-wide'], 'data-testid': testid, 'aria-labelledby': 'dialog-title' });
    const close = (value) => {
      dlg.close();
      dlg.remove();
      resolve(value);
    };
    dlg.append(
      h('header', {}, h('h2', { id: 'dialog-title' }, title), h('button', { class: 'icon', 'aria-label': t('action.close'), on: { click: () => close(null) } }, '×')),
      h('div', { class: 'dialog-body' }, typeof body === 'function' ? body(close) : body),
      h('footer', {}, actions.map((a) => h('button', { class: a.kind ?? '', 'data-testid': a.testid, disabled: a.disabled, on: { click: () => close(a.value) } }, a.label))),
    );
    dlg.addEventListener('cancel', (ev) => {
      ev.preventDefault();
      close(null);
    });
    document.body.append(dlg);
    dlg.showModal();
  });
}

export async function confirmAction({ title, body, ok, kind = 'primary', testid = 'confirm' }) {
  const v = await dialog({ title, body, testid: `${testid}-dialog`, actions: [{ label: t('action.cancel'), value: false }, { label: ok, value: true, kind, testid }] });
  return v === true;
}

// ---------------------------------------------------------------------------------------------
// Shell

function canWrite() {
  return Boolean(state.viewer?.write);
}

/** A button that changes something: disabled (with the reason) for a read-only role. */
function actionButton(label, { onClick, kind = '', testid, title } = {}) {
  const b = h('button', { class: kind, 'data-testid': testid, title: canWrite() ? title : t('readonly.title') }, label);
  if (!canWrite()) b.disabled = true;
  else
    b.addEventListener('click', async () => {
      b.disabled = true;
      b.classList.add('busy');
      try {
        await onClick();
      } catch (err) {
        toast(errorText(err), 'error');
      } finally {
        b.disabled = false;
        b.classList.remove('busy');
      }
    });
  return b;
}

export function errorText(err) {
  // In Chinese the code is said in Chinese (server-text.js); the server's message is English.
  if (err instanceof ApiError) return failureText(err.message, err.code);
  return `${t('error.prefix')} ${err instanceof Error ? err.message : String(err)}`;
}

async function refreshBadges() {
  try {
    const d = await gql(`{ conflicts(first: 0) { totalCount } parkedRecords(first: 1000) { id } mergeCandidates(first: 500) { id } }`);
    state.badges = { conflicts: d.conflicts.totalCount, parked: d.parkedRecords.length, merges: d.mergeCandidates.length };
  } catch {
    state.badges = {};
  }
  renderNav();
}

function renderNav() {
  const current = routeOf(location.hash).view;
  const nav = clear($('nav'));
  for (const v of VIEWS) {
    const n = state.badges[v.id];
    nav.append(
      h('a', { href: `#/${v.id}`, class: current === v ? 'active' : '', 'aria-current': current === v ? 'page' : undefined, 'data-testid': `nav-${v.id}` },
        t(`nav.${v.id}`),
        n ? h('span', { class: 'count', 'aria-label': t('nav.count', { n }) }, String(n)) : null,
      ),
    );
  }
  const who = clear($('who'));
  if (state.viewer) {
    who.append(h('span', { class: 'user', title: t('who.title'), 'data-testid': 'who' }, state.viewer.user, ' · ', h('b', {}, state.viewer.role)));
    if (!canWrite()) who.append(h('span', { class: 'badge badge-warn', 'data-testid': 'readonly', title: t('readonly.title') }, t('readonly.badge')));
  }
  who.append(langSwitch());
  if (authMode() !== 'none') {
    who.append(h('button', { class: 'link', 'data-testid': 'signout', on: { click: async () => { await signOut(); location.replace('/console'); } } }, t('action.signout')));
  }
}

function routeOf(hash) {
  const parts = (hash || DEFAULT).replace(/^#\/?/, '').split('/').map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return p;
    }
  });
  const view = VIEWS.find((v) => v.id === parts[0]);
  return view ? { view, args: parts.slice(1) } : { view: VIEWS[0], args: [] };
}

async function route() {
  const seq = ++state.renderSeq;
  const { view, args } = routeOf(location.hash);
  if (typeof state.cleanup === 'function') state.cleanup();
  state.cleanup = null;
  renderNav();
  document.title = `${t(`nav.${view.id}`)} · ${t('app.title')}`;
  const root = clear($('view'));
  root.append(h('p', { class: 'loading' }, t('loading')));
  const ctx = {
    root: h('section', { class: `view view-${view.id}`, 'data-view': view.id, 'data-hash': location.hash || DEFAULT }),
    args,
    viewer: state.viewer,
    lang: lang(),
    t,
    gql,
    gqlRaw,
    toast,
    dialog,
    confirm: confirmAction,
    canWrite: canWrite(),
    actionButton,
    errorText,
    refreshBadges,
    navigate: (hash) => {
      location.hash = hash;
    },
    rerender: () => route(),
    current: () => seq === state.renderSeq,
  };
  try {
    state.cleanup = (await view.render(ctx)) ?? null;
    if (seq !== state.renderSeq) return;
    clear(root).append(ctx.root);
  } catch (err) {
    if (seq !== state.renderSeq) return;
    clear(root).append(h('div', { class: 'panel error-panel', role: 'alert' }, h('h2', {}, t('error.title')), h('p', {}, errorText(err))));
  }
}

function showSignin(message = '') {
  const overlay = h('div', { class: 'signin-overlay', 'data-testid': 'signin-overlay' });
  document.body.append(overlay);
  const stop = mountSignin(overlay, {
    message,
    onSuccess: () => {
      stop();
      overlay.remove();
      boot();
    },
  });
}

async function boot() {
  try {
    const d = await gql('{ viewer { user role team customers admin write } }');
    state.viewer = d.viewer;
  } catch (err) {
    if (err instanceof ApiError && err.code === 'UNAUTHENTICATED') return; // the sign-in is shown
    clear($('view')).append(h('div', { class: 'panel error-panel', role: 'alert' }, h('p', {}, errorText(err))));
    return;
  }
  if (!state.viewer.admin) {
    renderNav();
    clear($('view')).append(h('div', { class: 'panel error-panel', role: 'alert', 'data-testid': 'refused' }, h('h2', {}, t('refused.title')), h('p', {}, t('refused.body', { role: state.viewer.role }))));
    return;
  }
  await route();
  void refreshBadges();
  followConflicts();
}

/**
 * New conflicts from the conflictOpened subscription (one event stream for the session, no
 * polling): the badge counts them and the conflicts view is told (crmlink:conflict-opened).
 */
function followConflicts() {
  state.stopConflicts?.();
  state.stopConflicts = subscribe('subscription { conflictOpened { id entity recordId field } }', {}, {
    onData: (d) => {
      state.badges = { ...state.badges, conflicts: (state.badges.conflicts ?? 0) + 1 };
      renderNav();
      window.dispatchEvent(new CustomEvent('crmlink:conflict-opened', { detail: d.conflictOpened }));
    },
  });
}

applyLang();
window.addEventListener('hashchange', () => void route());
window.addEventListener('crmlink:unauthenticated', (ev) => {
  if (!document.querySelector('.signin-overlay')) showSignin(ev.detail || t('signin.expired'));
});
onLangChange(() => {
  renderNav();
  if (state.viewer?.admin) void route();
});
if (authMode() !== 'none' && !credential()) showSignin('');
else void boot();
