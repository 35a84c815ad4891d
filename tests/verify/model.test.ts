/**
 * Model-based randomized test of the sync (fast-check): generated histories over the hub and three
 * sources on real databases (ERP on PostgreSQL, finance on MariaDB, OA on SQLite; the hub on SQLite,
 * and in a second variant on PostgreSQL), checked against a reference model of the intended outcome.
 *
 * The model. Every value a history writes is a fresh token (P17, City18, m19@x.cn, N20, 21), so any
 * value found anywhere tells which edit it came from. Each edit records the value the system held
 * when the edit was made: its parent. That gives, per record and field, a graph of versions in which
 * "v is an ancestor of w" means whoever wrote w had seen v — it was overwritten knowingly. A
 * conflict resolution makes the chosen value a child of every value the conflict named. Deletes
 * record every value the deleting system held. The intended outcome follows, without re-implementing
 * the merge:
 *   - a field whose versions have ONE maximal element must hold it in every system, with no conflict;
 *   - with several maximal elements (concurrent edits), each must be the final value or be named in a
 *     conflict record, and a conflict must only ever be raised between concurrent values;
 *   - a value nobody wrote must never appear.
 *
 * Commands: insert in a source (or the same new customer typed into ERP and finance at once), edit
 * random fields in a source or the hub (a hub edit is what a GraphQL mutation does: _version + 1, a
 * fresh _seq, provenance 'hub'), two systems editing the same or different fields before a run,
 * delete, a run of a random job (all, erp_fin, fin_oa), resolving an open conflict (keep hub, keep
 * a source, a new value), and ERP clock skew (its timestamps shifted ±30 min).
 *
 * Checked after every run: the run succeeds; running the same job again writes nothing and changes
 * nothing (idempotence, no echo); no conflict between values that were not concurrent; each new
 * conflict's policy was applied (open: the hub kept its value; decided: the winner's value is in);
 * deleted records stay deleted. After every history, once `all` has run until quiet: convergence (every
 * system agrees on every field, or there is an open conflict for it), the intended outcome above,
 * no lost update (every value written is the final value, an ancestor of it, or named in a conflict
 * record), no duplicate (one record per customer in the hub and in every source, no orphan rows),
 * deletes stay deleted, and determinism (every other history is replayed from scratch with the
 * sources listed in the reverse order in the config: the same final state, row for row).
 *
 * A failure prints the shrunk command list, the history as it was executed (codes, tokens, no-ops)
 * and how to replay it:
 *   VERIFY_SEED=<seed> VERIFY_PATH=<path> [VERIFY_REPLAY=<replayPath>] npx vitest run tests/verify/model.test.ts
 * More histories: VERIFY_RUNS=500 npm run verify:long.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../app/app.js';
import { makeCreditCode } from '../../identity/credit-code.js';
import { resolveConflict } from '../../sync/conflicts.js';
import { runJob } from '../../sync/engine.js';
import type { RunReport } from '../../sync/types.js';
import { requireDialect } from '../support/databases.js';
import {
  EDITABLE,
  FIELDS,
  JOBS,
  SOURCE_NAMES,
  createVerifyWorld,
  deleteRow,
  diffSnapshots,
  editHub,
  insertRow,
  readOne,
  readSystem,
  snapshot,
  sourceKeyOf,
  updateRow,
  type JobName,
  type SourceName,
  type SystemName,
  type Values,
  type VerifyWorld,
} from './support.js';

const RUNS = Number(process.env.VERIFY_RUNS ?? 150);
const RUNS_PG_HUB = Number(process.env.VERIFY_RUNS_PG_HUB ?? Math.max(4, Math.round(RUNS / 6)));
const MAX_COMMANDS = Number(process.env.VERIFY_MAX_COMMANDS ?? 20);
/** Replay every Nth history a second time with the sources in the reverse order (1: every one). */
const DETERMINISM_EVERY = Number(process.env.VERIFY_DETERMINISM_EVERY ?? 2);
// CI runs one fixed set of histories (a landing must not depend on the draw); runs outside CI and
// `npm run verify:long` draw new ones. Seeds that failed are kept in RELIABILITY.md.
const SEED = process.env.VERIFY_SEED !== undefined ? Number(process.env.VERIFY_SEED) : process.env.CI === 'true' && !process.env.VERIFY_LONG ? 42 : undefined;
const PATH = process.env.VERIFY_PATH;
const REPLAY = process.env.VERIFY_REPLAY;

// ------------------------------------------------------------------------------ the model

type Field = (typeof EDITABLE)[number];

function token(field: string, n: number): string {
  switch (field) {
    case 'name':
      return `N${n}`;
    case 'phone':
      return `P${n}`;
    case 'city':
      return `City${n}`;
    case 'email':
      return `m${n}@x.cn`;
    case 'creditLimit':
      return String(n);
    default:
      throw new Error(`no tokens for ${field}`);
  }
}

const node = (code: string, field: string, value: string) => `${code}|${field}|${value}`;

