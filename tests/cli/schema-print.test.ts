/**
 * `crmlink schema print` prints the schema the running server serves: the SDL it prints equals
 * the server's schema read back by introspection over HTTP (printSchema of buildClientSchema),
 * with the descriptions of the model and of the config's custom fields. `--subgraph` prints what
 * a federation gateway reads from `_service { sdl }`. The typed client example in docs/examples is
 * kept current: its generated types are what codegen makes of the demo config's printed schema,
 * and `tsc` (tsconfig.json includes docs/examples) compiles it.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildClientSchema, getIntrospectionQuery, printSchema, type IntrospectionQuery } from '../../schema/graphql-runtime.js';
import { main } from '../../cli/main.js';
import { defaultContext, type CliContext } from '../../cli/context.js';
import { configYaml, SERVER_AUTH } from '../graphql/fixture.js';
import { startSecurityServer, type SecurityServer } from '../security/support.js';
import { demoConfigYaml } from '../../demo/config.js';

const ADMIN = { 'x-api-key': 'admin-key-0123456789' };

function capture(): { ctx: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { ctx: { ...defaultContext(), out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

async function print(args: string[]): Promise<string> {
  const c = capture();
  const code = await main(['node', 'crmlink', 'schema', 'print', ...args], c.ctx);
  expect(code, c.err.join('\n')).toBe(0);
  return c.out.join('\n');
}

describe.each([
  ['plain', SERVER_AUTH],
  ['federation subgraph', `  federation: true${SERVER_AUTH}`],
])('schema print (%s) matches the running server', (_name, server) => {
  let s: SecurityServer;
  let file: string;
  beforeAll(async () => {
    s = await startSecurityServer({ customers: 1, server });
    file = join(s.fixture.dir, 'crmlink.yaml');
    writeFileSync(file, configYaml(s.fixture.dir, s.fixture.dbs, server));
  });
  afterAll(async () => {
    await s?.close();
  });

  test('the printed SDL equals the introspected schema, descriptions included', async () => {
    const printed = await print(['--config', file]);
    const r = await s.gql(getIntrospectionQuery({ descriptions: true, directiveIsRepeatable: true, specifiedByUrl: true, inputValueDeprecation: true }), {}, ADMIN);
    expect(r.errors, JSON.stringify(r.errors)).toBeUndefined();
    const running = printSchema(buildClientSchema(r.data as IntrospectionQuery));
    expect(printed.trim()).toBe(running.trim());
    // From the config (a custom field's description) and from the model.
    expect(printed).toContain('"""Loyalty tier"""\n  vipLevel: Int');
    expect(printed).toMatch(/"""[^"]+"""\ntype Customer implements Node/);
  });

  test('--subgraph prints what a gateway reads from _service { sdl }', async () => {
    const printed = await print(['--config', file, '--subgraph']);
    expect(printed).toMatch(/type Customer implements Node\s+@key\(fields: "id"\)/);
    if (/federation: true/.test(server)) {
      const r = await s.gql(`{ _service { sdl } }`, {}, ADMIN);
      expect(printed.trim()).toBe(String(r.data._service.sdl).trim());
    }
  });
});

test('schema print on a bad config exits 2', async () => {
  const c = capture();
  expect(await main(['node', 'crmlink', 'schema', 'print', '--config', '/nonexistent/crmlink.yaml'], c.ctx)).toBe(2);
});

describe('the typed client example (docs/examples/typed-client)', () => {
  const HERE = resolve(import.meta.dirname, '../../docs/examples/typed-client');

  test('its generated types are what GraphQL Code Generator makes of the demo schema `schema print` gives now', async () => {
    const { generateClientTypes, GENERATED } = await import('../../docs/examples/typed-client/codegen.js');
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-demo-schema-'));
    try {
      writeFileSync(join(dir, 'crmlink.yaml'), demoConfigYaml(dir));
      const printed = await print(['--config', join(dir, 'crmlink.yaml')]);
      // Regenerate as docs/examples/typed-client/README.md says (schema print, then codegen.ts).
      expect(readFileSync(GENERATED, 'utf8')).toBe(await generateClientTypes(printed));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
