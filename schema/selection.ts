/**
 * Which fields of the records a connection field returns the query reads, so a federated store
 * selects only their columns (plus key, sort and ref columns) instead of every mapped column: the
 * customer-360 page reads 4 of 8 order-line columns. Computed once per field node of a document.
 *
 * Always a superset: @skip/@include are ignored, fragments of any type condition count, and
 * anything not understood (or `version`, `fieldSources`, `sourceRecords`, which need the whole
 * record: a federated record's source record shows its values) means "all fields" (undefined).
 */
import type { FieldNode, FragmentDefinitionNode, GraphQLResolveInfo, SelectionSetNode } from 'graphql';
import { Kind } from './graphql-runtime.js';
import { LIST_RELATIONS, REF_RELATIONS } from './relations.js';
import type { EntityName } from '../model/entities.js';
import type { EntityStore } from './store.js';

/** Fields computed from the key or the hub alone, never from the record's columns. */
const KEY_ONLY = new Set(['__typename', 'id', 'syncStatus', 'receivableBalance']);
/** Fields that need every value of the record. */
const WHOLE = new Set(['version', 'fieldSources', 'sourceRecords']);

const cache = new WeakMap<FieldNode, { entity: EntityName; fields: ReadonlySet<string> | undefined }>();

type Fragments = Record<string, FragmentDefinitionNode>;

/** Selection sets of the records under a connection's `nodes` and `edges { node }`. */
function nodeSelections(set: SelectionSetNode | undefined, fragments: Fragments, out: SelectionSetNode[], seen: Set<string>, edge = false): void {
  if (!set) return;
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      const name = sel.name.value;
      if (edge ? name === 'node' : name === 'nodes') {
        if (sel.selectionSet) out.push(sel.selectionSet);
      } else if (!edge && name === 'edges') nodeSelections(sel.selectionSet, fragments, out, seen, true);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) nodeSelections(sel.selectionSet, fragments, out, seen, edge);
    else {
      const f = fragments[sel.name.value];
      if (f && !seen.has(f.name.value)) {
        seen.add(f.name.value);
        nodeSelections(f.selectionSet, fragments, out, seen, edge);
      }
    }
  }
}

/** Field names selected on the record type (through fragments); false when the whole record is needed. */
function recordFields(set: SelectionSetNode, fragments: Fragments, out: Set<string>, seen: Set<string>): boolean {
  for (const sel of set.selections) {
    if (sel.kind === Kind.FIELD) {
      const name = sel.name.value;
      if (WHOLE.has(name)) return false;
      out.add(name);
    } else if (sel.kind === Kind.INLINE_FRAGMENT) {
      if (!recordFields(sel.selectionSet, fragments, out, seen)) return false;
    } else {
      const f = fragments[sel.name.value];
      if (f && !seen.has(f.name.value)) {
        seen.add(f.name.value);
        if (!recordFields(f.selectionSet, fragments, out, seen)) return false;
      }
    }
  }
  return true;
}

/**
 * The fields of `entity` (in `store`) read under the connection field being resolved: model and
 * custom fields as themselves, to-one relations as their ref field, list relations and key-only
 * fields as nothing. undefined: read every field.
 */
export function connectionFields(info: Pick<GraphQLResolveInfo, 'fieldNodes' | 'fragments'> | undefined, entity: EntityName, store: EntityStore): ReadonlySet<string> | undefined {
  const first = info?.fieldNodes?.[0];
  if (!info || !first) return undefined;
  const hit = cache.get(first);
  if (hit && hit.entity === entity) return hit.fields;
  let fields: Set<string> | undefined = new Set<string>();
  const sets: SelectionSetNode[] = [];
  for (const node of info.fieldNodes) nodeSelections(node.selectionSet, info.fragments ?? {}, sets, new Set());
  const names = new Set<string>();
  for (const set of sets) {
    if (!recordFields(set, info.fragments ?? {}, names, new Set())) {
      fields = undefined;
      break;
    }
  }
  if (fields) {
    for (const name of names) {
      if (KEY_ONLY.has(name) || LIST_RELATIONS.some((r) => r.parent === entity && r.name === name)) continue;
      if (store.fields.has(name)) {
        fields.add(name);
        continue;
      }
      const ref = REF_RELATIONS.find((r) => r.entity === entity && r.name === name);
      if (ref) {
        fields.add(ref.field);
        continue;
      }
      fields = undefined;
      break;
    }
  }
  cache.set(first, { entity, fields });
  return fields;
}

const keys = new WeakMap<ReadonlySet<string>, string>();

/** A stable name of a field set, for batching keys (computed once per set). */
export function fieldsKey(fields: ReadonlySet<string> | undefined): string {
  if (!fields) return '*';
  let k = keys.get(fields);
  if (k === undefined) keys.set(fields, (k = [...fields].sort().join(',')));
  return k;
}
