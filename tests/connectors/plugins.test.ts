/**
 * Connector plugins from npm packages named in the config: loaded from the config's directory,
 * checked (API version, capabilities as data), and every failure names the package and the setting.
 * The read contract over a plugin runs in tests/contract/connectors.contract.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../config/load.js';
import { SourceSet } from '../../connectors/registry.js';
import { selectFiltered, splitWhere } from '../../connectors/filter.js';
import { installPlugin, PLUGIN_NAME } from '../contract/plugin-fixture.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-plugins-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function project(name: string, connector: string): { sources: SourceSet; baseDir: string } {
  const baseDir = join(dir, name);
  mkdirSync(baseDir, { recursive: true });
  writeFileSync(join(baseDir, 'rows.json'), JSON.stringify({ customers: { key: ['id'], rows: [{ id: 1, name: '甲', city: '上海' }, { id: 2, name: '乙', city: '北京' }, { id: 3, name: '丙', city: '上海' }] } }));
  const yaml = `
hub: { dialect: sqlite, connection: { filename: hub.db } }
sources:
  crm: { kind: crm, connector: "${connector}", connection: {}, settings: { file: rows.json } }
`;
  return { sources: SourceSet.open(parseConfig(yaml, { baseDir })), baseDir };
}

describe('connector plugins', () => {
  it('loads the package the config names and reads through it, filtering in crmlink what it cannot push down', async () => {
    const { sources, baseDir } = project('ok', PLUGIN_NAME);
    installPlugin(baseDir);
    const c = sources.connector('crm');
    expect(c.kind).toBe(PLUGIN_NAME);
    expect(c.capabilities.filters).toEqual(['eq', 'in']);
    const where = { and: [{ column: 'city', op: 'eq' as const, value: '上海' }, { column: 'name', op: 'startsWith' as const, value: '丙' }] };
    expect(splitWhere(where, c.capabilities.filters)).toEqual({ pushed: where.and[0], residual: where.and[1] });
    expect(await selectFiltered(c, { table: 'customers', columns: ['id', 'name'], where, orderBy: [{ column: 'id', direction: 'asc' }] })).toEqual([{ id: 3, name: '丙' }]);
    await expect(c.select({ table: 'customers', columns: ['id'], where: where.and[1] })).rejects.toThrow(/startsWith/);
    expect(() => sources.driver('crm')).toThrow(/source "crm" is a @acme\/crmlink-connector-json source, not a SQL database/);
    await sources.destroy();
  });

  it('a package that is not installed: named, with the command to install it', () => {
    const { sources, baseDir } = project('missing', '@acme/crmlink-connector-nope');
    expect(() => sources.connector('crm')).toThrow(`connector package "@acme/crmlink-connector-nope" (sources.crm.connector): not installed: run npm install @acme/crmlink-connector-nope in ${baseDir}`);
  });

  it('a plugin for another API version is refused, naming both', () => {
    const { sources, baseDir } = project('future', PLUGIN_NAME);
    installPlugin(baseDir, { apiVersion: 2 });
    expect(() => sources.connector('crm')).toThrow(`connector package "${PLUGIN_NAME}" (sources.crm.connector): is written for connector API version 2; this crmlink speaks version 1`);
  });

  it('a config with both or neither of dialect and connector is refused', () => {
    const both = `
hub: { dialect: sqlite, connection: { filename: hub.db } }
sources:
  crm: { kind: crm, dialect: sqlite, connector: csv, connection: { filename: a.csv } }
`;
    expect(() => parseConfig(both)).toThrow(/sources\.crm: needs exactly one of dialect .* and connector/);
    const noFile = `
hub: { dialect: sqlite, connection: { filename: hub.db } }
sources:
  crm: { kind: crm, connector: xlsx, connection: {} }
`;
    expect(() => parseConfig(noFile)).toThrow(/sources\.crm\.connection\.filename: required for the xlsx connector/);
  });
});
