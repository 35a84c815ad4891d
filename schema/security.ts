/**
 * Who is asking and what they may see. Row rules follow the customer: a role sees `all`
 * customers, those of its `team` (Customer.ownerTeam) or its `own` (Customer.ownerId); every other
 * entity hanging off a customer (orders, invoices, approvals, ...) is visible exactly when its
 * customer is, and order lines when their order is. Rules apply to top-level lists (pushed down as
 * filters, so pages and counts are right), to node()/by-id reads and to-one refs (checked per
 * record); nested lists start from a record already visible.
 *
 * Field masking: a field listed in the role's `hide` ("Customer.creditLimit") resolves to null;
 * filtering, sorting or aggregating on it is refused (FORBIDDEN), since a filter would leak it. A
 * derived field (Customer.receivableBalance, the sum of Invoice.balance) is hidden with every
 * field it is computed from, as the model declares them.
 */
import type { CrmlinkConfig } from '../config/schema.js';
import { CrmlinkError } from '../core/errors.js';
import { ownValue } from '../core/own.js';
import { ADMIN_SCOPE_RULE, adminScopeHolds } from '../config/server.js';
import { withDerivedHidden, type EntityName } from '../model/entities.js';
import { TRUE, FALSE, type Filter } from './filters.js';
import type { Rec } from './store.js';
import type { Scope } from './runtime.js';
import type { Viewer } from './viewer.js';

export type { Viewer };

export function viewerFor(config: CrmlinkConfig, who: { user: string; role: string; team?: string }): Viewer {
  // The role name comes from a token or a key's entry: only a declared role counts.
  const rule = ownValue(config.server.auth.roles, who.role);
  if (!rule) {
    throw new CrmlinkError('FORBIDDEN', `role "${who.role}" is not declared under server.auth.roles`, { setting: 'server.auth.roles' });
  }
  return {
    user: who.user,
    role: who.role,
    ...(who.team ? { team: who.team } : {}),
    customers: rule.customers,
    // A derived field is hidden with any field it is computed from (model/entities.ts DERIVED_FIELDS).
    hidden: withDerivedHidden(rule.hide),
    write: rule.write,
    admin: rule.admin,
  };
}

/**
 * The viewer of a request without credentials in auth mode none: the configured anonymous role.
 * With no anonymousRole nothing is served anonymously.
 */
export function anonymousViewer(config: CrmlinkConfig): Viewer {
  const role = config.server.auth.anonymousRole;
  if (role === undefined) {
    throw new CrmlinkError(
      'FORBIDDEN',
      'no anonymous access: server.auth.mode is none and server.auth.anonymousRole is not set (set server.auth.mode to apiKey or jwt, or name the role of anonymous requests)',
      { setting: 'server.auth.anonymousRole' },
    );
  }
  return viewerFor(config, { user: 'anonymous', role });
}

/** Entities whose rows belong to a customer through their `customerId`. */
const CUSTOMER_DATA: readonly EntityName[] = ['Contact', 'SalesOrder', 'Invoice', 'Payment', 'Opportunity', 'Activity', 'ApprovalRequest', 'SurveyResponse', 'Receivable', 'CreditLimit'];

/** The entity every row rule goes through, and the ref field leading to it. */
const PARENT: Partial<Record<EntityName, { via: string; entity: EntityName }>> = {
  ...Object.fromEntries(CUSTOMER_DATA.map((entity) => [entity, { via: 'customerId', entity: 'Customer' }])),
  SalesOrderLine: { via: 'orderId', entity: 'SalesOrder' },
  InvoiceLine: { via: 'invoiceId', entity: 'Invoice' },
};

/** The record a row of `entity` is visible through (undefined: not customer data, e.g. Product, Employee, Department). */
export function rowRuleParent(entity: EntityName): { via: string; entity: EntityName } | undefined {
  return PARENT[entity];
}

function customerRule(v: Viewer): Filter {
  switch (v.customers) {
    case 'all':
      return TRUE;
    case 'own':
      return { field: 'ownerId', op: 'eq', value: v.user };
    case 'team':
      return v.team ? { field: 'ownerTeam', op: 'eq', value: v.team } : FALSE;
    default:
      return FALSE;
  }
}