class Model {
  private n = 0;
  /** Customers created so far, in order; commands pick one by index. */
  readonly codes: string[] = [];
  /**
   * Version graph: node → the nodes its writer had seen, each flagged `ambiguous` when the value seen
   * had been written twice independently and not yet synced (then the writer saw one copy only).
   */
  readonly parents = new Map<string, Map<string, boolean>>();
  /** code|field → values written. */
  readonly versions = new Map<string, Set<string>>();
  /** code → every node the deleting system(s) held when deleting. */
  readonly deletes = new Map<string, Set<string>>();
  /** Deletes made in a source that no job has read yet (code → sources). */
  readonly pendingDeletes = new Map<string, Set<string>>();
  /** Deleted customers the hub has been told about: they must never be live again. */
  readonly effectiveDeletes = new Set<string>();
  /** ERP clock offset in seconds. */
  skew = 0;
  /**
   * Values written twice independently and not yet synced (the same edit typed in two systems, a
   * value re-chosen by a resolution), with the sources a run must include to settle them.
   */
  readonly joint = new Map<string, readonly string[]>();
  /**
   * Customers typed into two systems independently. Until both rows are linked the hub has no base
   * for the second one: its merge is two-way, and any difference is a conflict by design.
   */
  readonly typedTwice = new Set<string>();

  /** When the history started: ERP stamps are logical (start + 10 ms a write + skew), so a replay stamps alike. */
  readonly startedAt = Date.now();
  private ticks = 0;

  fresh(): number {
    return ++this.n;
  }

  /** The ERP server's clock for its next write. */
  erpClock(): Date {
    return new Date(this.startedAt + ++this.ticks * 10 + this.skew * 1000);
  }

  /** Record a written value and what its writer had seen. */
  write(code: string, field: string, value: string, seen: (string | null)[]): void {
    const key = `${code}|${field}`;
    let set = this.versions.get(key);
    if (!set) this.versions.set(key, (set = new Set()));
    set.add(value);
    const me = node(code, field, value);
    let ps = this.parents.get(me);
    const again = ps !== undefined && !seen.includes(value);
    if (!ps) this.parents.set(me, (ps = new Map()));
    const mine = new Set(seen.filter((s): s is string => s !== null && s !== value).map((s) => node(code, field, s)));
    if (again) {
      // The same value written again by a writer that had not seen it (typed into two systems from
      // different starting points): only what every writer of it saw is surely seen.
      for (const p of ps.keys()) if (!mine.has(p)) ps.set(p, true);
      for (const p of mine) ps.set(p, ps.has(p) ? ps.get(p)! || this.joint.has(p) : true);
      return;
    }
    for (const p of mine) ps.set(p, (ps.get(p) ?? false) || this.joint.has(p));
  }

  /** A value is written again as a new generation: whoever saw the old one did not see this one. */
  regenerate(code: string, field: string, value: string, settleWith: readonly string[]): void {
    const x = node(code, field, value);
    for (const ps of this.parents.values()) if (ps.has(x)) ps.set(x, true);
    this.joint.set(x, settleWith);
  }

  /** A run over these sources has made the copies of jointly written values agree. */
  settled(sources: readonly string[]): void {
    for (const [x, need] of this.joint) if (need.every((s) => sources.includes(s))) this.joint.delete(x);
  }

  /** a is b or was seen (transitively) by b's writer. */
  ancestorOrEqual(code: string, field: string, a: string, b: string): boolean {
    return this.reaches(code, field, b, a, () => true);
  }

  known(code: string, field: string): Set<string> {
    return this.versions.get(`${code}|${field}`) ?? new Set();
  }

  /**
   * Maximal versions: written, and seen by no other write that it did not see in turn (a
   * resolution that re-chooses an older value makes both see each other: both stay).
   */
  frontier(code: string, field: string, seen: 'surely' | 'maybe'): string[] {
    const vs = [...this.known(code, field)];
    if (seen === 'surely') return vs.filter((v) => !vs.some((w) => w !== v && this.surelySeen(code, field, v, w) && !this.surelySeen(code, field, w, v)));
    // Maybe seen: w's writer may have seen v, and v's writer surely did not see w. A way back from
    // v to w only through ambiguous edges goes through a value written again (a resolution
    // re-choosing an older value): it reaches that value's old generation, not w. Without this, an
    // edit superseded in its own source before any run (N2 → N9 → N10, resolved back to N2) would
    // count as a latest edit, since N2 → N10 → N9 → N2 is a cycle of values.
    return vs.filter((v) => !vs.some((w) => w !== v && this.ancestorOrEqual(code, field, v, w) && !this.surelySeen(code, field, w, v)));
  }

  /** Neither was seen by the other's writer for sure (ambiguous edges do not count). */
  concurrent(code: string, field: string, a: string, b: string): boolean {
    return !this.surelySeen(code, field, a, b) && !this.surelySeen(code, field, b, a);
  }

