/**
 * A ref field's to-one GraphQL field is named after the ref (`customerId` → `customer`) unless the
 * field names its own (`relation`), as Employee.departmentId does: Employee.department is the
 * department's code. Every to-one and list relation name must be free on its entity, or the
 * schema would declare the same field twice.
 */
import { expect, it } from 'vitest';
import { ENTITY_NAMES, MODEL } from '../../model/entities.js';
import { LIST_RELATIONS, REF_RELATIONS } from '../../schema/relations.js';

it('no relation name is taken by a field of its entity or by another relation', () => {
  const clashes: string[] = [];
  for (const entity of ENTITY_NAMES) {
    const names = new Map<string, number>();
    for (const f of MODEL[entity].fields) names.set(f.name, (names.get(f.name) ?? 0) + 1);
    for (const r of REF_RELATIONS.filter((x) => x.entity === entity)) names.set(r.name, (names.get(r.name) ?? 0) + 1);
    for (const r of LIST_RELATIONS.filter((x) => x.parent === entity)) names.set(r.name, (names.get(r.name) ?? 0) + 1);
    for (const [name, n] of names) if (n > 1) clashes.push(`${entity}.${name}`);
  }
  expect(clashes).toEqual([]);
});

it('Employee links to its department as departmentRecord, and a department lists its employees', () => {
  expect(REF_RELATIONS.find((r) => r.entity === 'Employee' && r.field === 'departmentId')).toEqual({ entity: 'Employee', field: 'departmentId', name: 'departmentRecord', target: 'Department' });
  expect(LIST_RELATIONS.find((r) => r.parent === 'Department')).toEqual({ parent: 'Department', name: 'employees', child: 'Employee', via: 'departmentId' });
});
