/**
 * The hub store: the ONLY code that writes the hub. One module per concern, each taking the
 * transaction (or connection) to run on and returning plain data:
 *
 * | concern | module | table(s) |
 * | --- | --- | --- |
 * | golden records (the one versioned write) | golden.ts | one per entity, crm_counter |
 * | cross-reference | xref.ts | crm_xref |
 * | provenance | provenance.ts | crm_provenance |
 * | merge bases | bases.ts | crm_base |
 * | conflicts | conflicts.ts | crm_conflict |
 * | audit | audit.ts | crm_audit |
 * | record history (every version) | history.ts | crm_history |
 * | merge candidates and the merge log | merges.ts | crm_merge_candidate, crm_merge |
 * | checkpoints | checkpoints.ts | crm_checkpoint |
 * | run history | runs.ts | crm_run |
 * | parked records | parked.ts | crm_parked |
 * | job locks | locks.ts | crm_lock (SQLite) or advisory locks (PostgreSQL) |
 * | the sync engine's journal | sync-tables.ts | crm_sync_seen, crm_sync_intent, crm_sync_tick |
 * | the hub's own secrets | secrets.ts | crm_secret |
 * | identity's match keys of customers | match-keys.ts | crm_customer (its `_match_*` columns) |
 * | customer analysis results | analysis.ts | crm_analysis, crm_analysis_stage, crm_analysis_run |
 *
 * Statements are prepared once per table and kept (statements.ts). A test
 * (tests/hub/single-writer.test.ts) fails when code outside hub/ writes a hub table.
 *
 * @example
 * await hub.store.transaction(async (trx) => {
 *   const current = await hub.get('Customer', gid, trx);
 *   await hub.store.golden.write(trx, 'Customer', [{ gid, current, patch: { phone: '010-1' } }], { actor: 'alice', action: 'update' });
 * });
 */
import type { Knex } from 'knex';
import type { EntityName, ModelField } from '../model/entities.js';
import { AnalysisStore } from './analysis.js';
import { AuditLog } from './audit.js';
import { BaseStore } from './bases.js';
import * as checkpoints from './checkpoints.js';
import { ConflictStore } from './conflicts.js';
import { GoldenRecords, type HubChange } from './golden.js';
import { HistoryStore } from './history.js';
import { MatchKeyStore, type MatchKeyDeriver } from './match-keys.js';
import * as locks from './locks.js';
import { MergeStore } from './merges.js';
import * as parked from './parked.js';
import { ProvenanceStore } from './provenance.js';
import * as runs from './runs.js';
import { hubSecret } from './secrets.js';
import { Statements, type HubDialect } from './statements.js';
import { SyncJournal } from './sync-tables.js';
import { MATCH_KEY_ENTITY } from './tables.js';
import { XrefStore } from './xref.js';

export class HubStore {
  readonly statements: Statements;
  readonly audit = new AuditLog();
  readonly history: HistoryStore;
  readonly provenance: ProvenanceStore;
  readonly golden: GoldenRecords;
  readonly xref: XrefStore;
  readonly bases: BaseStore;
  readonly conflicts = new ConflictStore();
  readonly merges = new MergeStore();
  readonly journal: SyncJournal;
  readonly analysis: AnalysisStore;
  readonly matchKeys: MatchKeyStore;
  /** How customers' match keys are derived: identity's derivation, handed in by the composition root. */
  matchKeyDeriver: MatchKeyDeriver | null = null;
  /** false for a read-only hub from before the match keys (its rows are then matched in memory). */
  matchKeyColumns = true;
  readonly checkpoints = checkpoints;
  readonly runs = runs;
  readonly parked = parked;
  readonly locks = locks;
  readonly secret = hubSecret;

  /**
   * Told of every golden record write, inside its transaction (so a listener that acts on it must
   * wait for the commit, e.g. `trx.executionPromise`): the one place hub-change events start.
   */
  onChange: ((change: HubChange) => void) | null = null;
  private readonly listeners = new Set<(change: HubChange) => void>();

  /**
   * Listen to every golden record write besides `onChange` (propagation, subscriptions); returns
   * the unsubscribe. A listener that throws is ignored: a write never fails for a listener.
   */
  subscribe(listener: (change: HubChange) => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  constructor(
    private readonly knex: Knex,
    dialect: HubDialect,
    fields: (entity: EntityName) => ModelField[],
    table: (entity: EntityName) => string,
  ) {
    this.statements = new Statements(dialect);
    this.history = new HistoryStore(this.statements);
    this.provenance = new ProvenanceStore(this.statements);
    this.xref = new XrefStore(this.statements);
    this.bases = new BaseStore(this.statements);
    this.journal = new SyncJournal(this.statements);
    this.analysis = new AnalysisStore(dialect);
    this.matchKeys = new MatchKeyStore(this.statements, table(MATCH_KEY_ENTITY));
    this.golden = new GoldenRecords({
      statements: this.statements,
      fields,
      table,
      audit: this.audit,
      history: this.history,
      provenance: this.provenance,
      matchKeys: () => ({ deriver: this.matchKeyDeriver, columns: this.matchKeyColumns }),
      changed: (change) => {
        this.onChange?.(change);
        for (const l of this.listeners) {
          try {
            l(change);
          } catch {
            // A listener's own problem; the write stands.
          }
        }
      },
    });
  }

  /** Run `fn` in one hub transaction. */
  transaction<T>(fn: (trx: Knex.Transaction) => Promise<T>): Promise<T> {
    return this.knex.transaction(fn);
  }
}