  surelySeen(code: string, field: string, a: string, b: string): boolean {
    return this.reaches(code, field, b, a, (ambiguous) => !ambiguous);
  }

  /** `to` is `from` or a parent of it, through the parent edges `follow` accepts. */
  private reaches(code: string, field: string, from: string, to: string, follow: (ambiguous: boolean) => boolean): boolean {
    const target = node(code, field, to);
    const todo = [node(code, field, from)];
    const seen = new Set<string>();
    while (todo.length > 0) {
      const x = todo.pop()!;
      if (x === target) return true;
      if (seen.has(x)) continue;
      seen.add(x);
      for (const [p, ambiguous] of this.parents.get(x) ?? []) if (follow(ambiguous)) todo.push(p);
    }
    return false;
  }
}

interface Real {
  world: VerifyWorld;
  app: App;
  /** What each command actually did, with codes and tokens: printed on failure. */
  log: string[];
  /** Commands run, for the determinism replay. */
  executed: Cmd[];
  /** Conflict ids already checked for being justified. */
  checkedConflicts: Set<number>;
  runs: number;
}

/** What the histories exercised, printed at the end of a suite (RELIABILITY.md quotes it). */
const coverage = { commands: 0, conflicts: 0, decided: 0, resolved: 0, agreed: 0, deletes: 0, pairInserts: 0, skewed: 0, noops: 0 };

type Cmd = fc.AsyncCommand<Model, Real>;

const editableOf = (s: SystemName): Field[] => EDITABLE.filter((f) => FIELDS[s].includes(f));

class InsertCmd implements Cmd {
  constructor(readonly where: SourceName | 'erp+finance') {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const code = `K${m.fresh()}`;
    m.codes.push(code);
    const creditCode = makeCreditCode(`91110000MA0${code.padStart(6, '0')}`.slice(0, 17));
    const systems: SourceName[] = this.where === 'erp+finance' ? ['erp', 'finance'] : [this.where];
    // Typed in twice by two people: the same name and credit code, everything else their own.
    const name = token('name', m.fresh());
    const parts: string[] = [];
    for (const s of systems) {
      const values: Values = { name };
      m.write(code, 'name', name, []);
      for (const f of editableOf(s)) {
        if (f === 'name') continue;
        values[f] = token(f, m.fresh());
        m.write(code, f, values[f]!, []);
      }
      if (FIELDS[s].includes('creditCode')) values.creditCode = creditCode;
      await insertRow(r.world, s, code, values, { at: m.erpClock() });
      if (systems.length > 1) m.typedTwice.add(code);
      parts.push(`${s} ${JSON.stringify(values)}`);
    }
    r.log.push(`insert ${code}: ${parts.join('; ')}`);
    if (systems.length > 1) coverage.pairInserts++;
  }
  toString(): string {
    return `Insert(${this.where})`;
  }
}

/** Edit fields of one customer in one system; `same` tokens let two systems write one value. */
async function edit(m: Model, r: Real, system: SystemName, code: string, fields: readonly Field[], given?: Record<string, string>): Promise<string> {
  const current = await readOne(r.world, r.app, system, code);
  if (!current) return `${system} has no live ${code}: nothing edited`;
  const values: Values = {};
  for (const f of fields) {
    const v = given?.[f] ?? token(f, m.fresh());
    values[f] = v;
    m.write(code, f, v, [current[f]]);
  }
  const ok = system === 'hub' ? await editHub(r.app, code, values) : await updateRow(r.world, system, code, values, { at: m.erpClock() });
  if (!ok) throw new Error(`edit of ${code} in ${system} found no row after reading one`);
  return `${system} ${code}: ${fields.map((f) => `${f} ${current[f] ?? 'null'} → ${values[f]}`).join(', ')}`;
}

class EditCmd implements Cmd {
  readonly fields: Field[];
  constructor(
    readonly system: SystemName,
    readonly pick: number,
    picks: number[],
  ) {
    const ed = editableOf(system);
    this.fields = [...new Set(picks.map((i) => ed[i % ed.length]))];
  }
  check(m: Readonly<Model>): boolean {
    return m.codes.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const code = m.codes[this.pick % m.codes.length];
    r.log.push(`edit ${await edit(m, r, this.system, code, this.fields)}`);
  }
  toString(): string {
    return `Edit(${this.system}, #${this.pick}, ${this.fields.join('+')})`;
  }
}

