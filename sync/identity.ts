/**
 * Linking source rows that the cross-reference does not know yet to golden records.
 *
 * - Customer: the identity matcher (credit code, normalised name, phone, e-mail, as configured in
 *   `entities.Customer.match`, the default rules when absent) against the hub's customers. The
 *   agreeing rules' weights combine into one score (docs/identity.md): at or above the link
 *   threshold the row links to that customer; at or above the candidate threshold it creates a new
 *   customer and a merge candidate for a person to accept or reject.
 *   A sure match to a customer that already has another row of the same source is treated as
 *   probable: two rows of one system are two records there, and linking both to one golden record
 *   would make them overwrite each other.
 * - Entities with a `code` field (products, orders, invoices, ...): the business code, when exactly
 *   one live hub record has it and that record has no row of this source yet.
 * - Otherwise, and when nothing matches: a new golden record.
 *
 * Customers are matched per page against the hub customers that share a match key with the page's
 * rows (normalised name, credit code, phone, e-mail: hub/match-keys.ts), read in one statement
 * through the keys' indexes, so a run holds one page's candidates, never the whole hub. Rows
 * stored without keys (written by a process that derives none, or keyed by an older derivation) are
 * keyed before the run's first lookup, and before every lookup when this process itself stores
 * customers unkeyed. A read-only hub from before the match keys (a dry run) is matched as before:
 * an index of every hub customer, built once per run and extended with the records the run
 * creates, dropped when a page rolls back.
 */
import type { Knex } from 'knex';
import type { Hub } from '../hub/hub.js';
import { ENTITY_SYSTEM_COLUMNS as C } from '../hub/tables.js';
import { MATCH_KEY_RULES, type MatchKeyRule } from '../hub/match-keys.js';
import {
  CUSTOMER_MATCH_KEYS,
  DEFAULT_MAX_SHARED_CONTACT,
  DEFAULT_RULES,
  MatchIndex,
  matchInputOf,
  matchKeysOf,
  type MatchRule,
  type MatchThresholds,
} from '../identity/matcher.js';
import type { CrmRecord, EntityName } from '../model/entities.js';

type Q = Knex | Knex.Transaction;

export interface LinkRequest {
  sourceKey: string;
  record: CrmRecord;
}

export interface LinkDecision {
  gid: string;
  /** true: a new golden record is to be created under `gid`. */
  isNew: boolean;
  /** The rule that linked an existing record (creditCode, name, code, ...), or null for a new one. */
  rule: string | null;
  /** A probable match to record as a merge candidate. */
  candidate?: { gid: string; score: number; rule: string; reason: string };
  /** An invalid credit code met while matching (reported, never used to match). */
  invalidCode?: string;
}

/** Rows keyed per statement when the hub holds customers without match keys. */
const REKEY_BATCH = 1000;

export class IdentityLinker {
  /** Every hub customer, only for a read-only hub without match keys (see the module comment). */
  private index: MatchIndex | null = null;
  /** The hub's unkeyed customers were keyed in this run (and nothing rolled back since). */
  private keyed = false;
  /** code → gid of live hub records, built lazily for code linking. */
  private readonly codes = new Map<string, string | null>();
  private readonly rules: readonly MatchRule[];

  constructor(
    private readonly hub: Hub,
    readonly entity: EntityName,
    rules: readonly MatchRule[] | undefined,
    private readonly thresholds?: Partial<MatchThresholds>,
  ) {
    this.rules = rules && rules.length > 0 ? rules : DEFAULT_RULES;
  }

  /** Forget everything learnt since the last commit (the page rolled back). */
  invalidate(): void {
    this.index = null;
    this.keyed = false;
    this.codes.clear();
  }

  /** Keep the index in step with records the run wrote. */
  update(gid: string, values: CrmRecord, deleted: boolean): void {
    if (this.index) {
      if (deleted) this.index.remove(gid);
      else this.index.add(matchInputOf(gid, values));
    }
    const code = values.code;
    if (typeof code === 'string' && this.codes.size > 0) this.codes.set(code, deleted ? null : gid);
  }

  /**
   * Decide, for rows whose source keys have no cross-reference yet, which golden record each
   * belongs to. Runs inside the page's transaction (`q`).
   */
  async link(q: Q, source: string, requests: readonly LinkRequest[]): Promise<Map<string, LinkDecision>> {
    const out = new Map<string, LinkDecision>();
    if (requests.length === 0) return out;
    if (this.entity === 'Customer') await this.linkCustomers(q, source, requests, out);
    else if (this.hub.fields(this.entity).some((f) => f.name === 'code')) await this.linkByCode(q, source, requests, out);
    else for (const r of requests) out.set(r.sourceKey, { gid: this.hub.newId(this.entity), isNew: true, rule: null });
    return out;
  }

