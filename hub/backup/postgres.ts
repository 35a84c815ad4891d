/**
 * PostgreSQL hub: pg_dump in its custom format (-Fc), restored with pg_restore. The dump reads an
 * exported snapshot of a REPEATABLE READ transaction that also counts the rows, so the manifest's
 * row counts describe exactly the state in the dump, while sync goes on writing. Credentials go
 * to the tools through PG* environment variables, never on their command line.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Knex } from 'knex';
import { BackupError } from './errors.js';
import type { BackupProgress } from './progress.js';

export interface PgTools {
  pgDump: string;
  pgRestore: string;
}

/** The hub's schema and connection as the PostgreSQL tools need them. */
export interface PgTarget {
  schema: string;
  env: NodeJS.ProcessEnv;
}

export async function pgTarget(knex: Knex): Promise<PgTarget> {
  const res = (await knex.raw('select current_schema() as s')) as { rows: { s: string }[] };
  const schema = res.rows[0]?.s ?? 'public';
  return { schema, env: { ...process.env, ...pgEnv(knex.client.config.connection as unknown) } };
}

function pgEnv(connection: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const set = (k: string, v: unknown) => {
    if (v !== undefined && v !== null && v !== '') out[k] = String(v);
  };
  if (typeof connection === 'string') {
    const u = new URL(connection);
    set('PGHOST', decodeURIComponent(u.hostname));
    set('PGPORT', u.port);
    set('PGUSER', decodeURIComponent(u.username));
    set('PGPASSWORD', decodeURIComponent(u.password));
    set('PGDATABASE', decodeURIComponent(u.pathname.replace(/^\//, '')));
    set('PGSSLMODE', u.searchParams.get('sslmode'));
    return out;
  }
  const c = (connection ?? {}) as { host?: string; port?: number; user?: string; password?: string; database?: string };
  set('PGHOST', c.host);
  set('PGPORT', c.port);
  set('PGUSER', c.user);
  set('PGPASSWORD', c.password);
  set('PGDATABASE', c.database);
  return out;
}

export async function pgTables(knex: Knex | Knex.Transaction, schema: string): Promise<string[]> {
  const res = (await knex.raw("select table_name as t from information_schema.tables where table_schema = ? and table_type = 'BASE TABLE' order by 1", [schema])) as {
    rows: { t: string }[];
  };
  return res.rows.map((r) => r.t);
}

async function pgRowCounts(trx: Knex.Transaction, schema: string): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const t of await pgTables(trx, schema)) {
    const res = (await trx.raw('select count(*)::bigint as n from ??.??', [schema, t])) as { rows: { n: string }[] };
    out[t] = Number(res.rows[0]?.n ?? 0);
  }
  return out;
}

/** Dump the hub's schema to `dest`; returns the row counts of the same snapshot. */
export async function dumpPostgres(knex: Knex, dest: string, tools: PgTools, onProgress?: (p: BackupProgress) => void): Promise<Record<string, number>> {
  const target = await pgTarget(knex);
  const trx = await knex.transaction({ isolationLevel: 'repeatable read' });
  try {
    const snap = (await trx.raw('select pg_export_snapshot() as id')) as { rows: { id: string }[] };
    const rowCounts = await pgRowCounts(trx, target.schema);
    const total = Object.keys(rowCounts).length;
    let done = 0;
    onProgress?.({ phase: 'copy', done, total, unit: 'tables' });
    await runTool(
      tools.pgDump,
      ['--format=custom', '--verbose', `--snapshot=${snap.rows[0]?.id}`, `--schema=${target.schema}`, `--file=${dest}`],
      target.env,
      'hub.backup.pgDump',
      dest,
      (line) => {
        // "pg_dump: dumping contents of table "public.crm_xref""
        if (/dumping contents of table/.test(line)) onProgress?.({ phase: 'copy', done: ++done, total, unit: 'tables' });
      },
    );
    return rowCounts;
  } finally {
    await trx.commit();
  }
}

/**
 * Check a dump without a database: pg_restore reads its table of contents and prints its data as
 * COPY blocks, whose lines are counted per table (COPY text format has one line per row).
 */
export async function inspectPgDump(path: string, tools: PgTools): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  let current: string | null = null;
  await runTool(tools.pgRestore, ['--data-only', '--file=-', path], process.env, 'hub.backup.pgRestore', path, undefined, (line) => {
    if (current === null) {
      const m = /^COPY (?:"?[^".\s]+"?\.)?"?([^"\s(]+)"? \(.*\) FROM stdin;$/.exec(line);
      if (m) {
        current = m[1];
        counts[current] = 0;
      }
    } else if (line === '\\.') current = null;
    else counts[current] = (counts[current] ?? 0) + 1;
  });
  return counts;
}

/** The tables a dump holds (from its table of contents). */
export async function pgDumpTables(path: string, tools: PgTools): Promise<string[]> {
  const tables: string[] = [];
  await runTool(tools.pgRestore, ['--list', path], process.env, 'hub.backup.pgRestore', path, undefined, (line) => {
    // "215; 1259 16390 TABLE public crm_xref postgres"
    const m = /^\d+; \d+ \d+ TABLE \S+ (\S+) /.exec(line);
    if (m) tables.push(m[1]);
  });
  return tables;
}

/**
 * Restore a dump over the hub's schema in one transaction. Tables the dump does not hold (created
 * after the backup) are dropped first, so the hub is exactly the backed-up one.
 */
export async function restorePostgres(knex: Knex, path: string, tools: PgTools): Promise<void> {
  const target = await pgTarget(knex);
  const inDump = new Set(await pgDumpTables(path, tools));
  const extra = (await pgTables(knex, target.schema)).filter((t) => !inDump.has(t));
  for (const t of extra) await knex.raw('drop table if exists ??.?? cascade', [target.schema, t]);
  await runTool(
    tools.pgRestore,
    ['--clean', '--if-exists', '--single-transaction', '--no-owner', '--no-privileges', '--exit-on-error', `--schema=${target.schema}`, `--dbname=${target.env.PGDATABASE ?? ''}`, path],
    target.env,
    'hub.backup.pgRestore',
    path,
  );
}

/** Run a PostgreSQL client tool; a missing program or a failure is a BackupError naming the file. */
function runTool(
  program: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  setting: string,
  file: string,
  onStderrLine?: (line: string) => void,
  onStdoutLine?: (line: string) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env, stdio: ['ignore', onStdoutLine ? 'pipe' : 'ignore', 'pipe'] });
    const errors: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (line) => {
      if (!/^pg_(dump|restore): (dumping|reading|saving|last|identifying|finding|flagging|creating|processing|executing|connecting|implied|dropping|started|finished)/.test(line)) errors.push(line);
      onStderrLine?.(line);
    });
    if (onStdoutLine) createInterface({ input: child.stdout! }).on('line', onStdoutLine);
    child.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        reject(
          new BackupError(
            'NOT_AVAILABLE',
            `${program} was not found, so the PostgreSQL hub cannot be backed up or restored with it (file ${file}). Install the PostgreSQL client tools of the server's version, set ${setting} to the program's path, or use your own PostgreSQL backups (WAL archiving, pgBackRest): see docs/backups.md`,
            { file, setting },
            { cause: err },
          ),
        );
      } else reject(new BackupError('DB_ERROR', `${program} could not start for ${file}: ${err.message}`, { file, setting }, { cause: err }));
    });
    child.on('close', (code, signal) => {
      if (code === 0) resolve();
      else
        reject(
          new BackupError('DB_ERROR', `${program} failed for ${file} (${signal ? `signal ${signal}` : `exit code ${code}`}): ${errors.slice(-5).join(' | ') || 'no message'}`, {
            file,
            setting,
          }),
        );
    });
  });
}