/** Two systems edit one customer before any run: the same field (to different or equal values) or not. */
class ConcurrentEditCmd implements Cmd {
  readonly fa: Field;
  readonly fb: Field;
  constructor(
    readonly a: SystemName,
    readonly b: SystemName,
    readonly pick: number,
    sameField: boolean,
    i: number,
    j: number,
    readonly sameValue: boolean,
  ) {
    const ea = editableOf(a);
    const eb = editableOf(b);
    const common = ea.filter((f) => eb.includes(f));
    this.fa = sameField ? common[i % common.length] : ea[i % ea.length];
    this.fb = sameField ? this.fa : eb[j % eb.length];
  }
  check(m: Readonly<Model>): boolean {
    return m.codes.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const code = m.codes[this.pick % m.codes.length];
    const shared = this.sameValue && this.fa === this.fb ? { [this.fa]: token(this.fa, m.fresh()) } : undefined;
    const one = await edit(m, r, this.a, code, [this.fa], shared);
    const two = await edit(m, r, this.b, code, [this.fb], shared);
    if (shared && !one.includes('nothing edited') && !two.includes('nothing edited')) {
      m.joint.set(node(code, this.fa, shared[this.fa]), [this.a, this.b].filter((x) => x !== 'hub'));
    }
    r.log.push(`concurrent edit ${one} | ${two}`);
  }
  toString(): string {
    return `Concurrent(${this.a}.${this.fa}, ${this.b}.${this.fb}, #${this.pick}${this.sameValue && this.fa === this.fb ? ', same value' : ''})`;
  }
}

class DeleteCmd implements Cmd {
  constructor(
    readonly system: 'finance' | 'oa' | 'hub',
    readonly pick: number,
  ) {}
  check(m: Readonly<Model>): boolean {
    return m.codes.length > 0;
  }
  async run(m: Model, r: Real): Promise<void> {
    const code = m.codes[this.pick % m.codes.length];
    const current = await readOne(r.world, r.app, this.system, code);
    if (!current) return void r.log.push(`delete ${code} in ${this.system}: no live row, nothing deleted`);
    if (this.system !== 'hub') {
      // A row the hub has never linked is not a delete of a golden record: only linked rows.
      const key = await sourceKeyOf(r.world, this.system, code);
      const linked = key !== null && (await r.app.hub.knex('crm_xref').where({ entity: 'Customer', source: this.system, source_key: key }).first());
      if (!linked) return void r.log.push(`delete ${code} in ${this.system}: never synced, not deleted`);
    }
    if (m.typedTwice.has(code)) {
      // Known limit (RELIABILITY.md): deleting a customer typed in twice before its other copy was
      // ever linked leaves that copy to become a new golden record. Only delete once both are linked.
      for (const s of ['erp', 'finance'] as const) {
        const linked = await r.app.hub.knex('crm_xref').where({ entity: 'Customer', source: s, source_key: code }).first();
        if (!linked) return void r.log.push(`delete ${code} in ${this.system}: its ${s} copy is not linked yet, not deleted`);
      }
    }
    let known = m.deletes.get(code);
    if (!known) m.deletes.set(code, (known = new Set()));
    for (const f of EDITABLE) if (current[f] !== undefined && current[f] !== null) known.add(node(code, f, current[f]!));
    if (this.system === 'hub') m.effectiveDeletes.add(code);
    else m.pendingDeletes.set(code, new Set([...(m.pendingDeletes.get(code) ?? []), this.system]));
    const ok = this.system === 'hub' ? await editHub(r.app, code, {}, { delete: true }) : await deleteRow(r.world, this.system, code);
    if (!ok) throw new Error(`delete of ${code} in ${this.system} found no row after reading one`);
    r.log.push(`delete ${code} in ${this.system}`);
    coverage.deletes++;
  }
  toString(): string {
    return `Delete(${this.system}, #${this.pick})`;
  }
}

class SyncCmd implements Cmd {
  constructor(readonly job: JobName) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const report = await syncTwice(r, this.job);
    r.log.push(`run ${this.job}: ${summary(report)}`);
    m.settled(JOBS[this.job]);
    for (const [code, sources] of m.pendingDeletes) {
      if ([...sources].some((s) => (JOBS[this.job] as readonly string[]).includes(s))) {
        m.effectiveDeletes.add(code);
        m.pendingDeletes.delete(code);
      }
    }
    await checkConflictsJustified(m, r);
    await checkDeletesStay(m, r);
  }
  toString(): string {
    return `Sync(${this.job})`;
  }
}

class ResolveCmd implements Cmd {
  constructor(
    readonly pick: number,
    readonly keep: 'hub' | 'source' | 'value',
  ) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    const open = (await r.app.hub.knex('crm_conflict').where({ status: 'open' }).orderBy('id')) as Record<string, unknown>[];
    if (open.length === 0) return void r.log.push('resolve: no open conflict');
    const c = open[this.pick % open.length];
    const rec = (await r.app.hub.knex('crm_customer').where({ id: c.gid }).first()) as Record<string, unknown>;
    const code = String(rec.code);
    const field = String(c.field);
    const values = JSON.parse(String(c.values)) as Record<string, unknown>;
    if (field === '_deleted') {
      await resolveConflict(r.app, Number(c.id), { keep: 'hub', actor: 'verify' });
      return void r.log.push(`resolve conflict ${String(c.id)} (${code} deleted): keep hub`);
    }
    const hubValue = rec[field] === null ? null : String(app(r).hub.fromRow('Customer', rec).values[field]);
    let keep: string = this.keep;
    let value: string | undefined;
    let chosen: string | null;
    if (this.keep === 'value') {
      value = token(field, m.fresh());
      chosen = value;
    } else if (this.keep === 'source') {
      keep = Object.keys(values).filter((k) => k !== 'hub').sort()[0] ?? 'hub';
      chosen = keep === 'hub' ? hubValue : values[keep] === null ? null : String(values[keep]);
    } else chosen = hubValue;
    await resolveConflict(r.app, Number(c.id), { keep, ...(value !== undefined ? { value } : {}), actor: 'verify' });
    if (chosen !== null) {
      // Re-choosing a value already written makes a new generation of it: "seen" is ambiguous past it.
      if (m.known(code, field).has(chosen)) m.regenerate(code, field, chosen, SOURCE_NAMES);
      m.write(code, field, chosen, [...Object.values(values).map((v) => (v === null ? null : String(v))), hubValue]);
    }
    r.log.push(`resolve conflict ${String(c.id)} (${code}.${field} ${JSON.stringify(values)}): keep ${keep} → ${chosen}`);
    coverage.resolved++;
  }
  toString(): string {
    return `Resolve(#${this.pick}, keep ${this.keep})`;
  }
}

