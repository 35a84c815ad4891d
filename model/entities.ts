/**
 * The canonical CRM model: the entities every source maps onto, as data. The GraphQL schema, the
 * hub tables and mapping validation are all generated from this one description, so adding a field
 * here adds it everywhere.
 *
 * Canonical value representation (what a mapping produces and the hub stores):
 * - string, text, enum, ref → string (a ref holds the referenced record's key: the source key in a
 *   source, the global id in the hub)
 * - int → number; boolean → boolean
 * - decimal → string in plain notation ("12345678901234.5678"): money is never a JS float
 * - date → "YYYY-MM-DD"; datetime → ISO-8601 UTC ("2024-01-02T03:04:05.000Z")
 * - null when absent
 */
export type FieldType = 'string' | 'text' | 'int' | 'decimal' | 'boolean' | 'date' | 'datetime' | 'enum' | 'ref';

export type CrmValue = string | number | boolean | null;
export type CrmRecord = Record<string, CrmValue>;

export interface ModelField {
  name: string;
  type: FieldType;
  description?: string;
  /** Allowed values of an enum field. */
  values?: readonly string[];
  /** Referenced entity of a ref field. */
  ref?: EntityName;
  /** Decimal places kept for a decimal field. */
  scale?: number;
  /** Total digits of a decimal field (DECIMAL_PRECISION when not given). */
  precision?: number;
  /** Maximum length of a string field in the hub. */
  maxLength?: number;
  required?: boolean;
  /**
   * Kept by the systems that hold the record (when it was created or last changed there): read,
   * never written by a mutation.
   */
  managed?: boolean;
  /** Declared in the config rather than the canonical model. */
  custom?: boolean;
  /**
   * Name of the to-one GraphQL field of a ref field, when the usual one (the ref's name without
   * `Id`) is taken by another field of the entity (Employee.department, the code, and
   * Employee.departmentId, the ref).
   */
  relation?: string;
}

export interface EntityModel {
  name: EntityName;
  /** GraphQL list field name, e.g. `customers`. */
  plural: string;
  /** Prefix of global ids, e.g. `cus`. */
  idPrefix: string;
  /** Hub table name. */
  table: string;
  description: string;
  fields: readonly ModelField[];
}

export const ENTITY_NAMES = [
  'Customer',
  'Contact',
  'Product',
  'SalesOrder',
  'SalesOrderLine',
  'Invoice',
  'InvoiceLine',
  'Receivable',
  'Payment',
  'CreditLimit',
  'Department',
  'Employee',
  'Opportunity',
  'Activity',
  'ApprovalRequest',
  'SurveyResponse',
] as const;
export type EntityName = (typeof ENTITY_NAMES)[number];

const str = (name: string, extra: Partial<ModelField> = {}): ModelField => ({ name, type: 'string', ...extra });
const dec = (name: string, scale = 4): ModelField => ({ name, type: 'decimal', scale });
const ref = (name: string, entity: EntityName): ModelField => ({ name, type: 'ref', ref: entity });
const enm = (name: string, values: readonly string[]): ModelField => ({ name, type: 'enum', values });

