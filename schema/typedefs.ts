/**
 * The GraphQL SDL, generated from the canonical model (model/entities.ts), the custom fields of the
 * config, the relationships (schema/relations.ts) and what the config makes writable. Nothing here
 * is written by hand per entity: a field added to the model appears in its type, filters, sort
 * keys, aggregates and mutation inputs.
 */
import { CrmlinkError } from '../core/errors.js';
import { ENTITY_NAMES, MODEL, type EntityName, type ModelField } from '../model/entities.js';
import { LIST_RELATIONS, REF_RELATIONS, singularName } from './relations.js';
import { isNumeric, isOrdered } from './connections.js';
import type { Runtime } from './runtime.js';
import type { ExtraTypeDefs } from './module.js';

const NAME = /^[_A-Za-z][_0-9A-Za-z]*$/;
const RESERVED = new Set(['id', 'version', 'sourceRecords', 'fieldSources', 'syncStatus', 'receivableBalance', 'analysis']);

export function enumTypeName(entity: EntityName, field: ModelField): string {
  return `${entity}${field.name[0].toUpperCase()}${field.name.slice(1)}`;
}

export function scalarOf(entity: EntityName, f: ModelField): string {
  switch (f.type) {
    case 'string':
    case 'text':
      return 'String';
    case 'int':
      return 'Int';
    case 'decimal':
      return 'Decimal';
    case 'boolean':
      return 'Boolean';
    case 'date':
      return 'Date';
    case 'datetime':
      return 'DateTime';
    case 'enum':
      return enumTypeName(entity, f);
    case 'ref':
      return 'ID';
  }
}

function filterTypeOf(entity: EntityName, f: ModelField): string {
  switch (f.type) {
    case 'enum':
      return `${enumTypeName(entity, f)}Filter`;
    case 'ref':
      return 'RefFilter';
    case 'text':
      return 'StringFilter';
    default:
      return `${scalarOf(entity, f)}Filter`;
  }
}

function doc(text: string | undefined, indent = '  '): string {
  return text ? `${indent}"""${text.replace(/"""/g, '\\"""')}"""\n` : '';
}

const CONNECTION_ARGS = (entity: EntityName) =>
  `(where: ${entity}Where, orderBy: [${entity}OrderBy!], first: Int, after: String, last: Int, before: String)`;

/** Replicated records only (a federated write is in its source already); timeoutMs is capped at 60000. */
const PROPAGATE_ARGS = ', propagate: Propagate = ASYNC, timeoutMs: Int = 5000';

const COMMON = /* GraphQL */ `
"""An exact decimal number, serialised as a string ("1234.56")."""
scalar Decimal
"""A calendar date, YYYY-MM-DD."""
scalar Date
"""An instant, ISO-8601 UTC."""
scalar DateTime
"""Any JSON value."""
scalar JSON

"""An object with a global id: hub ids (cus_...) for replicated records, opaque ids for federated ones."""
interface Node {
  id: ID!
}

"""How a mutation of a replicated record treats its propagation to the other systems."""
enum Propagate {
  "Return at once; the change reaches the other systems moments later (read propagation to follow it)."
  ASYNC
  "Return once the change has been pushed to every other system, or timeoutMs has passed: propagation then says, per system, the key there or why it is parked or pending."
  WAIT
}

enum SortDirection {
  ASC
  DESC
}

enum SyncStatus {
  "Every linked source holds what the hub holds."
  IN_SYNC
  "Changed since the last sync; a push is due."
  PENDING
  "A conflict waits for a decision."
  CONFLICT
  "A sync error parked this record."
  ERROR
}

type PageInfo {
  hasNextPage: Boolean!
  hasPreviousPage: Boolean!
  startCursor: String
  endCursor: String
}

"""A source system's record linked to this one."""
type SourceRecord {
  source: String!
  key: String!
  syncedAt: DateTime
  """That system's values as sync last read them (field → value), to compare side by side; fields your role may not see are left out; null before the first sync."""
  values: JSON
}

"""Which source the current value of a field came from, and when."""
type FieldSource {
  field: String!
  source: String!
  changedAt: DateTime
}

input StringFilter {
  eq: String
  ne: String
  in: [String]
  nin: [String]
  lt: String
  lte: String
  gt: String
  gte: String
  "Holds this text, whatever the case of letters (A matches a); % and _ are plain characters. docs/filters.md"
  contains: String
  "Begins with this text; % and _ are plain characters."
  startsWith: String
  isNull: Boolean
}
input IntFilter {
  eq: Int
  ne: Int
  in: [Int]
  nin: [Int]
  lt: Int
  lte: Int
  gt: Int
  gte: Int
  isNull: Boolean
}
input DecimalFilter {
  eq: Decimal
  ne: Decimal
  in: [Decimal]
  nin: [Decimal]
  lt: Decimal
  lte: Decimal
  gt: Decimal
  gte: Decimal
  isNull: Boolean
}
input DateFilter {
  eq: Date
  ne: Date
  in: [Date]
  nin: [Date]
  lt: Date
  lte: Date
  gt: Date
  gte: Date
  isNull: Boolean
}
input DateTimeFilter {
  eq: DateTime
  ne: DateTime
  in: [DateTime]
  nin: [DateTime]
  lt: DateTime
  lte: DateTime
  gt: DateTime
  gte: DateTime
  isNull: Boolean
}
input BooleanFilter {
  eq: Boolean
  ne: Boolean
  isNull: Boolean
}
"""Global ids of records of this entity."""
input IDFilter {
  eq: ID
  ne: ID
  in: [ID!]
  nin: [ID!]
}
"""Global ids of the referenced records."""
input RefFilter {
  eq: ID
  ne: ID
  in: [ID!]
  nin: [ID!]
  isNull: Boolean
}

type DeletePayload {
  id: ID!
  deleted: Boolean!
}
`;

