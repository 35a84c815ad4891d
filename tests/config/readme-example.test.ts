/**
 * The configuration example in the README is the first one a user copies: it must load and pass
 * validation as printed (every source a job names declared, every key known).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { parseConfig } from '../../config/index.js';

const README = readFileSync(fileURLToPath(new URL('../../README.md', import.meta.url)), 'utf8');

it('the README configuration example loads and validates', () => {
  const block = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => /^hub:/m.test(b) && /^sync:/m.test(b));
  expect(block, 'a yaml block with hub: and sync: in README.md').toBeDefined();
  const env = Object.fromEntries(['ERP_HOST', 'ERP_USER', 'ERP_PASSWORD', 'FIN_HOST', 'FIN_USER', 'FIN_PASSWORD', 'CRMLINK_OPS_KEY', 'CRMLINK_ALICE_KEY'].map((k) => [k, `x-${k.toLowerCase()}`]));
  const loaded = parseConfig(block!, { env, file: 'README.md' });
  expect(Object.keys(loaded.config.sources)).toEqual(['erp', 'finance']);
  expect(loaded.config.sync.jobs.customers.sources).toEqual(['erp', 'finance']);
});

it('the README preset example loads and validates: entities without sources of their own, jobs on the preset entities', () => {
  const block = [...README.matchAll(/```yaml\n([\s\S]*?)```/g)].map((m) => m[1]).find((b) => /preset: northwind/.test(b));
  expect(block, 'a yaml block with preset: northwind in README.md').toBeDefined();
  const loaded = parseConfig(block!, { env: { NW_USER: 'u', NW_PASSWORD: 'p' }, file: 'README.md' });
  expect(loaded.config.entities.Customer?.mode).toBe('replicated');
  expect(loaded.config.entities.Customer?.sources.nw.table).toBe('customers');
  expect(loaded.config.entities.SalesOrder?.sources.nw.table).toBe('orders');
});
