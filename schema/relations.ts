/**
 * Relationships between entities, as data: a list field on the parent over children whose ref
 * field `via` points at the parent, and a to-one field for every ref field. The GraphQL types and
 * the resolvers are both generated from these.
 */
import { MODEL, ENTITY_NAMES, type EntityName } from '../model/entities.js';

export interface ListRelation {
  parent: EntityName;
  /** Field name on the parent type. */
  name: string;
  child: EntityName;
  /** Ref field of the child holding the parent's key. */
  via: string;
}

export interface RefRelation {
  entity: EntityName;
  /** The ref field, e.g. customerId. */
  field: string;
  /** The to-one field, e.g. customer. */
  name: string;
  target: EntityName;
}

export const LIST_RELATIONS: readonly ListRelation[] = [
  { parent: 'Customer', name: 'contacts', child: 'Contact', via: 'customerId' },
  { parent: 'Customer', name: 'salesOrders', child: 'SalesOrder', via: 'customerId' },
  { parent: 'Customer', name: 'invoices', child: 'Invoice', via: 'customerId' },
  { parent: 'Customer', name: 'receivables', child: 'Receivable', via: 'customerId' },
  { parent: 'Customer', name: 'payments', child: 'Payment', via: 'customerId' },
  { parent: 'Customer', name: 'creditLimits', child: 'CreditLimit', via: 'customerId' },
  { parent: 'Customer', name: 'opportunities', child: 'Opportunity', via: 'customerId' },
  { parent: 'Customer', name: 'activities', child: 'Activity', via: 'customerId' },
  { parent: 'Customer', name: 'approvals', child: 'ApprovalRequest', via: 'customerId' },
  { parent: 'Customer', name: 'surveyResponses', child: 'SurveyResponse', via: 'customerId' },
  { parent: 'SalesOrder', name: 'lines', child: 'SalesOrderLine', via: 'orderId' },
  { parent: 'Invoice', name: 'lines', child: 'InvoiceLine', via: 'invoiceId' },
  { parent: 'Invoice', name: 'payments', child: 'Payment', via: 'invoiceId' },
  { parent: 'Department', name: 'employees', child: 'Employee', via: 'departmentId' },
];

/** `customerId` → `customer`, `orderId` → `order` (or the field's own `relation` name). */
export const REF_RELATIONS: readonly RefRelation[] = ENTITY_NAMES.flatMap((entity) =>
  MODEL[entity].fields
    .filter((f) => f.type === 'ref' && f.ref)
    .map((f) => ({ entity, field: f.name, name: f.relation ?? f.name.replace(/Id$/, ''), target: f.ref as EntityName })),
);

export function singularName(entity: EntityName): string {
  return entity[0].toLowerCase() + entity.slice(1);
}