  private async linkCustomers(q: Q, source: string, requests: readonly LinkRequest[], out: Map<string, LinkDecision>): Promise<void> {
    const index = this.hub.store.matchKeyColumns ? await this.pageIndex(q, requests) : await this.ensureIndex(q);
    // Which candidate gids already have a row of this source (in the hub or earlier in this page).
    const taken = new Set<string>();
    const pending: { req: LinkRequest; sure?: { gid: string; rule: string }; probable?: LinkDecision['candidate']; invalid?: string }[] = [];
    for (const req of requests) {
      const probe = `?${source}:${req.sourceKey}`;
      const { matches, invalid } = index.find(matchInputOf(probe, req.record));
      const best = [...matches].sort((a, b) => b.score - a.score || (a.b < b.b ? -1 : 1));
      const sure = best.find((m) => m.certainty === 'sure');
      const probable = best.find((m) => m.certainty === 'probable');
      pending.push({
        req,
        sure: sure ? { gid: sure.b, rule: sure.rule } : undefined,
        probable: probable ? { gid: probable.b, score: probable.score, rule: probable.rule, reason: probable.reason } : undefined,
        invalid: invalid ? `${invalid.value}: ${invalid.reason}` : undefined,
      });
    }
    const sureGids = pending.flatMap((p) => (p.sure ? [p.sure.gid] : []));
    for (const gid of await this.hub.store.xref.gidsWithKeys(q, this.entity, source, sureGids)) taken.add(gid);
    for (const p of pending) {
      let decision: LinkDecision;
      if (p.sure && !taken.has(p.sure.gid)) {
        decision = { gid: p.sure.gid, isNew: false, rule: p.sure.rule };
        taken.add(p.sure.gid);
      } else {
        const gid = this.hub.newId(this.entity);
        const candidate = p.sure
          ? { gid: p.sure.gid, score: 1, rule: p.sure.rule, reason: `sure ${p.sure.rule} match, but that customer already has another ${source} row` }
          : p.probable;
        decision = { gid, isNew: true, rule: null, ...(candidate ? { candidate } : {}) };
        taken.add(gid);
        this.index?.add(matchInputOf(gid, p.req.record));
      }
      if (p.invalid) decision.invalidCode = p.invalid;
      out.set(p.req.sourceKey, decision);
    }
  }

  private async linkByCode(q: Q, source: string, requests: readonly LinkRequest[], out: Map<string, LinkDecision>): Promise<void> {
    const table = this.hub.table(this.entity);
    const wanted = [...new Set(requests.map((r) => r.record.code).filter((c): c is string => typeof c === 'string' && c !== ''))].filter(
      (c) => !this.codes.has(c),
    );
    for (let i = 0; i < wanted.length; i += 500) {
      const part = wanted.slice(i, i + 500);
      const rows = (await q(table)
        .whereIn('code', part)
        .where(C.deleted, false)
        .whereNull(C.mergedInto)
        .select(C.id, 'code')) as { id: string; code: string }[];
      const seen = new Map<string, string[]>();
      for (const r of rows) seen.set(r.code, [...(seen.get(r.code) ?? []), r.id]);
      // Ambiguous codes (two live records) link nothing: null.
      for (const c of part) {
        const ids = seen.get(c) ?? [];
        this.codes.set(c, ids.length === 1 ? ids[0] : null);
      }
    }
    const candidates = [...new Set(requests.map((r) => (typeof r.record.code === 'string' ? this.codes.get(r.record.code) : null)).filter((g): g is string => !!g))];
    const taken = await this.hub.store.xref.gidsWithKeys(q, this.entity, source, candidates);
    for (const req of requests) {
      const code = typeof req.record.code === 'string' && req.record.code !== '' ? req.record.code : null;
      const gid = code ? this.codes.get(code) : null;
      if (gid && !taken.has(gid)) {
        out.set(req.sourceKey, { gid, isNew: false, rule: 'code' });
        taken.add(gid);
        continue;
      }
      const fresh = this.hub.newId(this.entity);
      out.set(req.sourceKey, { gid: fresh, isNew: true, rule: null });
      taken.add(fresh);
      if (code && !this.codes.get(code)) this.codes.set(code, fresh);
    }
  }

  /**
   * The hub customers sharing a match key with any of `requests`, as an index: one statement for
   * the page. A contact key shared by more hub customers than the matcher allows is passed on as
   * shared, so the candidates read through another key do not make it count.
   */
  private async pageIndex(q: Q, requests: readonly LinkRequest[]): Promise<MatchIndex> {
    const { store } = this.hub;
    if (!this.keyed || !store.matchKeyDeriver) {
      while ((await store.matchKeys.rekey(q, CUSTOMER_MATCH_KEYS, REKEY_BATCH)) === REKEY_BATCH);
      this.keyed = true;
    }
    const keys: Record<MatchKeyRule, Set<string>> = { creditCode: new Set(), name: new Set(), phone: new Set(), email: new Set() };
    for (const r of requests) {
      const k = matchKeysOf(matchInputOf('', r.record));
      for (const rule of MATCH_KEY_RULES) if (k[rule] !== null) keys[rule].add(k[rule]);
    }
    const lists = { creditCode: [...keys.creditCode], name: [...keys.name], phone: [...keys.phone], email: [...keys.email] };
    const found = await store.matchKeys.lookup(q, this.rules.map((r) => r.rule), lists, DEFAULT_MAX_SHARED_CONTACT);
    const shared = (rule: MatchKeyRule) => new Set(found.shared.filter((c) => c.rule === rule).map((c) => c.key));
    const index = new MatchIndex(this.rules, { thresholds: this.thresholds, sharedContacts: { phone: shared('phone'), email: shared('email') } });
    for (const row of found.rows) index.add(matchInputOf(row.id, row));
    return index;
  }

  private async ensureIndex(q: Q): Promise<MatchIndex> {
    if (this.index) return this.index;
    const index = new MatchIndex(this.rules, { thresholds: this.thresholds });
    const table = this.hub.table(this.entity);
    // Keyset over ids: bounded memory per round trip even for a large hub.
    let after = '';
    for (;;) {
      const rows = (await q(table)
        .where(C.deleted, false)
        .whereNull(C.mergedInto)
        .where(C.id, '>', after)
        .orderBy(C.id)
        .limit(5000)
        .select(C.id, 'name', 'creditCode', 'phone', 'email')) as Record<string, unknown>[];
      for (const r of rows) index.add(matchInputOf(String(r[C.id]), r as CrmRecord));
      if (rows.length < 5000) break;
      after = String(rows[rows.length - 1][C.id]);
    }
    this.index = index;
    return index;
  }
}
