/** Config texts a test expects crmlink to refuse. */
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';

/** The ConfigError that parsing `text` with `env` raises; throws when the text is accepted or fails otherwise. */
export function configErrorOf(text: string, env: Record<string, string> = {}): ConfigError {
  try {
    parseConfig(text, { env });
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected the config to be rejected');
}

/**
 * The test ERP's customer table (erp_customer keyed by cust_code, as the sync and verification
 * worlds create it) as the start of a config's `entities:` block, up to the erp source's key; the
 * source's other lines (changes, write, fields) follow it.
 */
export const TEST_ERP_CUSTOMERS = `entities:
  Customer:
    sources:
      erp:
        table: erp_customer
        key: [cust_code]`;

/** Every column of the test ERP's customer table, as the erp source's `fields:` block. */
export const TEST_ERP_CUSTOMER_FIELDS = `        fields:
          code: cust_code
          name: cust_name
          creditCode: credit_code
          phone: phone
          city: city
          creditLimit: { column: credit_limit, type: decimal, scale: 2 }`;