/** The row rule of `entity` as a filter on its own store (parent keys in the space of its ref field). */
export async function visibilityFilter(scope: Scope, entity: EntityName): Promise<Filter> {
  if (scope.viewer.customers === 'all') return TRUE;
  if (entity === 'Customer') return customerRule(scope.viewer);
  const parent = PARENT[entity];
  if (!parent) return TRUE;
  const space = scope.rt.store(entity).refSpace(parent.via);
  const keys = await visibleKeys(scope, parent.entity, space);
  return { field: parent.via, op: 'in', value: keys };
}

/** Keys (in `space`) of the records of `entity` the viewer may see; computed once per request. */
function visibleKeys(scope: Scope, entity: EntityName, space: string): Promise<string[]> {
  return scope.once(`visible:${entity}:${space}`, async () => {
    const store = scope.rt.store(entity);
    const own = await store.keys(await visibilityFilter(scope, entity));
    const m = await scope.translate(entity, store.space, space, own);
    return [...new Set([...m.values()].flat())];
  });
}

/** Whether one record passes the row rules (node(), by-id reads, to-one refs). */
export async function isVisible(scope: Scope, rec: Rec): Promise<boolean> {
  const v = scope.viewer;
  if (v.customers === 'all') return true;
  if (rec.entity === 'Customer') {
    if (v.customers === 'own') return rec.get('ownerId') === v.user;
    if (v.customers === 'team') return !!v.team && rec.get('ownerTeam') === v.team;
    return false;
  }
  const parent = PARENT[rec.entity];
  if (!parent) return true;
  const ref = rec.get(parent.via);
  // No parent, no one to see it through (get answers null for a field without a value).
  if (ref === null) return false;
  const p = await scope.recordIn(parent.entity, scope.rt.store(rec.entity).refSpace(parent.via), String(ref));
  return p ? isVisible(scope, p) : false;
}

/**
 * The work isVisible does for a record, done for one that does not exist: the parent lookups the
 * row rule would make. node(id) of someone else's record and of a missing one then cost the same
 * (no timing oracle of existence); both answer null.
 */
// Stryker disable next-line StringLiteral: equivalent: any key no record has makes the same lookups
const ABSENT = 'absent';

export async function visibilityWorkForMissing(scope: Scope, entity: EntityName): Promise<void> {
  if (scope.viewer.customers === 'all') return;
  let child = entity;
  for (let parent = PARENT[child]; parent; parent = PARENT[child]) {
    // The lookups of a real parent (key translation, then the read); what they find is not used.
    const store = scope.rt.store(parent.entity);
    // Stryker disable next-line ArrowFunction: equivalent: what the lookup finds or fails with is not used
    await scope.translate(parent.entity, scope.rt.store(child).refSpace(parent.via), store.space, [ABSENT]).catch(() => null);
    // Stryker disable next-line ArrowFunction: equivalent: what the lookup finds or fails with is not used
    await scope.byKey(parent.entity, ABSENT).catch(() => null);
    child = parent.entity;
  }
}

export function isHidden(v: Viewer, entity: string, field: string): boolean {
  // Called for every field of every record: skip building the coordinate when nothing is hidden.
  if (v.hidden.size === 0) return false;
  return v.hidden.has(`${entity}.${field}`);
}

export function assertNotHidden(v: Viewer, entity: string, fields: Iterable<string>, purpose: string): void {
  for (const f of fields) {
    if (isHidden(v, entity, f)) {
      throw new CrmlinkError('FORBIDDEN', `${purpose} on ${entity}.${f} is not allowed for role "${v.role}" (the field is hidden)`, { entity, field: f });
    }
  }
}

export function requireWrite(v: Viewer, what: string): void {
  if (!v.write) throw new CrmlinkError('FORBIDDEN', `role "${v.role}" may not ${what} (server.auth.roles.${v.role}.write is false)`, { setting: `server.auth.roles.${v.role}.write` });
}

export function requireAdmin(v: Viewer, what: string): void {
  if (!v.admin) throw new CrmlinkError('FORBIDDEN', `role "${v.role}" may not ${what} (needs admin)`, { setting: `server.auth.roles.${v.role}.admin` });
  // config check refuses such a role; this holds for a config that did not come through it.
  if (!adminScopeHolds(v)) throw new CrmlinkError('FORBIDDEN', `role "${v.role}" may not ${what}: ${ADMIN_SCOPE_RULE}`, { setting: `server.auth.roles.${v.role}` });
}