export const MODEL: Record<EntityName, EntityModel> = {
  Customer: {
    name: 'Customer',
    plural: 'customers',
    idPrefix: 'cus',
    table: 'crm_customer',
    description: 'A company the business sells to: the golden record over every system that knows it.',
    fields: [
      str('code', { description: 'Customer code in the system of record.' }),
      str('name', { required: true, maxLength: 200, description: 'Registered company name.' }),
      str('shortName', { description: 'Short name or abbreviation used day to day.' }),
      str('creditCode', { description: 'Unified social credit code (GB 32100-2015), 18 characters.', maxLength: 18 }),
      str('phone', { description: 'Main telephone number.' }),
      str('email', { description: 'Main e-mail address.' }),
      str('address', { maxLength: 500, description: 'Postal or registered address.' }),
      str('city', { description: 'City.' }),
      str('province', { description: 'Province, state or region.' }),
      str('industry', { description: 'Industry or trade the customer is in.' }),
      { ...enm('status', ['ACTIVE', 'INACTIVE', 'BLOCKED', 'PROSPECT']), description: 'Whether the business deals with the customer: ACTIVE, INACTIVE, BLOCKED (no new orders), PROSPECT (not yet a customer).' },
      { ...dec('creditLimit', 2), description: 'Credit granted to the customer, in the currency of the system of record.' },
      str('ownerId', { description: 'User id of the salesperson who owns the customer.' }),
      str('ownerTeam', { description: 'Team (department) of the owner.' }),
      { name: 'createdAt', type: 'datetime', managed: true, description: 'When the customer was created in the system of record.' },
      { name: 'updatedAt', type: 'datetime', managed: true, description: 'When the customer was last changed in the system of record.' },
    ],
  },
  Contact: {
    name: 'Contact',
    plural: 'contacts',
    idPrefix: 'con',
    table: 'crm_contact',
    description: 'A person at a customer.',
    fields: [
      { ...ref('customerId', 'Customer'), description: 'The customer the person works for.' },
      str('name', { required: true, description: 'Full name.' }),
      str('title', { description: 'Job title.' }),
      str('phone', { description: 'Office telephone number.' }),
      str('mobile', { description: 'Mobile telephone number.' }),
      str('email', { description: 'E-mail address.' }),
      { name: 'isPrimary', type: 'boolean', description: 'The main contact of the customer.' },
    ],
  },
  Product: {
    name: 'Product',
    plural: 'products',
    idPrefix: 'prd',
    table: 'crm_product',
    description: 'An item the business sells (ERP inventory).',
    fields: [
      str('code', { required: true, description: 'Item code in the system of record.' }),
      str('name', { required: true, description: 'Item name.' }),
      str('spec', { description: 'Specification or model (规格型号).' }),
      str('unit', { description: 'Unit of measure, by name.' }),
      str('unitCode', { description: 'Unit of measure, by its code in the system of record.' }),
      str('category', { description: 'Item category or class.' }),
      { ...dec('price', 4), description: 'List or reference sale price per unit.' },
      { ...dec('cost', 4), description: 'Standard unit cost (ERP inventory costing); what profit contribution charges a sold unit when its order line records no cost.' },
      { ...enm('status', ['ACTIVE', 'INACTIVE']), description: 'Whether the item is sold: ACTIVE or INACTIVE.' },
    ],
  },
  SalesOrder: {
    name: 'SalesOrder',
    plural: 'salesOrders',
    idPrefix: 'so',
    table: 'crm_sales_order',
    description: 'A sales order (ERP).',
    fields: [
      str('code', { required: true, description: 'Order number in the system of record.' }),
      { ...ref('customerId', 'Customer'), description: 'The customer who ordered.' },
      { name: 'orderDate', type: 'date', description: 'Day the order was placed.' },
      { ...enm('status', ['DRAFT', 'APPROVED', 'SHIPPED', 'CLOSED', 'CANCELLED']), description: 'Where the order is: DRAFT, APPROVED, SHIPPED, CLOSED, CANCELLED.' },
      str('currency', { description: 'Currency of the amounts (ISO 4217 code or the system\'s own).' }),
      { ...dec('totalAmount', 2), description: 'Order total, tax included as the system of record keeps it.' },
      str('salesperson', { description: 'Staff code of the salesperson (an Employee code).' }),
    ],
  },
  SalesOrderLine: {
    name: 'SalesOrderLine',
    plural: 'salesOrderLines',
    idPrefix: 'sol',
    table: 'crm_sales_order_line',
    description: 'One line of a sales order.',
    fields: [
      { ...ref('orderId', 'SalesOrder'), description: 'The order the line belongs to.' },
      { name: 'lineNo', type: 'int', description: 'Position of the line in the order.' },
      { ...ref('productId', 'Product'), description: 'The item ordered.' },
      str('productCode', { description: 'Item code as written on the line.' }),
      str('productName', { description: 'Item name as written on the line.' }),
      { ...dec('quantity', 4), description: 'Quantity ordered, in the item\'s unit.' },
      { ...dec('unitPrice', 4), description: 'Price per unit on the line.' },
      { ...dec('amount', 2), description: 'Line amount.' },
      { ...dec('unitCost', 4), description: 'Unit cost recorded on the line where the ERP keeps one; profit contribution prefers it to Product.cost.' },
    ],
  },
  Invoice: {
    name: 'Invoice',
    plural: 'invoices',
    idPrefix: 'inv',
    table: 'crm_invoice',
    description: 'An invoice / receivable (finance).',
    fields: [
      str('code', { required: true, description: 'Invoice number in the system of record.' }),
      { ...ref('customerId', 'Customer'), description: 'The customer invoiced.' },
      { name: 'invoiceDate', type: 'date', description: 'Day the invoice was issued.' },
      { name: 'dueDate', type: 'date', description: 'Day payment is due.' },
      { ...dec('amount', 2), description: 'Invoiced amount.' },
      { ...dec('paidAmount', 2), description: 'Amount paid so far.' },
      { ...dec('balance', 2), description: 'Amount still owed (amount − paidAmount).' },
      { ...enm('status', ['OPEN', 'PARTIAL', 'PAID', 'VOID']), description: 'OPEN, PARTIAL (partly paid), PAID or VOID.' },
      str('currency', { description: 'Currency of the amounts.' }),
    ],
  },
  InvoiceLine: {
    name: 'InvoiceLine',
    plural: 'invoiceLines',
    idPrefix: 'ivl',
    table: 'crm_invoice_line',
    description: 'One line of an invoice (where the ERP keeps the amounts on the lines, as U8 does).',
    fields: [
      { ...ref('invoiceId', 'Invoice'), description: 'The invoice the line belongs to.' },
      { name: 'lineNo', type: 'int', description: 'Position of the line in the invoice.' },
      { ...ref('productId', 'Product'), description: 'The item invoiced.' },
      str('productCode', { description: 'Item code as written on the line.' }),
      str('productName', { description: 'Item name as written on the line.' }),
      { ...dec('quantity', 4), description: 'Quantity invoiced.' },
      { ...dec('unitPrice', 4), description: 'Price per unit on the line.' },
      { ...dec('amount', 2), description: 'Line amount.' },
      { ...dec('paidAmount', 2), description: 'Amount of the line paid so far (where the ERP settles by line).' },
    ],
  },
  Receivable: {
    name: 'Receivable',
    plural: 'receivables',
    idPrefix: 'rcv',
    table: 'crm_receivable',
    description: 'An amount a customer owes outside a sales invoice (finance, e.g. U8 其他应收单); negative for a credit (red-letter) entry.',
    fields: [
      str('code', { required: true, description: 'Document number in the system of record.' }),
      { ...ref('customerId', 'Customer'), description: 'The customer who owes the amount.' },
      { name: 'documentDate', type: 'date', description: 'Day of the document.' },
      { name: 'dueDate', type: 'date', description: 'Day payment is due.' },
      { ...dec('amount', 2), description: 'Amount owed; negative for a credit (red-letter) entry.' },
      { ...dec('balance', 2), description: 'Amount still open.' },
      { ...enm('status', ['OPEN', 'PARTIAL', 'PAID', 'VOID']), description: 'OPEN, PARTIAL (partly settled), PAID or VOID.' },
      str('currency', { description: 'Currency of the amounts.' }),
      str('description', { maxLength: 500, description: 'What the amount is for (document summary).' }),
    ],
  },
  Payment: {
    name: 'Payment',
    plural: 'payments',
    idPrefix: 'pay',
    table: 'crm_payment',
    description: 'A receipt of money from a customer (finance).',
    fields: [
      str('code', { required: true, description: 'Receipt number in the system of record.' }),
      { ...ref('customerId', 'Customer'), description: 'The customer who paid.' },
      { ...ref('invoiceId', 'Invoice'), description: 'The invoice the payment settles, when the system records one.' },
      { name: 'paymentDate', type: 'date', description: 'Day the money was received.' },
      { ...dec('amount', 2), description: 'Amount received.' },
      str('method', { description: 'How it was paid (bank transfer, cash, bill ...), as the system names it.' }),
      str('currency', { description: 'Currency of the amount.' }),
    ],
  },
  CreditLimit: {
    name: 'CreditLimit',
    plural: 'creditLimits',
    idPrefix: 'crl',
    table: 'crm_credit_limit',
    description: 'A credit limit granted to a customer, where the ERP keeps it apart from the customer record (K/3 Cloud credit archive).',
    fields: [
      { ...ref('customerId', 'Customer'), description: 'The customer the credit is granted to.' },
      { ...dec('amount', 2), description: 'Credit limit amount.' },
      str('currency', { description: 'Currency of the amount.' }),
      { name: 'days', type: 'int', description: 'Credit period in days.' },
      { name: 'validFrom', type: 'date', description: 'First day the limit applies.' },
      { name: 'validTo', type: 'date', description: 'Last day the limit applies.' },
      { ...enm('status', ['ACTIVE', 'INACTIVE']), description: 'Whether the limit is in force: ACTIVE or INACTIVE.' },
    ],
  },
  Department: {
    name: 'Department',
    plural: 'departments',
    idPrefix: 'dep',
    table: 'crm_department',
    description: 'A department (部门) of the business: where staff work and the team that owns a customer.',
    fields: [
      str('code', { required: true, description: 'Department code (or id) in the system of record; what Employee.department and Customer.ownerTeam hold.' }),
      str('name', { required: true, description: 'Department name.' }),
      { ...enm('status', ['ACTIVE', 'INACTIVE']), description: 'Whether the department is in use: ACTIVE or INACTIVE.' },
    ],
  },
  Employee: {
    name: 'Employee',
    plural: 'employees',
    idPrefix: 'emp',
    table: 'crm_employee',
    description: 'A member of staff (salespeople, approvers): whom ownerId, salesperson and requester point at.',
    fields: [
      str('code', { required: true, description: 'Staff code (or id) in the system of record; what ownerId, salesperson and requester hold.' }),
      str('name', { required: true, description: 'Full name.' }),
      str('department', { description: 'Department code (or id) in the system of record.' }),
      { ...ref('departmentId', 'Department'), relation: 'departmentRecord', description: 'The department the person works in (GraphQL: departmentRecord).' },
      str('title', { description: 'Job title.' }),
      str('phone', { description: 'Office telephone number.' }),
      str('mobile', { description: 'Mobile telephone number.' }),
      str('email', { description: 'E-mail address.' }),
      { ...enm('status', ['ACTIVE', 'INACTIVE']), description: 'Whether the person still works there: ACTIVE or INACTIVE.' },
    ],
  },
  Opportunity: {
    name: 'Opportunity',
    plural: 'opportunities',
    idPrefix: 'opp',
    table: 'crm_opportunity',
    description: 'A potential sale.',
    fields: [
      str('name', { required: true, description: 'What the sale is about.' }),
      { ...ref('customerId', 'Customer'), description: 'The customer (or prospect) it is with.' },
      { ...enm('stage', ['LEAD', 'QUALIFIED', 'PROPOSAL', 'NEGOTIATION', 'WON', 'LOST']), description: 'Sales stage: LEAD, QUALIFIED, PROPOSAL, NEGOTIATION, WON, LOST.' },
      { ...dec('amount', 2), description: 'Expected amount of the sale.' },
      { name: 'closeDate', type: 'date', description: 'Day the sale is expected to close (or closed).' },
      str('ownerId', { description: 'User id of the salesperson who owns it.' }),
    ],
  },
  Activity: {
    name: 'Activity',
    plural: 'activities',
    idPrefix: 'act',
    table: 'crm_activity',
    description: 'A call, visit or task with a customer.',
    fields: [
      { ...ref('customerId', 'Customer'), description: 'The customer it is with.' },
      { ...enm('type', ['CALL', 'VISIT', 'TASK', 'EMAIL', 'MEETING']), description: 'CALL, VISIT, TASK, EMAIL or MEETING.' },
      str('subject', { required: true, description: 'What it is about.' }),
      { name: 'dueAt', type: 'datetime', description: 'When it is planned.' },
      { name: 'doneAt', type: 'datetime', description: 'When it was done (empty while open).' },
      str('ownerId', { description: 'User id of whoever does it.' }),
    ],
  },
  ApprovalRequest: {
    name: 'ApprovalRequest',
    plural: 'approvals',
    idPrefix: 'apr',
    table: 'crm_approval_request',
    description: 'An OA approval workflow request about a customer (credit, discount, contract).',
    fields: [
      str('code', { description: 'Request number in the OA.' }),
      { ...ref('customerId', 'Customer'), description: 'The customer the request is about.' },
      str('title', { required: true, description: 'Title of the request.' }),
      str('workflow', { description: 'Name of the approval workflow (credit, discount, contract ...).' }),
      { ...enm('status', ['PENDING', 'APPROVED', 'REJECTED', 'WITHDRAWN']), description: 'PENDING, APPROVED, REJECTED or WITHDRAWN.' },
      str('requester', { description: 'Staff code of who asked (an Employee code).' }),
      { name: 'submittedAt', type: 'datetime', description: 'When it was submitted.' },
      { name: 'decidedAt', type: 'datetime', description: 'When it was approved or rejected.' },
      { ...dec('amount', 2), description: 'Amount the request is about, when it has one.' },
    ],
  },
  SurveyResponse: {
    name: 'SurveyResponse',
    plural: 'surveyResponses',
    idPrefix: 'svy',
    table: 'crm_survey_response',
    description: 'A customer satisfaction survey response (满意度调查), often a row of an Excel workbook: when, through which channel, the scores given and the comment.',
    fields: [
      str('code', { description: 'Response number in the source (questionnaire or row id).' }),
      { ...ref('customerId', 'Customer'), description: 'The customer who answered.' },
      { name: 'surveyDate', type: 'date', description: 'Day the customer answered.' },
      { ...enm('channel', ['PHONE', 'VISIT', 'EMAIL', 'WECHAT', 'WEB', 'OTHER']), description: 'How the answer was collected: PHONE, VISIT, EMAIL, WECHAT, WEB, OTHER.' },
      { name: 'score', type: 'decimal', scale: 1, description: 'Overall satisfaction score (the scale is the survey\'s, typically 1-5).' },
      { name: 'serviceScore', type: 'decimal', scale: 1, description: 'Score for service.' },
      { name: 'productScore', type: 'decimal', scale: 1, description: 'Score for product quality.' },
      { name: 'deliveryScore', type: 'decimal', scale: 1, description: 'Score for delivery.' },
      { name: 'comment', type: 'text', description: 'What the customer wrote or said.' },
      str('respondent', { description: 'Who answered at the customer.' }),
    ],
  },
};