class SkewCmd implements Cmd {
  constructor(readonly seconds: number) {}
  check(): boolean {
    return true;
  }
  async run(m: Model, r: Real): Promise<void> {
    m.skew = this.seconds;
    if (this.seconds !== 0) coverage.skewed++;
    r.log.push(`ERP clock now ${this.seconds >= 0 ? '+' : ''}${this.seconds}s`);
  }
  toString(): string {
    return `Skew(erp, ${this.seconds >= 0 ? '+' : ''}${this.seconds}s)`;
  }
}

const app = (r: Real) => r.app;

function summary(report: RunReport): string {
  const t = report.totals;
  return `${report.status}, read ${t.read}, hub ${t.hubWritten}, sources ${t.sourceWritten}, conflicts ${t.conflicts} open / ${t.autoResolved} decided`;
}

// ------------------------------------------------------------------------------ checks

class Violation extends Error {}

/** Run a job, then run it again: the second run must write nothing and change nothing. */
async function syncTwice(r: Real, job: JobName): Promise<RunReport> {
  const first = await runJob(r.app, job);
  r.runs++;
  coverage.conflicts += first.totals.conflicts;
  coverage.decided += first.totals.autoResolved;
  if (first.status !== 'ok') throw new Violation(`run of ${job} ended ${first.status}: ${JSON.stringify(first.error ?? first.totals)}`);
  const before = await snapshot(r.world, r.app);
  const second = await runJob(r.app, job);
  r.runs++;
  if (second.status !== 'ok') throw new Violation(`second run of ${job} ended ${second.status}: ${JSON.stringify(second.error ?? second.totals)}`);
  if (second.totals.written !== 0) throw new Violation(`idempotence / no echo: a second run of ${job} right after the first wrote ${second.totals.written} (${summary(second)})`);
  const after = await snapshot(r.world, r.app);
  try {
    expect(after).toEqual(before);
  } catch (err) {
    throw new Violation(`idempotence: a second run of ${job} changed the state:\n${(err as Error).message}`);
  }
  return first;
}

/** Conflict values, flattened: a `_deleted` conflict holds JSON records as values. */
function namedValues(values: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  const add = (v: unknown) => {
    if (v === null || v === undefined) return;
    if (typeof v === 'string' && v.startsWith('{')) {
      try {
        for (const x of Object.values(JSON.parse(v) as Record<string, unknown>)) add(x);
        return;
      } catch {
        /* a plain string */
      }
    }
    if (typeof v === 'object') for (const x of Object.values(v as Record<string, unknown>)) add(x);
    else out.add(String(v));
  };
  add(values);
  return out;
}

/**
 * A conflict is only justified between concurrent values (a stale base must never raise one), and
 * its policy must have been applied.
 */
