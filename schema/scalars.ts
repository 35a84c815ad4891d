/**
 * Custom scalars. Decimal travels as a string so money is exact end to end ("12345678901234.56"
 * would lose digits as a JSON number); Date is YYYY-MM-DD; DateTime is ISO-8601 UTC.
 */
import { GraphQLScalarType, Kind, type ValueNode } from './graphql-runtime.js';
import { isPlainDecimal, normalizeDecimal } from '../model/decimal.js';
import { CrmlinkError } from '../core/errors.js';
import { describeValue } from '../model/validation.js';

function bad(type: string, value: unknown, hint: string): CrmlinkError {
  return new CrmlinkError('VALIDATION_FAILED', `${type}: ${describeValue(value)} is not valid (${hint})`);
}

function parseDecimal(v: unknown): string {
  if (typeof v === 'number' && Number.isFinite(v)) return normalizeDecimal(v);
  if (typeof v === 'number') throw bad('Decimal', String(v), 'expected a finite number');
  if (typeof v !== 'string') throw bad('Decimal', v, 'expected a string such as "1234.56"');
  if (!isPlainDecimal(v)) throw bad('Decimal', v, 'expected a plain decimal such as "1234.56"');
  return normalizeDecimal(v);
}

export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'An exact decimal number, serialised as a string in plain notation ("1234.56").',
  serialize: (v) => (v === null || v === undefined ? null : typeof v === 'string' ? v : parseDecimal(v)),
  parseValue: parseDecimal,
  parseLiteral: (ast: ValueNode) => {
    if (ast.kind === Kind.STRING || ast.kind === Kind.INT || ast.kind === Kind.FLOAT) return parseDecimal(ast.kind === Kind.STRING ? ast.value : ast.value);
    throw bad('Decimal', ast.kind, 'expected a string');
  },
});

const DATE = /^\d{4}-\d{2}-\d{2}$/;
function parseDate(v: unknown): string {
  if (typeof v !== 'string' || !DATE.test(v) || Number.isNaN(Date.parse(`${v}T00:00:00Z`))) throw bad('Date', v, 'expected YYYY-MM-DD');
  return v;
}

export const DateScalar = new GraphQLScalarType({
  name: 'Date',
  description: 'A calendar date, YYYY-MM-DD.',
  serialize: (v) => (v instanceof Date ? v.toISOString().slice(0, 10) : v),
  parseValue: parseDate,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw bad('Date', ast.kind, 'expected a string');
    return parseDate(ast.value);
  },
});

function parseDateTime(v: unknown): string {
  if (typeof v !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(v)) throw bad('DateTime', v, 'expected ISO-8601 such as 2024-01-02T03:04:05Z');
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw bad('DateTime', v, 'expected ISO-8601 such as 2024-01-02T03:04:05Z');
  return new Date(t).toISOString();
}

export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An instant, ISO-8601 in UTC ("2024-01-02T03:04:05.000Z").',
  serialize: (v) => (v instanceof Date ? v.toISOString() : v),
  parseValue: parseDateTime,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw bad('DateTime', ast.kind, 'expected a string');
    return parseDateTime(ast.value);
  },
});
