/**
 * Presets are config: a source's `preset:` is expanded when the config loads, its name and options
 * are checked then, and its mappings are checked against the canonical model like the config's
 * own (unknown fields, enum codes, capture settings), so a job can name their entities.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../cli/main.js';
import { defaultContext } from '../../cli/context.js';
import { loadConfigFile, parseConfig } from '../../config/load.js';
import { presetNames, resolvePreset } from '../../config/presets.js';
import { ConfigError } from '../../core/errors.js';
import { SourceSet } from '../../connectors/registry.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-presets-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function issuesOf(fn: () => unknown): { path: string; message: string; line?: number }[] {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err.issues;
    throw err;
  }
  throw new Error('expected a ConfigError');
}

/** Options each shipped preset needs to load (see its README). */
const OPTIONS: Record<string, string> = {
  'kingdee-k3cloud': 'presetOptions: { organization: 100001 }',
};

describe('preset names and options are checked when the config loads', () => {
  it('config check rejects an unknown preset and lists the known ones', async () => {
    const file = join(dir, 'unknown.yaml');
    writeFileSync(file, `sources:\n  erp:\n    kind: erp\n    dialect: sqlite\n    preset: yonyou-u9\n    connection: { filename: ./erp.db }\n`);
    const err: string[] = [];
    const code = await main(['node', 'crmlink', 'config', 'check', '--config', file], { ...defaultContext(), out: () => {}, err: (t) => err.push(t) });
    expect(code).toBe(2);
    const text = err.join('\n');
    expect(text).toContain('sources.erp.preset: unknown preset "yonyou-u9"');
    expect(text).toContain('(line 5)');
    for (const name of presetNames()) expect(text).toContain(name);
  });

  it('a preset option that is missing, unknown or of the wrong type is an error at its path', () => {
    const yaml = (extra: string) => `sources:\n  k3:\n    kind: erp\n    dialect: mssql\n    preset: kingdee-k3cloud\n${extra}    connection: { host: h, database: AIS }\n`;
    expect(issuesOf(() => parseConfig(yaml(''))).map((i) => i.path)).toContain('sources.k3.presetOptions.organization');
    const wrongType = issuesOf(() => parseConfig(yaml('    presetOptions: { organization: "main" }\n')));
    expect(wrongType).toEqual([expect.objectContaining({ path: 'sources.k3.presetOptions.organization', message: expect.stringContaining('expected an integer') })]);
    const unknown = issuesOf(() => parseConfig(yaml('    presetOptions: { organization: 1, org: 2 }\n')));
    expect(unknown).toEqual([expect.objectContaining({ path: 'sources.k3.presetOptions.org', message: expect.stringContaining('has no option "org"') })]);
    expect(issuesOf(() => parseConfig(`sources:\n  nw: { kind: erp, dialect: sqlite, preset: northwind, presetOptions: { x: 1 }, connection: { filename: a.db } }\n`))[0].message).toContain('it takes none');
  });
});

