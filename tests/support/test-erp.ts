/**
 * The test ERP's customer table, erp_customer keyed by cust_code, as the sync and verification
 * worlds create it and their configs map it.
 */
import type { Knex } from 'knex';

/** The table's columns but its change column (each world captures changes its own way). */
export function addErpCustomerColumns(t: Knex.CreateTableBuilder): void {
  t.string('cust_code', 20).primary();
  t.string('cust_name', 200).notNullable();
  t.string('credit_code', 18).nullable();
  t.string('phone', 30).nullable();
  t.string('city', 50).nullable();
  t.decimal('credit_limit', 12, 2).nullable();
}

/**
 * The table as the start of a config's `entities:` block, up to the erp source's key; the source's
 * other lines (changes, write, fields) follow it.
 */
export const TEST_ERP_CUSTOMERS = `entities:
  Customer:
    sources:
      erp:
        table: erp_customer
        key: [cust_code]`;

/** Every column of the table, as the erp source's `fields:` block. */
export const TEST_ERP_CUSTOMER_FIELDS = `        fields:
          code: cust_code
          name: cust_name
          creditCode: credit_code
          phone: phone
          city: city
          creditLimit: { column: credit_limit, type: decimal, scale: 2 }`;
