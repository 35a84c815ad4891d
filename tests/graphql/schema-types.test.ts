/**
 * The schema types what it knows: a field holding one of a closed set of codes (statuses, kinds,
 * directions, roles' scopes, decisions, labels) is an enum, never a String; and JSON is left only
 * where the value really is free-form — a field's value of any type, or a map keyed by the
 * fields of an entity — each listed here with why. A new String status or JSON blob fails here.
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { getNamedType, isEnumType, isObjectType, type GraphQLSchema } from '../../schema/graphql-runtime.js';
import { appSchema } from '../../server/yoga-app.js';
import { createFixture } from './fixture.js';
import { useOpened } from '../support/lifecycle.js';

/** Field names that always carry a closed set of codes. */
const CLOSED_SET_NAMES = /^(status|state|kind|hubKind|direction|decision|label|op|mode|trigger|action|tierMethod|customers)$/;

/** Closed-set names that stay strings, and why. */
const OPEN_STRINGS: Record<string, string> = {
  'RecordVersion.action': 'any operation name the hub records (create, update, sync, merge, restore-source, ...): open-ended',
};
/** <Entity>Change.action (subscriptions): the same write actions as RecordVersion.action. */
const CHANGE_ACTION = /Change\.action$/;

/** JSON fields, and why their shape is not one type. */
const FREE_FORM_JSON: Record<string, string> = {
  'SourceRecord.values': "field → value of a source record, the entity's fields each with its own type",
  'ConflictSide.value': "a value of the conflicting field, whatever that field's type",
  'Conflict.base': 'idem',
  'Conflict.resolution': '{ keep, value }: value of the field, any type',
  'MergeField.survivorValue': 'a value of the field, any type',
  'MergeField.mergedValue': 'idem',
  'MergeField.value': 'idem',
  'MergeWriteField.from': 'idem',
  'MergeWriteField.to': 'idem',
  'FieldChange.before': 'idem',
  'FieldChange.after': 'idem',
  'PlannedWrite.values': 'field → value of the fields a write sets',
  'PlannedConflict.values': 'side → value of the conflicting field',
};

const f = useOpened(() => createFixture({ customers: 1 }));
let schema: GraphQLSchema;
beforeAll(async () => {
  schema = appSchema(f.app);
});

function fields(): { coordinate: string; type: string; enumType: boolean }[] {
  const out: { coordinate: string; type: string; enumType: boolean }[] = [];
  for (const t of Object.values(schema.getTypeMap())) {
    if (!isObjectType(t) || t.name.startsWith('__')) continue;
    for (const field of Object.values(t.getFields())) {
      const named = getNamedType(field.type);
      out.push({ coordinate: `${t.name}.${field.name}`, type: named.name, enumType: isEnumType(named) });
    }
  }
  return out;
}

describe('the schema types what it knows', () => {
  test('every status, kind, direction, decision, label, scope is an enum', () => {
    const strings = fields()
      .filter((x) => CLOSED_SET_NAMES.test(x.coordinate.split('.')[1]) && !x.enumType && x.type === 'String')
      .map((x) => x.coordinate)
      .filter((c) => !(c in OPEN_STRINGS) && !CHANGE_ACTION.test(c));
    expect(strings).toEqual([]);
  });

  test('JSON only where the value is free-form', () => {
    const json = fields()
      .filter((x) => x.type === 'JSON')
      .map((x) => x.coordinate);
    expect(json.filter((c) => !(c in FREE_FORM_JSON))).toEqual([]);
  });

  test('run reports are typed objects', () => {
    const t = (name: string) => schema.getType(name);
    expect(String(schema.getMutationType()?.getFields().runSyncJob.type)).toBe('SyncRunReport!');
    expect(isObjectType(t('SyncRun')) && String((t('SyncRun') as { getFields(): Record<string, { type: unknown }> }).getFields().stats.type)).toBe('SyncRunReport');
    expect(isEnumType(t('SyncRunStatus'))).toBe(true);
  });
});