describe("a preset's mappings are checked against the canonical model at load", () => {
  let presetDir: string;
  beforeAll(() => {
    presetDir = join(dir, 'presets');
    mkdirSync(join(presetDir, 'broken'), { recursive: true });
    writeFileSync(
      join(presetDir, 'broken', 'mapping.yaml'),
      `entities:
  Customer:
    sources:
      $source:
        table: cust
        key: [id]
        changes: { strategy: timestamp }
        fields:
          code: id
          nickname: nick
          status: { column: st, map: { "1": ACTIVE, "9": DELETED } }
`,
    );
  });

  it('reports every problem of the preset at the source that names it, before any source is opened', () => {
    const issues = issuesOf(() =>
      parseConfig(`sources:\n  erp:\n    kind: erp\n    dialect: sqlite\n    preset: broken\n    connection: { filename: ./nowhere/erp.db }\n`, { presetDir }),
    );
    expect(issues.map((i) => `${i.path}: ${i.message}`).sort()).toEqual([
      'sources.erp.preset: preset broken: entities.Customer.changes.column: required for the timestamp strategy',
      'sources.erp.preset: preset broken: entities.Customer.fields.nickname: unknown field "nickname" of Customer (declare custom fields under entities.Customer.fields)',
      'sources.erp.preset: preset broken: entities.Customer.fields.status.map: map."9" → "DELETED": Customer.status is one of ACTIVE, INACTIVE, BLOCKED, PROSPECT',
    ]);
    expect(issues.every((i) => i.line === 5)).toBe(true);
  });

  it("a mapping the config declares for that entity and source replaces the preset's, problems included", () => {
    const loaded = parseConfig(
      `sources:
  erp: { kind: erp, dialect: sqlite, preset: broken, connection: { filename: ./erp.db } }
entities:
  Customer:
    sources:
      erp: { table: customers, key: [id], fields: { code: id, name: company } }
`,
      { presetDir },
    );
    expect(loaded.config.entities.Customer?.sources.erp.table).toBe('customers');
  });

  it('an enum code map in the config itself is checked too', () => {
    const issues = issuesOf(() =>
      parseConfig(`sources:
  erp: { kind: erp, dialect: sqlite, connection: { filename: ./erp.db } }
entities:
  SalesOrder:
    sources:
      erp: { table: so, key: [id], fields: { code: id, status: { column: st, map: { "1": OPEN } } } }
`),
    );
    expect(issues).toEqual([expect.objectContaining({ path: 'entities.SalesOrder.sources.erp.fields.status.map', line: 6 })]);
  });
});

/** The `sources:` block of a config whose one source `src` (SQLite) uses preset `name`, with the options the preset needs. */
function presetSourceYaml(name: string): string {
  return `sources:
  src:
    kind: erp
    dialect: sqlite
    preset: ${name}
    ${OPTIONS[name] ?? ''}
    connection: { filename: ./src.db }`;
}

describe('every shipped preset loads from crmlink.yaml, with a job for each entity it maps', () => {
  for (const name of presetNames()) {
    it(name, () => {
      const entities = [...resolvePreset(name, name === 'kingdee-k3cloud' ? { organization: 100001 } : {}).mappings.keys()];
      expect(entities.length).toBeGreaterThan(0);
      const file = join(dir, `${name}.yaml`);
      writeFileSync(
        file,
        `${presetSourceYaml(name)}
sync:
  jobs:
${entities.map((e) => `    ${e}: { entity: ${e}, sources: [src], direction: pull }`).join('\n')}
`,
      );
      const loaded = loadConfigFile(file, {});
      const sources = SourceSet.open(loaded);
      for (const e of entities) {
        expect(loaded.config.entities[e as keyof typeof loaded.config.entities]?.sources.src, e).toBeDefined();
        expect(sources.mapping(e, 'src').entity).toBe(e);
      }
    });
  }
});

describe('a preset validates from crmlink.yaml as the docs show: an entities block without sources of its own', () => {
  for (const name of presetNames()) {
    it(name, async () => {
      const entities = [...resolvePreset(name, name === 'kingdee-k3cloud' ? { organization: 100001 } : {}).mappings.keys()];
      const file = join(dir, `${name}-modes.yaml`);
      writeFileSync(
        file,
        `${presetSourceYaml(name)}
entities:
${entities.map((e) => `  ${e}:\n    mode: replicated`).join('\n')}
sync:
  jobs:
    first: { entity: ${entities[0]}, sources: [src], direction: pull }
`,
      );
      const out: string[] = [];
      const err: string[] = [];
      const code = await main(['node', 'crmlink', 'config', 'check', '--offline', '--config', file], { ...defaultContext(), out: (t) => out.push(t), err: (t) => err.push(t) });
      expect(err.join('\n')).toBe('');
      expect(code).toBe(0);
      expect(out.join('\n')).toContain(`entities: ${entities.join(', ')}`);
    });
  }

  it('an entity no source maps (neither the config nor a preset) is an error naming the presets', () => {
    const issues = issuesOf(() =>
      parseConfig(`sources:\n  nw: { kind: erp, dialect: sqlite, preset: northwind, connection: { filename: a.db } }\nentities:\n  Invoice:\n    mode: replicated\n`),
    );
    expect(issues).toEqual([
      expect.objectContaining({ path: 'entities.Invoice', line: 4, message: 'no source maps Invoice: map it under entities.Invoice.sources (the presets of nw (northwind) do not map it)' }),
    ]);
  });
});
