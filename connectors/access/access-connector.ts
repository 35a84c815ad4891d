/**
 * Microsoft Access files (.mdb from Access 97, .accdb up to 2016) through mdb-reader, which reads
 * them in pure JavaScript, with their password or encryption, and cannot write them: an Access
 * source is read-only (capabilities.write false), and a write names the source and the reason.
 *
 * The password comes from `connection.password`, written as `${VAR}` (from the environment).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import type MDBReader from 'mdb-reader';
import { CrmlinkError } from '../../core/errors.js';
import type { SourceConfig } from '../../config/schema.js';
import { ownValue } from '../../core/own.js';
import type { Row, TableInfo } from '../driver.js';
import { FileConnector, type LoadedTable, type ParsedFile } from '../files/file-connector.js';
import { ACCESS_TYPES, accessColumnInfo, accessValue } from './access-types.js';

/** Header byte 0x14: the engine version that wrote the file. */
const VERSIONS: Record<number, string> = {
  0: 'Access 97 (Jet 3)',
  1: 'Access 2000-2003 (Jet 4)',
  2: 'Access 2007 (ACE 12)',
  3: 'Access 2010 (ACE 14)',
  4: 'Access 2013 (ACE 15)',
  5: 'Access 2016 (ACE 16)',
};

export class AccessConnector extends FileConnector {
  constructor(name: string, source: SourceConfig, baseDir: string) {
    super(name, 'access', source, baseDir, false);
  }

  protected override readOnlyReason(): string {
    return 'Access files are read with mdb-reader, which cannot write them';
  }

  /**
   * The lock file Access keeps beside a database it has open: `name.laccdb` for .accdb, `name.ldb`
   * for .mdb. It is removed when the last user closes the file (and left behind after a crash).
   */
  accessLockFile(): string {
    const ext = extname(this.file);
    return join(dirname(this.file), `${basename(this.file, ext)}${ext.toLowerCase() === '.mdb' ? '.ldb' : '.laccdb'}`);
  }

  /**
   * A file that does not parse. While Access has it open (its lock file is present) the bytes read
   * may be a write in progress: LOCKED, which the sync retries on its next run, rather than
   * reporting a damaged file.
   */
  private unreadable(message: string, context: Record<string, unknown>, cause: unknown): CrmlinkError {
    const lock = this.accessLockFile();
    if (existsSync(lock)) {
      return this.fileError('LOCKED', `the file is open in Access (lock file ${basename(lock)}) and could not be read, probably mid-write: it is read again on the next run; if Access is closed, delete the stale lock file (${message})`, { ...context, lockFile: lock }, cause);
    }
    return this.fileError('SOURCE_DATABASE_UNKNOWN', message, context, cause);
  }

  protected async parse(content: Buffer): Promise<ParsedFile> {
    const signature = content.subarray(4, 19).toString('latin1');
    if (signature !== 'Standard Jet DB' && signature !== 'Standard ACE DB') {
      throw this.fileError('SOURCE_DATABASE_UNKNOWN', 'is not an Access database (.mdb/.accdb): its header is not a Jet or ACE one');
    }
    const versionByte = content[0x14];
    const version = VERSIONS[versionByte] ?? `Access (engine version ${versionByte})`;
    const password = this.source.connection.password;
    const passwordSetting = `sources.${this.name}.connection.password`;
    let reader: MDBReader;
    let names: string[];
    try {
      // mdb-reader (and its XML parser) loads with the first Access file, not with crmlink.
      const { default: Reader } = await import('mdb-reader');
      reader = new Reader(content, { password });
      names = reader.getTableNames();
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      if (/password/i.test(message)) {
        throw this.fileError(
          'SOURCE_AUTH_FAILED',
          password ? `wrong password for the Access file: check ${passwordSetting}` : `the Access file is password-protected or encrypted: set ${passwordSetting}: \${VAR} (the password from the environment)`,
          { setting: passwordSetting },
          err,
        );
      }
      throw this.unreadable(`the Access file is damaged or truncated (${message})`, {}, err);
    }
    // Jet 4 passwords are only obfuscated in the header, so mdb-reader opens the file anyway: check it here.
    const stored = versionByte <= 1 ? reader.getPassword() : null;
    if (stored && stored !== password) {
      throw this.fileError(
        'SOURCE_AUTH_FAILED',
        password ? `wrong password for the Access file: check ${passwordSetting}` : `the Access file is password-protected: set ${passwordSetting}: \${VAR} (the password from the environment)`,
        { setting: passwordSetting },
      );
    }
    const jet3 = versionByte === 0;
    const tables = new Map<string, LoadedTable>();
    for (const name of names) {
      try {
        tables.set(name, this.readTable(reader, name, jet3));
      } catch (err) {
        throw this.unreadable(`table "${name}" cannot be read: the file is damaged or truncated (${err instanceof Error ? err.message : String(err)})`, { table: name }, err);
      }
    }
    return { tables, description: `${version}, ${tables.size} table${tables.size === 1 ? '' : 's'}` };
  }

  private readTable(reader: MDBReader, name: string, jet3: boolean): LoadedTable {
    const table = reader.getTable(name);
    const all = table.getColumns();
    const kept = all.filter((c) => ACCESS_TYPES[c.type] !== null);
    const notices = all
      .filter((c) => ACCESS_TYPES[c.type] === null)
      .map((c) => `column "${c.name}" (${c.type === 'complex' ? 'attachment' : c.type}) skipped: binary data has no CRM field`);
    const declaredKey = ownValue(this.source.file?.tables ?? {}, name)?.key;
    // Without a declared key, a lone AutoNumber column is the key Access tables almost always have.
    const auto = kept.filter((c) => c.autoLong);
    const primaryKey = declaredKey ?? (auto.length === 1 ? [auto[0].name] : []);
    const info: TableInfo = {
      schema: null,
      name,
      columns: kept.map((c) => accessColumnInfo(c, jet3)),
      primaryKey,
      uniqueKeys: [],
      comment: null,
      ...(notices.length ? { notices } : {}),
    };
    const rows: Row[] = table.getData({ columns: kept.map((c) => c.name) }).map((raw) => {
      const row: Row = {};
      for (const c of kept) row[c.name] = accessValue(c.type, raw[c.name] ?? null);
      return row;
    });
    return { info, rows };
  }
}
