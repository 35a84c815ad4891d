/**
 * A source password never leaves the process: a `url` that would break on a password holding
 * `/`, `#`, `?` or `@` fails `config check` with a message naming the variable, not its value;
 * errors and log lines are redacted whatever their shape (Node's "Invalid URL" error carries the
 * whole URL in its `input`); and a source that cannot even be opened is reported down on its own
 * while the others still show.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Writable } from 'node:stream';
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../../config/load.js';
import { redact } from '../../core/errors.js';
import { createLogger, redactForLog } from '../../core/logger.js';
import { SERVER_AUTH } from '../graphql/fixture.js';
import { useSecurityServer } from './support.js';
import { configErrorOf } from '../support/config.js';

const PASSWORDS = ['se/cr3t-pass', 'se#cr3t-pass', 'se?cr3t-pass', 'p@ss/w0rd#x?y', '12/ab'];

const withUrl = (url: string) => `
sources:
  fin: { kind: finance, dialect: postgres, connection: { url: "${url}" } }
`;

const configError = configErrorOf;

describe('config check on connection URLs', () => {
  test.each(PASSWORDS)('a password %j interpolated into the user-info is refused without being shown', (password) => {
    const err = configError(withUrl('postgres://svc_reader:${PGPASS}@127.0.0.1:5432/fin'), { PGPASS: password });
    expect(err.message).toContain('sources.fin.connection.url: the value of ${PGPASS} holds / ? # or @');
    expect(err.message).toContain('percent-encode');
    expect(err.message).not.toContain(password);
    expect(JSON.stringify(err.issues)).not.toContain(password);
  });

  test('a whole URL from the environment that does not parse is refused without being shown', () => {
    const url = 'postgres://svc_reader:se/cr#et?pw@127.0.0.1:5432/fin';
    const err = configError(withUrl('${FIN_URL}'), { FIN_URL: url });
    expect(err.message).toContain('sources.fin.connection.url: not a valid URL (the value is not shown');
    expect(err.message).not.toContain('se/cr#et');
  });

  test('percent-encoded passwords, and variables in the host or path, are fine', () => {
    const env = { PGPASS: encodeURIComponent('p@ss/w0rd#x?y'), PGHOST: '127.0.0.1:5432', BASE: 'postgres://u:p@h:5432' };
    expect(parseConfig(withUrl('postgres://svc:${PGPASS}@${PGHOST}/fin'), { env }).config.sources.fin.connection.url).toBe('postgres://svc:p%40ss%2Fw0rd%23x%3Fy@127.0.0.1:5432/fin');
    expect(parseConfig(withUrl('${BASE}/fin'), { env }).config.sources.fin.connection.url).toBe('postgres://u:p@h:5432/fin');
  });

  test('crmlink config check prints the problem and never the password', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'crmlink-cred-'));
    try {
      const file = join(dir, 'crmlink.yaml');
      writeFileSync(file, withUrl('postgres://svc:${PGPASS}@127.0.0.1:5432/fin'));
      const child = spawn(process.execPath, [resolve(import.meta.dirname, '../../bin/crmlink.mjs'), 'config', 'check', '--config', file], {
        env: { ...process.env, PGPASS: 'p@ss/w0rd#x?y' },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr.on('data', (d: Buffer) => (output += d.toString()));
      const code = await new Promise<number | null>((r) => child.on('exit', r));
      expect(code).toBe(2);
      expect(output).toContain('${PGPASS}');
      expect(output).not.toContain('w0rd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('redaction', () => {
  test.each(PASSWORDS)('a URL password %j is removed whole from text', (password) => {
    const text = `connect to postgres://svc_reader:${password}@db.internal:5432/fin failed`;
    const out = redact(text);
    expect(out).toBe('connect to postgres://svc_reader:***@db.internal:5432/fin failed');
  });

  test('key=value secrets and JSON password fields are removed', () => {
    expect(redact('Server=db;User Id=sa;Password=Sup3r/Secret;')).not.toContain('Sup3r');
    expect(redact('{"user":"sa","password":"Sup3r/Secret"}')).not.toContain('Sup3r');
  });

  test("an error's own fields (Node's Invalid URL `input`) and nested causes are redacted for the log", () => {
    let invalid: unknown;
    try {
      new URL('postgres://svc:se/cr#et?pw@127.0.0.1/fin');
    } catch (err) {
      invalid = err;
    }
    const wrapped = new Error('could not open', { cause: invalid });
    const out = JSON.stringify(redactForLog({ err: wrapped, error: invalid, url: 'mysql://root:p@ss@h/db' }));
    expect(out).not.toMatch(/se\/cr|#et|p@ss/);
    expect(out).toContain('ERR_INVALID_URL');
  });
});

describe('a source that cannot be opened, on a running server', () => {
  const PASSWORD = 'se/cr#et?pw-ledger';
  const ADMIN = { 'x-api-key': 'admin-key-0123456789' };
  let log = '';
  const s = useSecurityServer({
    customers: 1,
    server: SERVER_AUTH,
    sources: '  ledger: { kind: finance, dialect: postgres, connection: { url: "postgres://svc_reader:x@127.0.0.1:1/ledger" } }',
    beforeStart: (f) => {
      // What a config that skipped config check would hold: the password breaks the URL.
      f.app.config.sources.ledger.connection.url = `postgres://svc_reader:${PASSWORD}@127.0.0.1:1/ledger`;
      f.app.logger = createLogger('debug', new Writable({ write: (chunk: Buffer, _enc, cb) => ((log += chunk.toString()), cb()) }));
    },
  });

  test('the sources list still shows every source; the bad one is down, with a message naming the setting', async () => {
    const r = await s.gql('{ sources { name dialect health { ok error } } }', {}, ADMIN);
    expect(r.errors).toBeUndefined();
    const byName = Object.fromEntries((r.data.sources as { name: string; health: { ok: boolean; error: string | null } }[]).map((x) => [x.name, x.health]));
    expect(Object.keys(byName).sort()).toEqual(['erp', 'finance', 'ledger', 'oa']);
    expect(byName.erp.ok).toBe(true);
    expect(byName.ledger.ok).toBe(false);
    expect(byName.ledger.error).toContain('sources.ledger.connection.url is not a valid URL');
    expect(JSON.stringify(r)).not.toContain('se/cr');
  });

  test('testSource, the readiness report and the log never show the password', async () => {
    const t = await s.gql('mutation { testSource(name: "ledger") { ok error } }', {}, ADMIN);
    expect(t.data.testSource.ok).toBe(false);
    const ready = await (await s.fetch('/readyz', { headers: ADMIN })).text();
    expect(JSON.parse(ready).sources.ledger.ok).toBe(false);
    expect(log).toMatch(/"level":20/); // the server did log these requests (debug)
    for (const text of [JSON.stringify(t), ready, log]) {
      expect(text).not.toContain('se/cr');
      expect(text).not.toContain('et?pw');
    }
  });
});
