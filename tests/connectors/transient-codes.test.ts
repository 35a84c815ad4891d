/**
 * Every fault each engine (and Node's sockets) reports that may pass on a second try is classed
 * `transient`, so the driver raises DB_TRANSIENT and the sync retries the batch instead of parking
 * the rows as bad data. The codes are written out here, not imported: dropping one from a dialect
 * must fail a test (a PostgreSQL statement timeout once parked rows instead of retrying them).
 */
import { describe, expect, it } from 'vitest';
import { adapterFor } from '../../connectors/registry.js';

const pg = adapterFor('postgres');
const mysql = adapterFor('mysql');
const sqlite = adapterFor('sqlite');
const mssql = adapterFor('mssql');

/** Node's socket errors every driver passes through: a dropped connection is worth another try. */
const NODE_TRANSIENT = ['ECONNRESET', 'EPIPE', 'ECONNABORTED'];

describe('PostgreSQL transient SQLSTATEs', () => {
  it.each([
    ['40001', 'serialization failure'],
    ['40P01', 'deadlock detected'],
    ['55P03', 'lock not available'],
    ['57014', 'canceling statement due to statement timeout'],
    ['57P01', 'terminating connection due to administrator command'],
    ['57P02', 'crash shutdown'],
    ['57P03', 'the database system is starting up'],
    ['53300', 'too many connections'],
    ['08000', 'connection exception'],
    ['08001', 'could not connect'],
    ['08003', 'connection does not exist'],
    ['08006', 'connection failure'],
  ])('%s (%s) is transient', (code, message) => {
    expect(pg.classifyError(Object.assign(new Error(message), { code }))).toBe('transient');
  });

  it.each(NODE_TRANSIENT)('%s from the socket is transient', (code) => {
    expect(pg.classifyError(Object.assign(new Error(`read ${code}`), { code }))).toBe('transient');
  });

  it.each(['Connection terminated unexpectedly', 'Client has encountered a connection error and is not queryable', 'Knex: Timeout acquiring a connection'])(
    'a driver message "%s" is transient',
    (message) => expect(pg.classifyError(new Error(message))).toBe('transient'),
  );

  it.each([
    ['23505', 'constraint'],
    ['22001', 'constraint'],
    ['42P01', 'other'],
    ['28P01', 'auth'],
    ['3D000', 'database-unknown'],
  ])('%s is not transient (%s)', (code, expected) => {
    expect(pg.classifyError(Object.assign(new Error('x'), { code }))).toBe(expected);
  });
});

describe('MariaDB / MySQL transient errors', () => {
  it.each([
    [1213, 'ER_LOCK_DEADLOCK'],
    [1205, 'ER_LOCK_WAIT_TIMEOUT'],
    [1927, 'ER_CONNECTION_KILLED'],
    [1969, 'ER_STATEMENT_TIMEOUT'],
    [2013, 'CR_SERVER_LOST'],
    [2006, 'CR_SERVER_GONE_ERROR'],
    [1040, 'ER_CON_COUNT_ERROR'],
    [1053, 'ER_SERVER_SHUTDOWN'],
    [3024, 'ER_QUERY_TIMEOUT'],
    [1317, 'ER_QUERY_INTERRUPTED'],
  ])('errno %s (%s) is transient', (errno, name) => {
    expect(mysql.classifyError(Object.assign(new Error(name), { errno }))).toBe('transient');
  });

  it.each(['ER_LOCK_DEADLOCK', 'ER_STATEMENT_TIMEOUT', 'ER_LOCK_WAIT_TIMEOUT', 'PROTOCOL_CONNECTION_LOST', 'ER_CONNECTION_KILLED', 'ER_QUERY_INTERRUPTED', 'PROTOCOL_SEQUENCE_TIMEOUT', ...NODE_TRANSIENT])(
    'code %s (no errno) is transient',
    (code) => expect(mysql.classifyError(Object.assign(new Error(code), { code }))).toBe('transient'),
  );

  it.each(['Connection lost: The server closed the connection.', "Can't add new command when connection is in closed state", 'Knex: Timeout acquiring a connection'])(
    'a driver message "%s" is transient',
    (message) => expect(mysql.classifyError(new Error(message))).toBe('transient'),
  );

  it.each([
    [1062, 'constraint'],
    [1146, 'other'],
    [1045, 'auth'],
  ])('errno %s is not transient (%s)', (errno, expected) => {
    expect(mysql.classifyError(Object.assign(new Error('x'), { errno }))).toBe(expected);
  });
});

describe('SQLite transient errors', () => {
  it.each(['SQLITE_BUSY', 'SQLITE_LOCKED', 'SQLITE_BUSY_SNAPSHOT', 'SQLITE_BUSY_RECOVERY', 'SQLITE_BUSY_TIMEOUT'])('%s is transient', (code) => {
    expect(sqlite.classifyError(Object.assign(new Error('database is locked'), { code }))).toBe('transient');
  });

  it.each([
    ['SQLITE_CONSTRAINT_UNIQUE', 'constraint'],
    ['SQLITE_ERROR', 'other'],
    ['SQLITE_CANTOPEN', 'database-unknown'],
  ])('%s is not transient (%s)', (code, expected) => {
    expect(sqlite.classifyError(Object.assign(new Error('x'), { code }))).toBe(expected);
  });
});

describe('SQL Server transient errors', () => {
  it.each([
    [1205, 'deadlock victim'],
    [1222, 'lock request time out'],
    [-2, 'timeout expired'],
    [40613, 'database not currently available (Azure)'],
    [40501, 'service is busy (Azure)'],
    [40197, 'error processing the request (Azure)'],
    [49918, 'not enough resources (Azure)'],
    [4221, 'login to read-secondary failed (redo in progress)'],
  ])('number %s (%s) is transient', (number, message) => {
    expect(mssql.classifyError({ number, message })).toBe('transient');
  });

  it.each(['ETIMEOUT', 'ESOCKET', 'ECONNCLOSED', ...NODE_TRANSIENT])('code %s is transient', (code) => {
    expect(mssql.classifyError({ code, message: 'connection dropped' })).toBe('transient');
  });

  it.each([
    [2627, 'constraint'],
    [208, 'other'],
  ])('number %s is not transient (%s)', (number, expected) => {
    expect(mssql.classifyError({ number, message: 'x' })).toBe(expected);
  });
});
