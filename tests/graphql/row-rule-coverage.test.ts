/**
 * Every entity that belongs to a customer is under the customer's row rule: an entity with a
 * reference to a customer, or to a record that is itself under the rule (an order, an invoice),
 * has a row-rule parent. Without one, the rule defaulted to "visible", and Receivable, CreditLimit
 * and InvoiceLine rows were shown to every role whatever its customers.
 */
import { expect, it } from 'vitest';
import { ENTITY_NAMES, MODEL, type EntityName } from '../../model/entities.js';
import { rowRuleParent } from '../../schema/security.js';

/** Entities that are no customer's data: visible to every role that may read. */
const NOT_CUSTOMER_DATA: readonly EntityName[] = ['Customer', 'Product', 'Employee', 'Department'];

function underRule(entity: EntityName): boolean {
  if (entity === 'Customer') return true;
  const parent = rowRuleParent(entity);
  return parent !== undefined && underRule(parent.entity);
}

it('every entity referring to customer data is under the customer row rule', () => {
  const missing: string[] = [];
  for (const entity of ENTITY_NAMES) {
    if (NOT_CUSTOMER_DATA.includes(entity)) continue;
    const refs = MODEL[entity].fields.filter((f) => f.type === 'ref' && f.ref !== undefined && !NOT_CUSTOMER_DATA.slice(1).includes(f.ref));
    if (refs.length > 0 && !underRule(entity)) missing.push(`${entity} (refers to ${refs.map((f) => `${f.name} → ${f.ref}`).join(', ')})`);
  }
  expect(missing).toEqual([]);
});

it('each parent is reached through a reference field of the entity to that parent', () => {
  for (const entity of ENTITY_NAMES) {
    const parent = rowRuleParent(entity);
    if (!parent) continue;
    const field = MODEL[entity].fields.find((f) => f.name === parent.via);
    expect(field, `${entity}.${parent.via}`).toMatchObject({ type: 'ref', ref: parent.entity });
  }
});