async function checkConflictsJustified(m: Model, r: Real): Promise<void> {
  const rows = (await r.app.hub.knex('crm_conflict').orderBy('id')) as Record<string, unknown>[];
  // The policy was applied: after the run that raised it, the last conflict on a field left the
  // hub holding the value it says — the hub's own while open (manual, or no safe winner), the
  // winner's when decided.
  const lastNew = new Map<string, Record<string, unknown>>();
  for (const c of rows) if (!r.checkedConflicts.has(Number(c.id)) && c.field !== '_deleted') lastNew.set(`${String(c.gid)}|${String(c.field)}`, c);
  for (const c of lastNew.values()) {
    const rec = (await r.app.hub.knex('crm_customer').where({ id: c.gid }).first()) as Record<string, unknown>;
    const now = r.app.hub.fromRow('Customer', rec).values[String(c.field)] ?? null;
    const values = JSON.parse(String(c.values)) as Record<string, unknown>;
    const resolution = c.resolution ? (JSON.parse(String(c.resolution)) as { keep?: string; value?: unknown; auto?: boolean }) : null;
    const expected = c.status === 'open' ? values.hub : resolution?.auto ? resolution.value : now;
    // A later change in the same run whose writer had seen that value may have replaced it (the
    // authority's own newer edit, read after the conflict was decided): that is the policy too.
    const superseded = expected != null && now != null && m.ancestorOrEqual(String(rec.code), String(c.field), String(expected), String(now));
    if (String(expected ?? null) !== String(now ?? null) && !superseded) {
      throw new Violation(
        `policy not applied: conflict ${String(c.id)} on ${String(rec.code)}.${String(c.field)} (${String(c.status)}, rule ${String(c.rule)}, values ${String(c.values)}${resolution ? `, decided ${JSON.stringify(resolution)}` : ''}) but the hub holds ${String(now)}; reason: ${String(c.reason)}`,
      );
    }
  }
  for (const c of rows) {
    const id = Number(c.id);
    if (c.status !== 'open' && r.checkedConflicts.has(id)) continue;
    if (c.status !== 'open' || c.resolved_by !== 'verify') r.checkedConflicts.add(id);
    if (c.field === '_deleted') continue;
    const rec = (await r.app.hub.knex('crm_customer').where({ id: c.gid }).first()) as Record<string, unknown>;
    const code = String(rec.code);
    const field = String(c.field);
    const vals = [...new Set(Object.values(JSON.parse(String(c.values)) as Record<string, unknown>).map((v) => (v === null ? null : String(v))))];
    // Two-way (no base): the first sync of the second row of a customer typed in twice.
    const twoWay = c.base === null && m.typedTwice.has(code);
    const justified = twoWay || vals.some((a, i) => vals.some((b, j) => j > i && a !== null && b !== null && m.concurrent(code, field, a, b)));
    if (!justified) {
      throw new Violation(`unjustified conflict ${id} on ${code}.${field} (${String(c.status)}, ${String(c.rule)}): values ${String(c.values)} are not concurrent edits; reason: ${String(c.reason)}`);
    }
  }
}

async function checkDeletesStay(m: Model, r: Real): Promise<void> {
  for (const code of m.effectiveDeletes) {
    const live = await r.app.hub.knex('crm_customer').where({ code, _deleted: false }).first();
    if (live) throw new Violation(`deletes stay deleted: ${code} was deleted but is live in the hub again`);
  }
}