export type { ExtraTypeDefs };

/** The SDL of the model's entities for `rt`, plus what each module contributes (`extras`). */
/** `entityDirectives`: directives on every entity type (federation's `@key`), '' for none. */
export function buildTypeDefs(rt: Runtime, extras: readonly ExtraTypeDefs[] = [], entityDirectives = ''): string {
  const out: string[] = [COMMON];
  const query: string[] = [
    '  "Any record by its global id."\n  node(id: ID!): Node',
    '  "Records by global id, in order (null where not found or not visible)."\n  nodes(ids: [ID!]!): [Node]!',
  ];
  const mutation: string[] = [];

  for (const entity of ENTITY_NAMES) {
    const model = MODEL[entity];
    const fields = rt.fields(entity);
    for (const f of fields) {
      if (!NAME.test(f.name) || RESERVED.has(f.name)) {
        throw new CrmlinkError('CONFIG_INVALID', `entities.${entity}.fields.${f.name}: not usable as a GraphQL field name (letters, digits, _; not one of ${[...RESERVED].join(', ')})`, {
          path: `entities.${entity}.fields.${f.name}`,
        });
      }
    }

    // Enums
    for (const f of fields) {
      if (f.type === 'enum' && f.values) {
        out.push(`enum ${enumTypeName(entity, f)} {\n${f.values.map((v) => `  ${v}`).join('\n')}\n}`);
        const t = enumTypeName(entity, f);
        out.push(`input ${t}Filter {\n  eq: ${t}\n  ne: ${t}\n  in: [${t}]\n  nin: [${t}]\n  isNull: Boolean\n}`);
      }
    }

    // Object type
    const lines: string[] = [
      '  id: ID!',
      '  "Hub: the record version (expectedVersion of mutations); federated: a hash of the current row."\n  version: Int!',
    ];
    for (const f of fields) lines.push(`${doc(f.description ?? (f.custom ? 'Custom field.' : undefined))}  ${f.name}: ${scalarOf(entity, f)}`);
    for (const r of REF_RELATIONS.filter((x) => x.entity === entity)) lines.push(`  ${r.name}: ${r.target}`);
    for (const r of LIST_RELATIONS.filter((x) => x.parent === entity)) lines.push(`  ${r.name}${CONNECTION_ARGS(r.child)}: ${r.child}Connection!`);
    if (entity === 'Customer') {
      lines.push(
        '  "Sum of the balance of open and partly paid invoices, computed by the invoices\' source. Null when unknown: no source maps invoices (customerId, balance, status), or this customer has no record in the invoices\' system; 0 means its invoices were looked at and none is open. Null also for a role that cannot see Invoice.balance, status or customerId."\n  receivableBalance: Decimal',
      );
    }
    lines.push('  "The source records linked to this one."\n  sourceRecords: [SourceRecord!]!');
    lines.push('  "Where each field\'s value came from."\n  fieldSources: [FieldSource!]!');
    lines.push('  syncStatus: SyncStatus!');
    out.push(`${doc(model.description, '')}type ${entity} implements Node${entityDirectives ? ` ${entityDirectives}` : ''} {\n${lines.join('\n')}\n}`);

    // Connection, edge, aggregates
    const numeric = fields.filter(isNumeric);
    const ordered = fields.filter(isOrdered);
    out.push(`type ${entity}Edge {\n  cursor: String!\n  node: ${entity}!\n}`);
    const aggLines = ['  count: Int!'];
    if (numeric.length) {
      out.push(`type ${entity}SumFields {\n${numeric.map((f) => `  ${f.name}: Decimal`).join('\n')}\n}`);
      aggLines.push(`  sum: ${entity}SumFields!`, `  avg: ${entity}SumFields!`);
    }
    if (ordered.length) {
      out.push(`type ${entity}MinMaxFields {\n${ordered.map((f) => `  ${f.name}: ${f.type === 'int' ? 'Int' : scalarOf(entity, f)}`).join('\n')}\n}`);
      aggLines.push(`  min: ${entity}MinMaxFields!`, `  max: ${entity}MinMaxFields!`);
    }
    out.push(`"""Aggregates over every record matching where (not just the page)."""\ntype ${entity}Aggregate {\n${aggLines.join('\n')}\n}`);
    out.push(
      `type ${entity}Connection {\n  edges: [${entity}Edge!]!\n  nodes: [${entity}!]!\n  pageInfo: PageInfo!\n  "Records matching where, all pages."\n  totalCount: Int!\n  aggregate: ${entity}Aggregate!\n}`,
    );

    // Filters and ordering
    const whereLines = ['  id: IDFilter', ...fields.map((f) => `  ${f.name}: ${filterTypeOf(entity, f)}`)];
    whereLines.push(`  and: [${entity}Where!]`, `  or: [${entity}Where!]`, `  not: ${entity}Where`);
    out.push(`input ${entity}Where {\n${whereLines.join('\n')}\n}`);
    out.push(`enum ${entity}SortField {\n${fields.map((f) => `  ${f.name}`).join('\n')}\n}`);
    out.push(`input ${entity}OrderBy {\n  field: ${entity}SortField!\n  direction: SortDirection = ASC\n}`);

    query.push(`  ${singularName(entity)}(id: ID!): ${entity}`);
    query.push(`  ${model.plural}${CONNECTION_ARGS(entity)}: ${entity}Connection!`);

    // Mutations
    const writable = rt.entityConfig(entity)?.writable ?? [];
    if (rt.entityConfig(entity) && writable.length) {
      const inputLines = fields.map((f) => `${doc(f.required ? 'Required.' : undefined)}  ${f.name}: ${scalarOf(entity, f)}`);
      if (writable.includes('insert')) {
        out.push(`input ${entity}CreateInput {\n${inputLines.join('\n')}\n}`);
        mutation.push(`  create${entity}(input: ${entity}CreateInput!${PROPAGATE_ARGS}): ${entity}!`);
      }
      if (writable.includes('update')) {
        out.push(`input ${entity}UpdateInput {\n${fields.map((f) => `  ${f.name}: ${scalarOf(entity, f)}`).join('\n')}\n}`);
        mutation.push(`  "Fails with VERSION_CONFLICT when expectedVersion is given and the record has moved on."\n  update${entity}(id: ID!, input: ${entity}UpdateInput!, expectedVersion: Int${PROPAGATE_ARGS}): ${entity}!`);
      }
      if (writable.includes('delete')) mutation.push(`  delete${entity}(id: ID!, expectedVersion: Int): DeletePayload!`);
    }
  }

  const subscription: string[] = [];
  for (const extra of extras) {
    query.push(...extra.query);
    mutation.push(...extra.mutation);
    subscription.push(...(extra.subscription ?? []));
    out.push(extra.types);
  }
  out.push(`type Query {\n${query.join('\n')}\n}`);
  if (mutation.length) out.push(`type Mutation {\n${mutation.join('\n')}\n}`);
  if (subscription.length) out.push(`type Subscription {\n${subscription.join('\n')}\n}`);
  return out.join('\n\n');
}
