// Text the server sends is English (error messages, conflict reasons, merge reasons). Where it
// comes with a code (an error code, a conflict's rule and values, a merge rule) the console says
// it in the page's language from that code; the server's own words stay available on hover
// (title) and are shown as they are in English.
import { h, show } from './dom.js';
import { t, lang } from './i18n.js';

/** The text of an error code in the page's language, or null for an unknown code. */
export function codeText(code) {
  if (!code) return null;
  const key = `error.code.${code}`;
  const text = t(key);
  return text === key ? null : text;
}

/** "Failed: <what>" for an error from the API (ApiError: message and code) or anything thrown. */
export function failureText(message, code) {
  if (lang() === 'en' || !codeText(code ?? 'INTERNAL')) return `${t('error.prefix')} ${message}${code && code !== 'INTERNAL' ? ` (${code})` : ''}`;
  return `${t('error.prefix')}${codeText(code ?? 'INTERNAL')}（${code ?? 'INTERNAL'}）`;
}

/** An error code with its message: the message in English, the code's text in Chinese (message on hover). */
export function coded(code, message) {
  if (lang() === 'en' || !codeText(code)) return h('span', {}, h('code', {}, code), ' ', message ?? '');
  return h('span', { title: message ?? '' }, h('code', {}, code), ' ', codeText(code));
}

/** Why a conflict is there: the server's reason in English; rebuilt from its rule and values otherwise. */
export function conflictReason(c) {
  if (lang() === 'en') return c.reason;
  const values = Array.isArray(c.values) ? Object.fromEntries(c.values.map((v) => [v.side, v.value])) : (c.values ?? {});
  const source = Object.keys(values).find((s) => s !== 'hub') ?? '';
  const field = t(`field.${c.field}`, {}, c.field);
  const what = t(c.base === undefined || c.base === null ? 'reason.changedNoBase' : 'reason.changed', { field, source, sv: show(values[source]), hv: show(values.hub), base: show(c.base) });
  // Closed by a sync because every side came to hold one value: the rule no longer speaks.
  if (c.resolution?.agreed === true) return `${what}；${t('reason.agreed', { value: show(c.resolution.value) })}`;
  return `${what}；${ruleText(c.rule, source, c.winner)}`;
}

function ruleText(rule, source, winner) {
  if (rule === 'manual') return t('reason.rule.manual');
  if (rule === 'hub') return t('reason.rule.hub');
  if (typeof rule === 'string' && rule.startsWith('source:')) {
    const authority = rule.slice('source:'.length);
    return t(winner === null || winner === undefined ? 'reason.rule.authorityNeither' : 'reason.rule.authority', { authority });
  }
  if (rule === 'newest') return t(winner === null || winner === undefined ? 'reason.rule.newestUndecided' : 'reason.rule.newest', { winner: winner === 'hub' ? t('reason.hub') : (winner ?? '') });
  return String(rule ?? '');
}

/** Why two records may be one: the server's reason in English; the matching rules otherwise. */
export function mergeReason(c) {
  if (lang() === 'en') return c.reason;
  const rules = String(c.rule ?? '').split(/[+,\s]+/).filter(Boolean);
  return rules.map((r) => t(`rule.${r}`, {}, r)).join('、') || c.reason;
}
