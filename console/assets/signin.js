// Sign-in: the API key (auth mode apiKey) or JWT (mode jwt) is kept in this tab's sessionStorage
// and sent on every GraphQL call, exactly as any API client sends it. POST /console/session checks
// it once and sets an HttpOnly cookie that only lets the browser load the console's own files.
import { h, clear } from './dom.js';
import { t, lang, setLang, onLangChange } from './i18n.js';

export const CREDENTIAL_KEY = 'crmlink.console.credential';

/** none | apiKey | jwt, as the server rendered it into <html data-auth>. */
export function authMode() {
  return document.documentElement.dataset.auth || 'none';
}

export function credential() {
  try {
    return sessionStorage.getItem(CREDENTIAL_KEY);
  } catch {
    return null;
  }
}

/** The headers that carry the credential, as the API expects them. */
export function authHeaders(mode = authMode(), cred = credential()) {
  if (!cred || mode === 'none') return {};
  return mode === 'jwt' ? { authorization: `Bearer ${cred}` } : { 'x-api-key': cred };
}

/** Check a credential with the server and open a console session for it. */
export async function startSession(cred, mode = authMode()) {
  const res = await fetch('/console/session', { method: 'POST', headers: authHeaders(mode, cred), credentials: 'same-origin' });
  let body = {};
  try {
    body = await res.json();
  } catch {
    body = {};
  }
  return { ok: res.ok, status: res.status, body };
}

export async function signOut() {
  try {
    sessionStorage.removeItem(CREDENTIAL_KEY);
  } catch {
    /* storage unavailable */
  }
  await fetch('/console/session', { method: 'DELETE', credentials: 'same-origin' }).catch(() => undefined);
}

export function langSwitch() {
  const sel = h('select', { class: 'lang', 'aria-label': t('lang.label'), 'data-testid': 'lang' },
    h('option', { value: 'zh', selected: lang() === 'zh' }, '中文'),
    h('option', { value: 'en', selected: lang() === 'en' }, 'English'),
  );
  sel.addEventListener('change', () => setLang(sel.value));
  return sel;
}

/**
 * The sign-in form in `root`. `onSuccess(session)` runs once the server accepted the credential
 * (the credential is then in sessionStorage).
 */
export function mountSignin(root, { message = '', onSuccess } = {}) {
  const mode = authMode();
  const render = () => {
    const input = h('input', {
      type: 'password',
      id: 'credential',
      name: 'credential',
      autocomplete: 'off',
      required: true,
      'data-testid': 'credential',
      placeholder: mode === 'jwt' ? 'eyJhbGciOi…' : '',
    });
    const error = h('p', { class: 'error', role: 'alert', 'data-testid': 'signin-error' }, message);
    const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'signin-submit' }, t('signin.submit'));
    const form = h('form', { class: 'signin', 'aria-labelledby': 'signin-title' },
      h('div', { class: 'signin-head' }, h('h1', { id: 'signin-title' }, t('app.title')), langSwitch()),
      h('p', {}, t(mode === 'jwt' ? 'signin.intro.jwt' : 'signin.intro.apiKey')),
      h('label', { for: 'credential' }, t(mode === 'jwt' ? 'signin.token' : 'signin.key')),
      input,
      error,
      button,
      h('p', { class: 'hint' }, t('signin.hint')),
    );
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const cred = input.value.trim();
      if (!cred) return;
      button.disabled = true;
      error.textContent = '';
      try {
        const r = await startSession(cred, mode);
        if (!r.ok) {
          error.textContent = r.status === 403 ? `${t('signin.forbidden')} ${r.body.error ?? ''}` : `${t('signin.rejected')} ${r.body.error ?? ''}`;
          return;
        }
        sessionStorage.setItem(CREDENTIAL_KEY, cred);
        onSuccess?.(r.body);
      } catch (err) {
        error.textContent = `${t('error.network')} ${err instanceof Error ? err.message : ''}`;
      } finally {
        button.disabled = false;
      }
    });
    clear(root).append(form);
    input.focus();
  };
  render();
  return onLangChange(render);
}

// The sign-in page (401 from /console): a credential still in this tab signs in again by itself
// (the server restarted, or the session expired); otherwise the form.
// A browser that keeps refusing the session cookie would come straight back here: the automatic
// sign-in is tried once every few seconds at most, then the form says why.
const AUTO_KEY = 'crmlink.console.signedInAt';
if (globalThis.document?.body?.dataset.page === 'signin') {
  const root = document.getElementById('signin');
  const message = root?.dataset.message ?? '';
  const go = () => {
    sessionStorage.setItem(AUTO_KEY, String(Date.now()));
    location.replace('/console');
  };
  const stored = credential();
  const recent = Date.now() - Number(sessionStorage.getItem(AUTO_KEY) ?? 0) < 5000;
  const show = (m) => mountSignin(root, { message: m, onSuccess: go });
  if (stored && !recent) {
    startSession(stored).then((r) => (r.ok ? go() : (sessionStorage.removeItem(CREDENTIAL_KEY), show(r.body.error ?? message))), () => show(message));
  } else {
    show(stored && recent ? t('signin.cookies') : '');
  }
}
