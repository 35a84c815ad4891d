/**
 * A failed command reads as one line, not a stack trace: through the real binary, a sync run
 * against a misspelled column prints what failed with its job, source and table, what to do and
 * how to get the details; --verbose prints the JSON log with the stack; --log-format json keeps
 * the JSON log for machines (and `serve` writes JSON by default: tests/cli/serve.test.ts).
 */
import { beforeAll, describe, expect, test } from 'vitest';
import { spawnSync } from 'node:child_process';
import { CRMLINK_BIN, customerConfig, pullCustomersJob, tempDirForTests, writeConfig, writeCustomerErp } from '../support/cli.js';

const dir = tempDirForTests('failure-output');
// The mapping names a column the ERP does not have: cCusNam, misspelt.
const config = writeConfig(dir, customerConfig({ fields: 'code: cCusCode, name: cCusNam', rest: pullCustomersJob() }));

beforeAll(async () => {
  await writeCustomerErp(dir);
});

function run(...args: string[]) {
  const env = { ...process.env };
  delete env.CRMLINK_LOG_LEVEL;
  return spawnSync(process.execPath, [CRMLINK_BIN, ...args], { encoding: 'utf8', env });
}

describe('a failed sync run on the command line', () => {
  test('one readable line: what failed, where, what to do, and how to see the details', () => {
    const r = run('sync', 'run', 'customers', '--config', config);
    expect(r.status).toBe(1);
    expect(r.stderr).not.toContain('"level"');
    expect(r.stderr).not.toMatch(/^\s+at /m);
    expect(r.stderr).not.toContain('select `');
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errors).toEqual([
      'error: sync run failed (job customers, source erp, table Customer): source "erp": Customer has no column cCusNam (dropped, or misspelt in the mapping; select: no such column: cCusNam): restore the column in the source, or remove it from the mapping (entities.<entity>.sources.erp.fields); rows read so far are kept and the run resumes from its last checkpoint [SCHEMA_CHANGED]',
    ]);
    expect(r.stderr).toContain('  what to do: check the tables and columns mapped for source erp (entities.<Entity>.sources.erp) against the database: crmlink sources introspect erp\n');
    expect(r.stderr).toContain('  details: run again with --verbose\n');
  });

  test('--verbose: the JSON log, with the stack and the SQL', () => {
    const r = run('sync', 'run', 'customers', '--config', config, '--verbose');
    expect(r.status).toBe(1);
    const records = r.stderr.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { msg: string; err?: { stack?: string; context?: { sql?: string } } });
    const failed = records.find((x) => x.err);
    expect(failed?.msg).toBe('sync run failed');
    expect(failed?.err?.stack).toContain('SchemaError');
    expect(failed?.err?.context?.sql).toContain('cCusNam');
  });

  test('--log-format json: JSON lines only, for machines', () => {
    const r = run('--log-format', 'json', 'sync', 'run', 'customers', '--config', config);
    expect(r.status).toBe(1);
    const lines = r.stderr.split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeGreaterThan(0);
    for (const l of lines) expect(() => JSON.parse(l)).not.toThrow();
  });
});
