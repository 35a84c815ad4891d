/** Config texts for tests: the hub and sources over test databases, and texts crmlink must refuse. */
import { parseConfig } from '../../config/load.js';
import { ConfigError } from '../../core/errors.js';
import type { TestDatabase } from './databases.js';

/** A source of a test config: its database (the kind is then the source's name), or a kind and a database. */
export type TestSource = TestDatabase | readonly [kind: string, db: TestDatabase];

/**
 * A config's `hub:` and `sources:` lines over test databases, each dialect and connection taken
 * from the database itself (so a config cannot name another dialect than the one created).
 */
export function hubAndSources(hub: TestDatabase, sources: Record<string, TestSource>): string {
  const at = (db: TestDatabase) => `dialect: ${db.dialect}, connection: ${JSON.stringify(db.connection)}`;
  const lines = Object.entries(sources).map(([name, s]) => {
    const [kind, db] = Array.isArray(s) ? (s as readonly [string, TestDatabase]) : [name, s as TestDatabase];
    return `  ${name}: { kind: ${kind}, ${at(db)} }`;
  });
  return [`hub: { ${at(hub)} }`, 'sources:', ...lines].join('\n');
}

/** A `sources:` block of SQLite sources a test names but never reads, each of the kind of its name. */
export function namedSources(...names: string[]): string {
  return ['sources:', ...names.map((n) => `  ${n}: { kind: ${n}, dialect: sqlite, connection: { filename: ./${n}.db } }`)].join('\n');
}

/**
 * A whole config over SQLite files beside it: a hub, an ERP whose `Customer` table (code, name)
 * maps to Customer, an admin anonymous role; `hubOptions` go into the hub's line, `pullJob` adds a
 * `customers` pull job.
 */
export function sqliteErpConfig(o: { hub: string; erp: string; hubOptions?: string; pullJob?: boolean }): string {
  return [
    `hub: { dialect: sqlite, connection: { filename: ${o.hub} }${o.hubOptions ? `, ${o.hubOptions}` : ''} }`,
    'sources:',
    `  erp: { kind: erp, dialect: sqlite, connection: { filename: ${o.erp} } }`,
    'entities:',
    '  Customer:',
    '    sources:',
    '      erp: { table: Customer, key: [code], fields: { code: code, name: name } }',
    ...(o.pullJob ? ['sync:', '  jobs:', '    customers: { entity: Customer, sources: [erp], direction: pull }'] : []),
    'server:',
    '  auth: { mode: none, anonymousRole: admin, roles: { admin: { customers: all, admin: true } } }',
    '',
  ].join('\n');
}

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