/** Run `all` once more, then the final properties. */
async function settleAndVerify(m: Model, r: Real): Promise<void> {
  // One run of `all` brings every system in line; syncTwice proves the next one writes nothing.
  const report = await syncTwice(r, 'all');
  r.log.push(`settle: run all: ${summary(report)}`);
  for (const code of m.deletes.keys()) m.effectiveDeletes.add(code);
  await checkConflictsJustified(m, r);
  await checkDeletesStay(m, r);
  const k = r.app.hub.knex;
  const problems: string[] = [];
  const systems = ['hub', ...SOURCE_NAMES] as const;
  const state = Object.fromEntries(await Promise.all(systems.map(async (s) => [s, await readSystem(r.world, r.app, s)] as const))) as Record<SystemName, Map<string, Values[]>>;

  // No duplicate, nothing orphaned, deletes stay deleted.
  for (const s of systems) {
    for (const [code, list] of state[s]) {
      if (list.length > 1) problems.push(`duplicate: ${s} holds ${list.length} live records for ${code}`);
      if (m.deletes.has(code)) problems.push(`deletes stay deleted: ${code} was deleted but ${s} still has it`);
      else if (!m.codes.includes(code)) problems.push(`${s} holds ${code}, which no history created`);
      if (s !== 'hub' && !state.hub.has(code) && !m.deletes.has(code)) problems.push(`${s} has ${code} but the hub has no live record for it`);
    }
  }
  const parked = (await k('crm_parked').where({ status: 'parked' })) as Record<string, unknown>[];
  for (const p of parked) problems.push(`parked (no bad data was generated): ${String(p.source)} ${String(p.source_key ?? p.gid)}: ${String(p.message)}`);

  const gidOf = new Map(((await k('crm_customer').select('id', 'code')) as { id: string; code: string }[]).map((x) => [x.code, x.id]));
  const conflicts = (await k('crm_conflict')) as Record<string, unknown>[];
  const namedOf = (code: string): Set<string> => {
    const gid = gidOf.get(code);
    const out = new Set<string>();
    for (const c of conflicts) if (c.gid === gid) for (const v of namedValues(JSON.parse(String(c.values)) as Record<string, unknown>)) out.add(v);
    return out;
  };
  const named = (code: string, v: string) => namedOf(code).has(v);
  /** v survives: it, or a value written by someone who had seen it, is in `kept` or named in a conflict. */
  const survives = (code: string, f: string, v: string, kept: Iterable<string>) => [...kept, ...namedOf(code)].some((w) => m.ancestorOrEqual(code, f, v, w));
  const openOn = (code: string, field: string) => conflicts.some((c) => c.gid === gidOf.get(code) && c.field === field && c.status === 'open');

  for (const code of m.codes) {
    if (m.deletes.has(code)) {
      // Every value written is one the deleter had seen, is kept in the golden record's tombstone
      // (the hub keeps a deleted record's values), or is named in a conflict record.
      const knew = m.deletes.get(code)!;
      const row = (await k('crm_customer').where({ code }).first()) as Record<string, unknown> | undefined;
      const tomb = row ? r.app.hub.fromRow('Customer', row).values : {};
      for (const f of EDITABLE) {
        for (const v of m.known(code, f)) {
          const seen = [...knew].filter((n) => n.startsWith(`${code}|${f}|`)).map((n) => n.slice(`${code}|${f}|`.length));
          if (tomb[f] !== null && tomb[f] !== undefined) seen.push(String(tomb[f]));
          if (!survives(code, f, v, seen)) {
            problems.push(`lost update: ${code}.${f} = ${v} was written concurrently with the delete of ${code}, is not in its tombstone (${String(tomb[f] ?? null)}) and is named in no conflict`);
          }
        }
      }
      continue;
    }
    const hubList = state.hub.get(code);
    if (!hubList) {
      problems.push(`lost record: ${code} was created, never deleted, and the hub has no live record for it`);
      continue;
    }
    for (const s of SOURCE_NAMES) if (!state[s].has(code)) problems.push(`convergence: ${s} has no row for ${code}`);
    for (const f of EDITABLE) {
      const holders = systems.filter((s) => FIELDS[s].includes(f) && state[s].get(code));
      const values = new Map(holders.map((s) => [s, state[s].get(code)![0][f] ?? null] as const));
      const distinct = [...new Set(values.values())];
      const open = openOn(code, f);
      const written = m.known(code, f);
      for (const [s, v] of values) {
        if (v !== null && !written.has(v)) problems.push(`${s} holds ${code}.${f} = ${v}, a value no one wrote`);
      }
      if (!open && distinct.length > 1) problems.push(`convergence: ${code}.${f} differs with no open conflict: ${[...values].map(([s, v]) => `${s}=${v}`).join(', ')}`);
      // The latest edits: `candidates` (no write surely saw them) may be the final value; each of
      // `latest` (no write saw them at all) must be the final value or named in a conflict.
      const candidates = m.frontier(code, f, 'surely');
      const latest = m.frontier(code, f, 'maybe');
      const hubValue = values.get('hub') ?? null;
      if (!open) {
        if (candidates.length === 0 && hubValue !== null) problems.push(`${code}.${f}: expected no value, the hub has ${hubValue}`);
        if (candidates.length > 0 && (hubValue === null || !candidates.includes(hubValue))) {
          problems.push(`intended outcome: ${code}.${f} should be ${candidates.length === 1 ? candidates[0] : `one of ${candidates.join(', ')}`} (the latest edit${candidates.length === 1 ? '' : 's'}), the hub has ${hubValue}`);
        }
      }
      for (const v of latest) {
        if (v !== hubValue && !named(code, v)) problems.push(`lost update: ${code}.${f} = ${v} (a latest edit) is neither the final value (${hubValue}) nor named in a conflict`);
      }
      const held = [...values.values()].filter((x): x is string => x !== null);
      for (const v of written) {
        if (!survives(code, f, v, held)) problems.push(`lost update: ${code}.${f} = ${v} was overwritten by a value whose writer never saw it, and no conflict names it`);
      }
    }
  }
  if (problems.length > 0) throw new Violation(`after the history (${r.runs} runs):\n  - ${[...new Set(problems)].join('\n  - ')}`);
}

// ------------------------------------------------------------------------------ the property

const pick = fc.nat({ max: 30 });
const system = fc.constantFrom<SystemName>('hub', 'erp', 'finance', 'oa');
const jobs = Object.keys(JOBS) as JobName[];

function commandArbs(): fc.Arbitrary<Cmd>[] {
  const edit = fc.record({ s: system, i: pick, f: fc.uniqueArray(fc.nat({ max: 4 }), { minLength: 1, maxLength: 3 }) }).map(({ s, i, f }) => new EditCmd(s, i, f) as Cmd);
  const sync = fc.constantFrom(...jobs).map((j) => new SyncCmd(j) as Cmd);
  return [
    fc.constantFrom<SourceName | 'erp+finance'>('erp', 'finance', 'oa', 'erp+finance').map((w) => new InsertCmd(w)),
    edit,
    edit,
    fc
      .record({ a: system, b: system, i: pick, same: fc.boolean(), x: fc.nat({ max: 4 }), y: fc.nat({ max: 4 }), v: fc.boolean() })
      .filter(({ a, b }) => a !== b)
      .map(({ a, b, i, same, x, y, v }) => new ConcurrentEditCmd(a, b, i, same, x, y, v)),
    fc.record({ s: fc.constantFrom<'finance' | 'oa' | 'hub'>('finance', 'oa', 'hub'), i: pick }).map(({ s, i }) => new DeleteCmd(s, i)),
    sync,
    sync,
    sync,
    fc.record({ i: pick, keep: fc.constantFrom<'hub' | 'source' | 'value'>('hub', 'source', 'value') }).map(({ i, keep }) => new ResolveCmd(i, keep)),
    fc.constantFrom(-1800, 0, 1800).map((s) => new SkewCmd(s)),
  ];
}

