import { describe, expect, test, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { main } from '../../cli/main.js';
import { defaultContext, type CliContext } from '../../cli/context.js';
import { configReferenceMarkdown } from '../../config/docs.js';

const run = promisify(execFile);
const BIN = resolve(import.meta.dirname, '../../bin/crmlink.mjs');

function capture(): { ctx: CliContext; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { ctx: { ...defaultContext(), out: (t) => out.push(t), err: (t) => err.push(t) }, out, err };
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'crmlink-cli-'));
  writeFileSync(
    join(dir, 'good.yaml'),
    `sources:\n  erp:\n    kind: erp\n    dialect: sqlite\n    connection: { filename: ./erp.db }\n`,
  );
  writeFileSync(join(dir, 'bad.yaml'), `sources:\n  erp:\n    kind: erp\n    dialect: oracle\n    connection: {}\n`);
  writeFileSync(join(dir, 'env.yaml'), `sources:\n  erp:\n    kind: erp\n    dialect: postgres\n    connection: { password: "\${CRMLINK_TEST_UNSET_PW}" }\n`);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('crmlink CLI exit codes (in process)', () => {
  test.each([
    ['config check on a good file exits 0 and summarises it', 'good.yaml', 0, 'out', 'erp (sqlite, erp)'],
    ['config check on a bad file exits 2 and names path and line', 'bad.yaml', 2, 'err', 'sources.erp.dialect: expected one of mssql|postgres|mysql|sqlite (line 4)'],
    ['a missing environment variable exits 2 and names it', 'env.yaml', 2, 'err', 'environment variable CRMLINK_TEST_UNSET_PW is not set'],
    ['a missing config file exits 2', 'nope.yaml', 2, 'err', 'config file not found'],
  ] as const)('%s', async (_title, file, code, stream, says) => {
    const c = capture();
    expect(await main(['node', 'crmlink', 'config', 'check', '--config', join(dir, file)], c.ctx)).toBe(code);
    expect(c[stream].join('\n')).toContain(says);
  });

  test('an unknown command exits 2', async () => {
    const c = capture();
    expect(await main(['node', 'crmlink', 'frobnicate'], c.ctx)).toBe(2);
  });

  test('config docs prints the reference that docs/config.md holds', async () => {
    const c = capture();
    expect(await main(['node', 'crmlink', 'config', 'docs'], c.ctx)).toBe(0);
    const committed = readFileSync(resolve(import.meta.dirname, '../../docs/config.md'), 'utf8');
    // Regenerate with: node bin/crmlink.mjs config docs > docs/config.md
    expect(committed.trim()).toBe(configReferenceMarkdown().trim());
  });
});

describe('crmlink binary', () => {
  const commands = [[], ['config'], ['config', 'check'], ['serve'], ['demo'], ['sync'], ['sync', 'run'], ['sources'], ['mapping'], ['conflicts'], ['customers'], ['schema'], ['schema', 'print']];

  test('--help on every command exits 0 and shows its usage', async () => {
    for (const args of commands) {
      const c = capture();
      expect(await main(['node', 'crmlink', ...args, '--help'], c.ctx), args.join(' ')).toBe(0);
      expect(c.out.join('\n'), args.join(' ')).toContain(`Usage: crmlink ${args.join(' ')}`.trim());
    }
  });

  test('the real binary answers --help', async () => {
    // One process per command would be eleven process start-ups for what the in-process test shows.
    const { stdout } = await run(process.execPath, [BIN, 'sync', 'run', '--help']);
    expect(stdout).toContain('Usage: crmlink sync run');
  });

  test('a bad config exits 2 through the real binary', async () => {
    const err = await run(process.execPath, [BIN, 'config', 'check', '--config', join(dir, 'bad.yaml')]).catch((e: { code: number; stderr: string }) => e);
    expect((err as { code: number }).code).toBe(2);
    expect((err as { stderr: string }).stderr).toContain('sources.erp.dialect');
  });
});