/** A schema coordinate: an entity's field. */
export interface FieldRef {
  entity: EntityName;
  field: string;
}

/**
 * A field computed from the fields of other records rather than stored. `from` lists every field
 * the value depends on (the ones summed, and the ones that select and group them): whoever may not
 * see one of them may not see the derived field either, since it would give the hidden value away
 * (one open invoice: the balance itself).
 */
export interface DerivedField {
  entity: EntityName;
  name: string;
  type: FieldType;
  description: string;
  from: readonly FieldRef[];
}

export const DERIVED_FIELDS: readonly DerivedField[] = [
  {
    entity: 'Customer',
    name: 'receivableBalance',
    type: 'decimal',
    description: "Sum of the balance of open and partly paid invoices, computed by the invoices' source.",
    from: [
      { entity: 'Invoice', field: 'balance' },
      { entity: 'Invoice', field: 'status' },
      { entity: 'Invoice', field: 'customerId' },
    ],
  },
];

/**
 * Every schema coordinate ("Customer.receivableBalance") that is hidden when the coordinates in
 * `hidden` are: those, plus each derived field computed from one of them.
 */
export function withDerivedHidden(hidden: Iterable<string>): Set<string> {
  const out = new Set(hidden);
  for (const d of DERIVED_FIELDS) {
    if (d.from.some((r) => out.has(`${r.entity}.${r.field}`))) out.add(`${d.entity}.${d.name}`);
  }
  return out;
}

export function entityModel(name: EntityName): EntityModel {
  return MODEL[name];
}

export function isEntityName(name: string): name is EntityName {
  return (ENTITY_NAMES as readonly string[]).includes(name);
}

/** The fields of an entity including custom fields declared in the config. */
export function fieldsOf(name: EntityName, custom: readonly ModelField[] = []): ModelField[] {
  return [...MODEL[name].fields, ...custom.map((f) => ({ ...f, custom: true }))];
}