async function runHistory(world: VerifyWorld, app: App, cmds: Iterable<Cmd>, replay: boolean): Promise<Real> {
  await world.reset(app);
  const model = new Model();
  const real: Real = { world, app, log: [], executed: [], checkedConflicts: new Set(), runs: 0 };
  try {
    if (replay) {
      for (const c of cmds) if (c.check(model)) await c.run(model, real);
    } else {
      await fc.asyncModelRun(() => ({ model, real }), cmds);
      // The commands the model run actually executed (for the replay).
    }
    await settleAndVerify(model, real);
    if (!replay) {
      const closed = (await app.hub.knex('crm_conflict').where({ status: 'resolved' }).select('resolution')) as { resolution: string | null }[];
      coverage.agreed += closed.filter((c) => (JSON.parse(c.resolution ?? 'null') as { agreed?: boolean } | null)?.agreed === true).length;
    }
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new Error(`${message}\n\nhistory as executed${replay ? ' (replay, sources in reverse order)' : ''}:\n  ${real.log.join('\n  ')}`, { cause: err });
  }
  return real;
}

function defineSuite(label: string, hub: 'sqlite' | 'postgres', numRuns: number): void {
  describe(`randomized histories, hub on ${label}`, () => {
    let world: VerifyWorld | null = null;
    let appA: App;
    let appB: App;
    let histories = 0;
    let replays = 0;
    let runs = 0;

    beforeAll(async () => {
      for (const d of new Set(['postgres', 'mysql', hub] as const)) if (!(await requireDialect(d))) return;
      world = await createVerifyWorld({ hub, label: hub === 'sqlite' ? 'ms' : 'mp' });
      appA = await world.open();
      appB = await world.open({ order: [...SOURCE_NAMES].reverse() });
    });
    afterAll(async () => {
      await world?.close();
      if (histories > 0) {
        const c = coverage;
        process.stdout.write(
          `[verify:model] hub ${label}: ${histories} histories (${c.commands} commands), ${replays} replayed in reverse source order, ${runs} sync runs; ` +
            `${c.conflicts} conflicts left open and ${c.decided} decided by policy, ${c.resolved} resolved, ${c.agreed} closed as agreed, ${c.deletes} deletes, ${c.pairInserts} customers typed twice, ${c.skewed} clock skews\n`,
        );
        for (const k of Object.keys(c) as (keyof typeof c)[]) c[k] = 0;
      }
    });

    it.runIf(numRuns > 0)(`keeps every property over ${numRuns} generated histories`, async (t) => {
      if (!world) return t.skip();
      const w = world;
      await fc.assert(
        fc.asyncProperty(fc.commands(commandArbs(), { maxCommands: MAX_COMMANDS, size: 'max', ...(REPLAY ? { replayPath: REPLAY } : {}) }), async (cmds) => {
          histories++;
          const executed: Cmd[] = [];
          // Record what runs, for the replay in the other order.
          const tracked = [...cmds].map((c) => wrap(c, executed));
          const a = await runHistory(w, appA, tracked, false);
          runs += a.runs;
          if (DETERMINISM_EVERY > 0 && histories % DETERMINISM_EVERY === 0) {
            const expected = await snapshot(w, appA);
            const b = await runHistory(w, appB, executed, true);
            runs += b.runs;
            replays++;
            const diff = diffSnapshots(expected, await snapshot(w, appB));
            if (diff.length > 0) {
              throw new Error(`determinism: the same history with the sources in the reverse order ended differently:\n  ${diff.join('\n  ')}\n\nhistory:\n  ${a.log.join('\n  ')}\n\nreplay:\n  ${b.log.join('\n  ')}`);
            }
          }
        }),
        {
          numRuns,
          ...(SEED !== undefined ? { seed: SEED } : {}),
          ...(PATH ? { path: PATH } : {}),
          // Shrinking re-runs histories on real databases: bound it, keep the best so far.
          interruptAfterTimeLimit: Number(process.env.VERIFY_TIME_LIMIT_MS ?? 420_000),
          markInterruptAsFailure: false,
        },
      );
    }, Math.max(900_000, numRuns * 3_000));
  });
}

/** A command that records itself when it runs (fc.commands must still see the original objects' toString). */
function wrap(c: Cmd, executed: Cmd[]): Cmd {
  return {
    check: (m) => c.check(m),
    run: async (m, r) => {
      executed.push(c);
      coverage.commands++;
      await c.run(m, r);
    },
    toString: () => c.toString(),
  };
}

defineSuite('SQLite', 'sqlite', RUNS);
defineSuite('PostgreSQL', 'postgres', RUNS_PG_HUB);
