/**
 * A replicated entity that no sync job fills answers 0 rows: that is never silent. `config check`
 * warns (through the real binary), the server logs it at start-up, and every GraphQL response
 * that reads a list of it carries `extensions.warnings` (with compiled execution and without).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { Writable } from 'node:stream';
import { loadConfigFile } from '../../config/load.js';
import { openApp, type App } from '../../app/app.js';
import { createLogger, silentLogger } from '../../core/logger.js';
import { createYogaApp } from '../../server/yoga-app.js';
import { startServer } from '../../server/server.js';
import { CRMLINK_BIN, customerConfig, OPEN_ADMIN_SERVER, pullCustomersJob, tempDirForTests, writeConfig, writeCustomerErp } from '../support/cli.js';

const dir = tempDirForTests('unsynced');

/** The config `name` in dir: the ERP's customers mapped, and `jobs` (none, or the customers job). */
const configWith = (name: string, jobs: string[]) => writeConfig(dir, customerConfig({ hubFile: `./${name}.hub.db`, rest: [...jobs, ...OPEN_ADMIN_SERVER] }), name);

let unsynced: string;
let synced: string;
beforeAll(async () => {
  await writeCustomerErp(dir);
  unsynced = configWith('unsynced.yaml', []);
  synced = configWith('synced.yaml', pullCustomersJob());
});

describe('a replicated entity no sync job covers', () => {
  test('config check warns, names the setting, and still exits 0; with a job it does not', () => {
    const r = spawnSync(process.execPath, [CRMLINK_BIN, 'config', 'check', '--config', unsynced], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/warning \[ENTITY_NOT_SYNCED\]: entities\.Customer: Customer is replicated .* no sync job copies it there from erp: it answers 0 rows until a job under sync\.jobs has entity: Customer/);
    const ok = spawnSync(process.execPath, [CRMLINK_BIN, 'config', 'check', '--config', synced], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(ok.stdout).not.toContain('ENTITY_NOT_SYNCED');
  });

  test('the server logs it when it starts', async () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk: Buffer, _enc, done) => (lines.push(chunk.toString()), done()) });
    const app = await openApp(loadConfigFile(unsynced, {}), { logger: createLogger('info', sink) });
    const server = await startServer(app, { port: 0, host: '127.0.0.1' });
    await server.close();
    const warning = lines.map((l) => JSON.parse(l) as { level: number; code?: string; entity?: string; msg: string }).find((l) => l.code === 'ENTITY_NOT_SYNCED');
    expect(warning).toMatchObject({ level: 40, entity: 'Customer' });
    expect(warning?.msg).toContain('answers 0 rows');
  });

  for (const jit of [true, false]) {
    test(`GraphQL adds extensions.warnings to a response reading it (${jit ? 'compiled' : 'standard'} execution), and only then`, async () => {
      const ask = async (app: App, query: string) => {
        const yoga = createYogaApp(app, { logger: false, jit });
        const res = await yoga.fetch('http://x/graphql', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query }) });
        return (await res.json()) as { data: unknown; errors?: unknown; extensions?: { warnings?: { code: string; entity: string; message: string }[] } };
      };
      const app = await openApp(loadConfigFile(unsynced, {}), { logger: silentLogger });
      try {
        const r = await ask(app, '{ customers(first: 5) { totalCount nodes { name } } }');
        expect(r.errors).toBeUndefined();
        expect(r.data).toEqual({ customers: { totalCount: 0, nodes: [] } });
        expect(r.extensions?.warnings).toEqual([{ code: 'ENTITY_NOT_SYNCED', entity: 'Customer', message: expect.stringContaining('no sync job copies it there') }]);
        expect((await ask(app, '{ __typename }')).extensions?.warnings).toBeUndefined();
      } finally {
        await app.close();
      }
      const covered = await openApp(loadConfigFile(synced, {}), { logger: silentLogger });
      try {
        expect((await ask(covered, '{ customers(first: 5) { totalCount } }')).extensions?.warnings).toBeUndefined();
      } finally {
        await covered.close();
      }
    });
  }
});
